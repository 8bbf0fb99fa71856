"""`gradstep export FILE -o pass.gif` (.apng, .webp) and `--frames DIR`: one frame per step of
the pass (counted from its timeline), every frame the same size, the gradients torch
computed written on the edges."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.autograd.step_state import PassHistory, drawn_calls
from gradstep.cli import main
from gradstep.examples import EXAMPLES_DIR as EXAMPLES
from tests.step_oracle import printed

Image = pytest.importorskip("PIL.Image")


def steps_of(lesson: str, pass_number: int = 1) -> int:
    """Return how many steps the lesson's pass has, from its own timeline."""
    path = EXAMPLES / f"{lesson}.py"
    result = Session().run(path.read_text(encoding="utf-8"), filename=str(path))
    return len(result["calls"][pass_number - 1]["timeline"]["steps"])


def frames_of(path) -> list:
    with Image.open(path) as image:
        out = []
        for i in range(image.n_frames):
            image.seek(i)
            image.load()  # WebP reads a frame's duration when it loads it
            out.append((image.size, image.info.get("duration"), image.convert("RGB").copy()))
        return out


@pytest.mark.parametrize("suffix", [".gif", ".apng", ".webp"])
def test_animation_has_one_frame_per_step_all_the_same_size(tmp_path, in_process, suffix):
    out = tmp_path / f"pass{suffix}"
    assert main(["export", str(EXAMPLES / "mse_backward.py"), "-o", str(out), "--scale", "1",
                 "--delay", "500"]) == 0
    frames = frames_of(out)
    assert len(frames) == steps_of("mse_backward") + 1  # before the first step, then after each
    assert len({size for size, _, _ in frames}) == 1
    assert [d for _, d, _ in frames] == [500] * (len(frames) - 1) + [1500]  # the end is held
    pictures = [p.tobytes() for _, _, p in frames]
    assert all(a != b for a, b in zip(pictures, pictures[1:]))  # every step changes the picture


def test_frames_carry_torchs_gradients_on_the_edges():
    """StepFrames writes on each edge, from the step it flowed on, what torch computed."""
    from gradstep.qt_step_frames import StepFrames

    path = EXAMPLES / "mse_backward.py"
    result = Session().run(path.read_text(encoding="utf-8"), filename=str(path))
    graph = graph_from_json(result["trace"])
    history = PassHistory(graph, [c["timeline"] for c in drawn_calls(result["calls"], graph)])
    frames = StepFrames(graph, history, 0, scale=1.0)
    x, w = torch.ones(1), torch.full([1], 2.0, requires_grad=True)
    y = x * w
    y.retain_grad()
    F.mse_loss(torch.ones(1), y).backward()
    first, last = frames._drawings[0]["labels"], frames._drawings[-1]["labels"]
    assert first == {}  # nothing has flowed before the first step
    assert sorted(last.values()) == sorted([printed(y.grad), printed(w.grad)])
    images = list(frames.frames())
    assert len(images) == frames.count == len(history.index(0).steps) + 1
    assert {(i.width(), i.height()) for i in images} == {frames.size}



def test_frames_too_big_name_the_largest_scale_that_fits(monkeypatch):
    """The refusal said only "lower --scale"; it names a scale now, as the PNG's does: the
    frames at that scale are made and within the limit, and a tenth larger is refused."""
    import re

    from gradstep import i18n, qt_step_frames
    from gradstep.drawing.formats import ExportError
    from gradstep.qt_step_frames import StepFrames

    path = EXAMPLES / "mse_backward.py"
    result = Session().run(path.read_text(encoding="utf-8"), filename=str(path))
    graph = graph_from_json(result["trace"])
    history = PassHistory(graph, [c["timeline"] for c in drawn_calls(result["calls"], graph)])
    monkeypatch.setattr(qt_step_frames, "MAX_PIXELS", 200_000)
    with pytest.raises(ExportError) as refused:
        StepFrames(graph, history, 0, scale=4.0)
    found = re.search(r"pixels \(over 0 million\): use --scale ([0-9.e-]+) or lower",
                      str(refused.value))
    assert found, str(refused.value)
    with i18n.using("zh_CN"):
        assert f"请使用 --scale {found.group(1)} 或更小的值" in i18n.render(refused.value.message)
    fits = float(found.group(1))
    width, height = StepFrames(graph, history, 0, scale=fits).size
    assert 0.9 * 200_000 < width * height <= 200_000
    with pytest.raises(ExportError, match="each frame would be"):
        StepFrames(graph, history, 0, scale=fits * 1.1)

def test_frames_pngs_keep_one_size(tmp_path, in_process):
    """The edge labels that appear during the pass no longer widen the later frames."""
    folder = tmp_path / "frames"
    assert main(["export", str(EXAMPLES / "softmax_jacobian.py"), "-o", str(tmp_path / "g.png"),
                 "--frames", str(folder), "--scale", "1"]) == 0
    sizes = set()
    for png in sorted(folder.glob("step_*.png")):
        with Image.open(png) as image:
            sizes.add(image.size)
    assert len(list(folder.glob("step_*.png"))) == steps_of("softmax_jacobian") + 1
    assert len(sizes) == 1


def test_step_with_an_animation_is_usage(tmp_path, in_process, capsys):
    assert main(["export", str(EXAMPLES / "mse_backward.py"), "-o", str(tmp_path / "p.gif"),
                 "--step", "1"]) == 2
    assert "every step" in capsys.readouterr().err


def test_animation_in_a_kernel_process(tmp_path, capsys):
    """As typed, with the snippet in a kernel process: the report names frames and size."""
    out = tmp_path / "pass.gif"
    assert main(["export", str(EXAMPLES / "softmax_jacobian.py"), "-o", str(out),
                 "--pass", "2"]) == 0
    assert f"{steps_of('softmax_jacobian', 2) + 1} frames" in capsys.readouterr().err
    assert len(frames_of(out)) == steps_of("softmax_jacobian", 2) + 1


def test_a_caption_names_a_node_as_its_box_does():
    """The caption named torch's own op names as if they were the snippet's (the CIFAR CNN:
    ``▶ TBackward0 (t) runs``, ``AddmmBackward0 (addmm)``, ``ViewBackward0 (view)``), which
    their boxes leave out; a label of the snippet's own (``outputs``, ``p[1]``) stays."""
    from types import SimpleNamespace

    import networkx as nx

    from gradstep.drawing.step_caption import caption_lines

    graph = nx.MultiDiGraph()
    graph.add_node("a", kind="op", name="AddmmBackward0", label="outputs")
    graph.add_node("b", kind="op", name="AddmmBackward0", label="addmm")
    graph.add_node("c", kind="op", name="TBackward0", label="t")
    graph.add_node("d", kind="op", name="MaxPool2DWithIndicesBackward0",
                   label="max_pool2d_with_indices")
    graph.add_node("e", kind="op", name="SelectBackward0", label="p[1]")
    index = SimpleNamespace(count=5, steps=[{"node": n} for n in "abcde"])
    heads = [caption_lines(graph, index, k)[0] for k in range(5)]
    assert heads == ["Step 1 of 5: ▶ AddmmBackward0 (outputs) runs",
                     "Step 2 of 5: ▶ AddmmBackward0 runs", "Step 3 of 5: ▶ TBackward0 runs",
                     "Step 4 of 5: ▶ MaxPool2DWithIndicesBackward0 runs",
                     "Step 5 of 5: ▶ SelectBackward0 (p[1]) runs"]
