"""`gradstep export FILE -o OUT.json --pass P --step K` at every step of every lesson, against torch.

The command runs as typed (``gradstep.cli.main``) with its session in this process (the
kernel process is tested in tests/test_cli_export.py); the JSON it writes must hold,
per node, the ``state`` and, per saved entry, ``freed`` as torch had them after K
steps of the snippet's P-th call, the gradient on each edge and each leaf's ``.grad``
(tests/step_oracle.py runs the same file with plain torch and hooks).
"""

from __future__ import annotations

import json

import pytest

from gradstep.autograd.session import Session
from gradstep.cli import main
from gradstep.examples import EXAMPLES
from tests.step_oracle import assert_matches, drawn_ids, expected_state, oracle_run

LESSONS = [e for e in EXAMPLES if e.id != "cifar_cnn"]  # the CNN is stepped in test_step_state


pytestmark = pytest.mark.usefixtures("in_process")  # (tests/conftest.py)


def exported(tmp_path, path, *options) -> tuple[int, dict]:
    out = tmp_path / "g.json"
    status = main(["export", str(path), "-o", str(out), *options])
    return status, json.loads(out.read_text(encoding="utf-8"))


def shown_in(data: dict) -> dict:
    freed = {}
    for node in data["nodes"]:
        tensors = [s for s in node.get("saved") or [] if "freed" in s and "value" not in s]
        if tensors:
            freed[node["id"]] = any(s["freed"] for s in tensors)
    edges = {(e["source"], e["target"], e["slot"]): e["grad"] for e in data["edges"]
             if e.get("grad") is not None}
    return {"node_states": {n["id"]: n["state"] for n in data["nodes"]}, "freed": freed,
            "edge_grads": edges, "leaf_grads": data["step_state"]["leaf_grads"]}


@pytest.mark.slow
@pytest.mark.parametrize("example", LESSONS, ids=[e.id for e in LESSONS])
def test_json_at_every_pass_and_step_is_what_torch_had(tmp_path, example):
    source = example.path.read_text(encoding="utf-8")
    result = Session().run(source, filename=str(example.path))
    oracle = oracle_run(source, str(example.path))
    if result["trace"] is None:  # no graph was built: nothing is written, exit 1
        assert main(["export", str(example.path), "-o", str(tmp_path / "g.json")]) == 1
        assert not (tmp_path / "g.json").exists()
        return
    ids = drawn_ids(oracle, result["trace"], result["root_name"])
    labels = {n["id"]: n["label"] for n in result["trace"]["nodes"] if n["kind"] == "leaf"}
    calls = [c for c in result["calls"] if c.get("api") != "skipped"]
    for number, call in enumerate(calls, start=1):
        if not call.get("drawn"):
            status, _ = main(["export", str(example.path), "-o", str(tmp_path / "x.json"),
                              "--pass", str(number), "--step", "0"]), None
            assert status == 2  # another graph than the one drawn: refused, saying why
            continue
        torch_call = oracle.calls[call["index"]]
        count = len(call["timeline"]["steps"])
        for k in range(count + 1):
            status, data = exported(tmp_path, example.path, "--pass", str(number), "--step", str(k))
            assert status == (0 if result["ok"] else 1)
            expected = expected_state(torch_call, k, ids, labels)
            assert_matches(shown_in(data), expected, f"{example.id} --pass {number} --step {k}")
            assert data["step_state"]["step"] == k
        assert main(["export", str(example.path), "-o", str(tmp_path / "past.json"), "--pass",
                     str(number), "--step", str(count + 1)]) == 2  # one past the end: refused


def test_a_failing_lesson_exports_its_graph_stopped_where_torch_raised(tmp_path, capsys):
    example = next(e for e in EXAMPLES if e.id == "retain_graph_error")
    status, data = exported(tmp_path, example.path)
    assert status == 1
    err = capsys.readouterr().err
    assert "backward through the graph a second time" in err and "retain_graph=True" in err
    states = {n["name"]: n["state"] for n in data["nodes"] if n["state"] == "error"}
    assert states == {"SoftmaxBackward0": "error"}
    softmax = next(n for n in data["nodes"] if n["name"] == "SoftmaxBackward0")
    assert [s["freed"] for s in softmax["saved"] if "freed" in s] == [True]
    assert data["step_state"]["pass"] == 2


def test_a_pass_whose_error_the_snippet_caught_exports_and_exits_0(tmp_path, capsys):
    """The snippet catches its second ``y.backward()``'s error and goes on (python exits 0):
    ``--pass 2`` drew that pass stopped where torch raised, then exited 1, "the snippet
    failed". It explains the error, says the snippet caught it, and exits 0."""
    snippet = tmp_path / "caught.py"
    snippet.write_text("import torch\nx = torch.ones(3, requires_grad=True)\ny = (x * 2).sum()\n"
                       "try:\n    y.backward()\n    y.backward()\nexcept RuntimeError:\n"
                       "    pass\n", encoding="utf-8")
    status, data = exported(tmp_path, snippet, "--pass", "2")
    err = capsys.readouterr().err
    assert status == 0 and "retain_graph=True" in err
    assert err.rstrip().endswith("The snippet caught this error and went on, as it does under "
                                 "python: exit status 0.")
    assert {n["name"]: n["state"] for n in data["nodes"]}["MulBackward0"] == "error"


def test_pass_out_of_range_is_usage(tmp_path, capsys):
    example = next(e for e in EXAMPLES if e.id == "mse_backward")
    assert main(["export", str(example.path), "-o", str(tmp_path / "g.json"), "--pass", "3"]) == 2
    assert "makes 1 backward call" in capsys.readouterr().err


def test_a_picture_of_a_pass_fades_the_nodes_outside_its_graph_as_the_window_does(
        tmp_path, monkeypatch):
    """softmax_jacobian: its first call is ``autograd.grad(p[1], ...)``; the drawn graph
    also holds ``p[2]``'s SelectBackward0, which that call never reaches. The SVG draws it
    in the dimmed group, the PNG's scene gets it dimmed, and no other node."""
    from gradstep.drawing import qt_scene

    example = next(e for e in EXAMPLES if e.id == "softmax_jacobian")
    status, data = exported(tmp_path, example.path, "--pass", "1", "--step", "1")
    assert status == 0
    selects = [n["id"] for n in data["nodes"] if n["name"] == "SelectBackward0"]
    assert len(selects) == 2
    svg = tmp_path / "g.svg"
    assert main(["export", str(example.path), "-o", str(svg), "--pass", "1", "--step", "1"]) == 0
    text = svg.read_text(encoding="utf-8")
    assert "opacity" not in text  # paled as the PNG's boxes are, not see-through
    kept, faded = text.split('<g class="dimmed">\n')
    faded = faded.split("</g>")[0]
    assert faded.count("SelectBackward0") == 1 and kept.count("SelectBackward0") == 1
    assert "SoftmaxBackward0" in kept and "SoftmaxBackward0" not in faded
    dimmed = []
    real = qt_scene.GraphScene.set_dimmed
    monkeypatch.setattr(qt_scene.GraphScene, "set_dimmed",
                        lambda self, nodes: (dimmed.append(set(nodes)), real(self, nodes)))
    png = tmp_path / "g.png"
    assert main(["export", str(example.path), "-o", str(png), "--pass", "1", "--step", "1"]) == 0
    (shown,) = dimmed
    assert len(shown) == 1 and shown <= set(selects)
    # the second call reaches p[2]'s node and not p[1]'s: the other one is faded
    assert main(["export", str(example.path), "-o", str(png), "--pass", "2", "--step", "1"]) == 0
    assert len(dimmed[1]) == 1 and dimmed[1] <= set(selects) and dimmed[1] != shown


@pytest.mark.parametrize("command", ["trace", "export"])
def test_the_explanation_of_an_error_starts_on_a_line_of_its_own(tmp_path, capsys, command):
    """A snippet that printed without ending its line, then failed: its output is copied as
    it printed it, and gradstep's explanation starts on the next line, not glued to it."""
    snippet = tmp_path / "glued.py"
    snippet.write_text('print("xy", end="")\nraise ValueError("boom")\n', encoding="utf-8")
    argv = [command, str(snippet)] + (["-o", str(tmp_path / "g.json")] if command == "export"
                                      else ["--json"])
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("xy\n") and "glued.py:2" in err.splitlines()[1], err


def test_a_step_past_the_end_is_refused_saying_how_many_steps_the_pass_has(tmp_path, capsys):
    """``--step 99`` on a pass of 3 steps drew the end and exited 0: now it is refused
    (exit 2, nothing written) with the steps that can be drawn; the end itself is drawn."""
    example = next(e for e in EXAMPLES if e.id == "mse_backward")
    out = tmp_path / "g.json"
    assert main(["export", str(example.path), "-o", str(out), "--step", "99"]) == 2
    err = capsys.readouterr().err
    assert "--step 99: the pass drawn has 3 steps; use --step 0 (before the first) to --step 3" in err
    assert not out.exists()
    status, data = exported(tmp_path, example.path, "--step", "3")
    assert status == 0 and data["step_state"]["step"] == 3


@pytest.mark.parametrize("step", ["0", "2"])
def test_a_step_on_a_run_that_failed_before_any_pass_is_refused_naming_why(tmp_path, capsys,
                                                                          step):
    """A snippet that failed before any backward call has no pass: ``--step K`` was passed
    over (the plain graph written, exit 1); it is refused as a step past the end is (exit 2,
    nothing written), saying the snippet failed at line 3 before any backward call."""
    out = tmp_path / "g.json"
    source = "w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\nraise ValueError('no')\n"
    assert main(["export", "-c", source, "-o", str(out), "--step", step]) == 2
    err = capsys.readouterr().err
    assert (f"--step {step}: the snippet failed at line 3, and no backward call on the graph "
            "drawn ran to its end before that, so there is no pass and no steps to draw") in err
    assert "the snippet itself failed as well" in err and not out.exists()
    assert main(["export", "-c", source, "-o", str(out)]) == 1  # the graph it built: drawn
    assert out.exists()


def test_steps_of_a_pass_gradstep_ran_itself_are_said_to_be(tmp_path, capsys):
    """A snippet with no backward call: ``--step``, ``--frames`` and animations draw a pass
    gradstep runs from the root, which they did without a word."""
    source = "w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
    frames = tmp_path / "frames"
    assert main(["export", "-c", source, "-o", str(tmp_path / "g.json"), "--frames",
                 str(frames)]) == 0
    assert (f"--frames {frames}: the snippet makes no backward call on the graph drawn; the "
            "steps shown are of a backward pass gradstep ran itself") in capsys.readouterr().err
    assert main(["export", "-c", source + "loss.backward()\n", "-o", str(tmp_path / "g.json"),
                 "--step", "1"]) == 0
    assert "no backward call" not in capsys.readouterr().err

@pytest.mark.parametrize("options, option", [
    (["--frames", "{tmp}/frames"], "--frames {tmp}/frames"), (["-o", "{tmp}/pass.gif"], "-o {tmp}/pass.gif")])
def test_frames_or_an_animation_on_a_run_that_failed_before_any_pass_are_refused(
        tmp_path, capsys, options, option):
    """``--frames DIR`` on such a run wrote the graph and no frame, an animation nothing,
    telling only the snippet's error: they are refused as ``--step`` is (exit 2)."""
    options = [o.replace("{tmp}", str(tmp_path)) for o in options]
    source = "w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\nraise ValueError('no')\n"
    assert main(["export", "-c", source, "-o", str(tmp_path / "g.png"), *options]) == 2
    err = capsys.readouterr().err
    assert (f"{option.replace('{tmp}', str(tmp_path))}: the snippet failed at line 3, and no "
            "backward call on the graph drawn ran to its end before that") in err, err
    assert not list(tmp_path.iterdir())  # nothing written, no frames folder made


def test_a_step_on_a_backward_call_a_hooks_keyboard_interrupt_ended_says_none_ran_out(
        tmp_path, capsys):
    """A hook's KeyboardInterrupt in the snippet's own ``loss.backward()`` leaves the call
    unrecorded (it goes up as python's does): ``--step 1`` was refused saying the snippet
    failed "before it made a backward call", which it had made (line 7)."""
    out = tmp_path / "g.svg"
    source = ("w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
              "def hook(g):\n    raise KeyboardInterrupt\nw.register_hook(hook)\n\n"
              "loss.backward()\n")
    assert main(["export", "-c", source, "-o", str(out), "--step", "1"]) == 2
    err = capsys.readouterr().err
    assert "before it made a backward call" not in err, err
    assert ("--step 1: the snippet failed at line 4, and no backward call on the graph drawn "
            "ran to its end before that") in err, err
    assert main(["export", "-c", source, "-o", str(out)]) == 130  # as python FILE ends


def test_a_step_on_a_run_a_timeout_stopped_before_any_pass_says_so(tmp_path, capsys,
                                                                    monkeypatch):
    """--timeout stopped the snippet before its backward call: ``--step 1`` is refused saying
    so (it said "the snippet failed at line 3 ... Fix the error (python FILE shows it)";
    python FILE shows no error there, it runs on)."""
    import gradstep.commands.run_and_report as run_and_report
    from gradstep.kernel import messages

    class TimedOut(Session):  # the reply as the kernel's client makes it after its timeout
        def run(self, source, **kwargs):
            error = messages.timeout_error(1.0, by_user=False, state_lost=False, line=3,
                                           source=source)
            return {**super().run(source, **kwargs), "ok": False, "exit_code": 1,
                    "error": error}

        def shutdown(self) -> None:
            self.reset()

    monkeypatch.setattr(run_and_report, "open_session", lambda args: TimedOut())
    out = tmp_path / "g.svg"
    source = ("w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
              "raise KeyboardInterrupt\n")  # where the stop's KeyboardInterrupt lands
    assert main(["export", "-c", source, "-o", str(out), "--step", "1"]) == 2
    err = capsys.readouterr().err
    assert ("--step 1: --timeout stopped the snippet at line 3, and no backward call on the "
            "graph drawn ran to its end before that, so there is no pass") in err, err
    assert "--timeout stopped the snippet as well" in err and "python FILE" not in err, err
    assert not out.exists()


def test_options_refused_after_a_failed_snippet_do_not_call_it_fine(tmp_path, capsys):
    """``--step 9`` (or ``--pass 3``) on retain_graph_error, whose second backward raises:
    refused (exit 2) as "The snippet is fine; ...", which it is not."""
    example = next(e for e in EXAMPLES if e.id == "retain_graph_error")
    for option in (["--step", "9"], ["--pass", "3"]):
        assert main(["export", str(example.path), "-o", str(tmp_path / "g.json"), *option]) == 2
        err = capsys.readouterr().err
        assert "the snippet itself failed as well" in err and "snippet is fine" not in err, err
