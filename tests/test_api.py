"""The Python API on live tensors in this process, with torch as the oracle.

``trace`` is torch's own graph named after the caller's variables; ``draw`` and a
``step_through`` given a timeline never run backward and change nothing (``.grad``,
``_version``, ``grad_fn`` identities, no hook of the test called); ``backward`` is the
pass torch runs (engine order from node pre-hooks the test puts on the same graph) and
leaves ``.grad`` as it was. Each picture costs a child process (about a second here).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gradstep
from tests.autograd.backward_oracle import assert_value
from tests.autograd.trace_oracle import assert_matches_torch, data_close, torch_graph


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


def _plain_json(value) -> bool:
    """True when ``value`` is made of JSON types only (no tensor, no grad_fn)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    return False


class Observed:
    """What a test can see of a graph without gradstep: every node's pre-hook calls (the
    engine running it), unpacks of saved tensors, each leaf's ``.grad`` object and value,
    ``_version`` of the tensors, and the ``grad_fn`` objects."""

    def __init__(self, root, tensors: list):
        self.nodes, _ = torch_graph(root)
        self.ran: list = []
        self.handles = [fn.register_prehook(lambda _g, fn=fn: self.ran.append(fn))
                        for fn in self.nodes]
        self.tensors = tensors
        self.before = self.snapshot()

    def snapshot(self) -> dict:
        grads = [t.grad if t.is_leaf or t.retains_grad else None for t in self.tensors]
        return {"grad_objects": grads,
                "grad_values": [None if g is None else g.clone() for g in grads],
                "versions": [t._version for t in self.tensors],
                "grad_fns": [t.grad_fn for t in self.tensors],
                "graph": [id(fn) for fn in torch_graph(self.tensors[0])[0]]}

    def assert_unchanged(self) -> None:
        now = self.snapshot()
        assert all(a is b for a, b in zip(now["grad_objects"], self.before["grad_objects"]))
        for a, b in zip(now["grad_values"], self.before["grad_values"]):
            assert (a is None and b is None) or torch.equal(a, b)
        assert now["versions"] == self.before["versions"]
        assert all(a is b for a, b in zip(now["grad_fns"], self.before["grad_fns"]))
        assert now["graph"] == self.before["graph"]

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def test_import_gradstep_stays_light_and_finds_the_api_when_asked():
    script = textwrap.dedent("""
        import sys, gradstep
        heavy = [m for m in ("torch", "networkx", "PySide6", "gradstep.api") if m in sys.modules]
        assert not heavy, heavy
        assert {"trace", "draw", "backward", "show", "step_through", "record"} <= set(dir(gradstep))
        assert callable(gradstep.trace) and "gradstep.api" in sys.modules
        assert "PySide6" not in sys.modules
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_trace_is_torchs_graph_named_after_the_callers_variables():
    net = _net()
    x = torch.randn(2, 3)
    with gradstep.record():  # module outputs and scopes, the CLI's way
        hidden = net[1](net[0](x))
        out = net[2](hidden)
    loss = out.square().mean()
    graph = gradstep.trace(loss)  # names from this function's locals, the recording just closed
    data = gradstep.to_json(graph)
    assert_matches_torch(data, loss)
    json.dumps(data, allow_nan=False)  # strict JSON
    assert all(_plain_json(attrs) for _, attrs in graph.nodes(data=True))  # no tensors kept
    by_label = {n["label"]: n for n in data["nodes"]}
    assert {"loss", "out", "hidden", "0.weight", "2.bias"} <= set(by_label)
    assert by_label["hidden"]["scope"] == "1" and by_label["0.weight"]["scope"] == "0"
    assert data_close(by_label["hidden"]["value"]["data"], hidden)
    assert data_close(by_label["out"]["value"]["data"], out)
    assert graph.graph["root"] == "n0" and graph.nodes["n0"]["label"] == "loss"


def test_trace_takes_names_given_and_refuses_a_tensor_without_a_graph():
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    graph = gradstep.trace(p, names={"probabilities": p, "logits": a})
    assert [graph.nodes[n]["label"] for n in graph] == ["probabilities", "logits"]
    with pytest.raises(ValueError, match="no grad_fn"):
        gradstep.trace(torch.ones(2))


def test_drawing_never_runs_backward_and_changes_nothing(tmp_path):
    unpacked = []
    w = torch.tensor([2.0, -1.0], requires_grad=True)
    w.grad = torch.tensor([5.0, 5.0])  # a .grad that must stay the very same object
    x = torch.tensor([0.5, 1.5])
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        y = (w.sin() * x).sum()
    seen = Observed(y, [y, w])
    try:
        drawing = gradstep.draw(y)
        assert drawing.svg.lstrip().startswith("<?xml") and drawing.png[:8] == b"\x89PNG\r\n\x1a\n"
        for suffix in ("pdf", "dot", "graphml", "json"):
            drawing.save(tmp_path / f"graph.{suffix}")
        assert seen.ran == [] and unpacked == []  # no node ran, no saved tensor was unpacked
        seen.assert_unchanged()
    finally:
        seen.remove()
    y.backward()  # the graph is the one torch built: its own pass still works
    assert torch.allclose(w.grad, torch.tensor([5.0, 5.0]) + x * torch.cos(torch.tensor([2.0, -1.0])))


@pytest.mark.parametrize("where", ["a folder", "a missing folder"])
def test_saving_a_pdf_where_no_file_can_be_made_raises_pythons_error(tmp_path, where):
    """``save("x.pdf")`` into a missing folder, or on a folder's name, returned the path and
    wrote nothing (Qt's PDF writer only warns); .png, .svg and the graph files raise python's
    OSError there, as ``open`` does. Now .pdf raises the same error ``open`` raises."""
    path = tmp_path / ("g.pdf" if where == "a folder" else "missing/g.pdf")
    if where == "a folder":
        path.mkdir()
    with pytest.raises(OSError) as plain:
        open(path, "wb")  # noqa: SIM115 - the error python's own open raises
    x = torch.ones(2, requires_grad=True)
    drawing = gradstep.draw((x * 3).sum())
    with pytest.raises(type(plain.value)) as raised:
        drawing.save(path)
    assert (raised.value.errno, raised.value.filename) == (plain.value.errno, plain.value.filename)
    assert not path.is_file()


def test_backward_is_torchs_pass_and_leaves_grad_as_it_was():
    net = _net()
    x = torch.randn(2, 3)
    hidden = net[1](net[0](x))
    hidden.retain_grad()
    loss = net[2](hidden).square().mean()
    loss.backward(retain_graph=True)
    params = dict(net.named_parameters())
    seen = Observed(loss, [loss, hidden, *params.values()])
    try:
        timeline = gradstep.backward(loss)
        engine_order = [seen.nodes.index(fn) for fn in seen.ran]  # the test's own pre-hooks
        seen.assert_unchanged()  # .grad of every parameter and of hidden (retain_grad)
    finally:
        seen.remove()
    assert timeline["error"] is None and timeline["retain_graph"] is True
    assert [int(s["node"][1:]) for s in timeline["steps"]] == engine_order
    wanted = torch.autograd.grad(loss, list(params.values()) + [hidden], retain_graph=True)
    for (name, _), want in zip(params.items(), wanted):
        assert_value(timeline["leaf_grads"][name], want)  # this pass alone, from None
    assert_value(timeline["retained_grads"]["hidden"], wanted[-1])
    json.dumps(timeline, allow_nan=False)


def test_backward_leaves_a_retained_views_grad_as_it_was():
    x = torch.ones(3, requires_grad=True)
    v = (x * 3)[:2]  # a view that retains its gradient
    v.retain_grad()
    loss = v.sum()
    gradstep.backward(loss)
    assert v.grad is None and x.grad is None  # as before the call
    loss.backward()
    assert torch.equal(v.grad, torch.ones(2))  # torch's own pass alone, not doubled


def test_backward_leaves_the_grad_of_a_retaining_tensor_no_variable_names_as_it_was():
    """A tensor that retains its gradient held in a list or an attribute, not a variable
    (hunt 15): the recorded pass added into its .grad, so the script's own backward then
    printed [2., 2., 2.] where python prints [1., 1., 1.]."""
    x = torch.ones(3, requires_grad=True)
    acts = [(x * 2).exp(), (x * 3)[:2]]  # a tensor and a view, in a list
    for t in acts:
        t.retain_grad()
    loss = acts[0].sum() + acts[1].sum()
    gradstep.backward(loss, names={"x": x, "loss": loss})
    gradstep.backward(loss, mode="grad", inputs=[x], names={"x": x, "loss": loss})
    assert acts[0].grad is None and acts[1].grad is None and x.grad is None
    loss.backward()
    assert torch.equal(acts[0].grad, torch.ones(3)) and torch.equal(acts[1].grad, torch.ones(2))


def test_backward_leaves_the_grad_of_a_retaining_subclass_tensor_in_a_list_as_it_was():
    """A tensor subclass's tensor that retains its gradient, held in a list (core7): the
    live-object scan took plain tensors only, so the recorded pass added into its .grad and
    the script's own backward then gave [2., 2., 2.] where python gives [1., 1., 1.]."""
    class Logged(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})

    def run(recorded):
        x = torch.ones(3, requires_grad=True)
        acts = [(x * 2).as_subclass(Logged)]
        acts[-1].retain_grad()
        loss = (acts[-1] * 1).sum()
        if recorded:
            gradstep.backward(loss, names={"x": x, "loss": loss})
            assert acts[0].grad is None
        loss.backward()
        return type(acts[0]), acts[0].grad.as_subclass(torch.Tensor)

    (kind, plain), (_, got) = run(False), run(True)
    assert kind is Logged and torch.equal(got, plain) and torch.equal(plain, torch.ones(3))


def test_backward_leaves_the_grad_of_a_retaining_view_of_another_graph_in_place():
    """A retaining view of another graph, held in a list or named, is not this pass's: a
    hook of the pass that reads its ``.grad`` sees it, as in python (review of fid15: every
    retaining view of the process had its ``.grad`` set aside, and the hook read None)."""
    def seen_by_a_hook(run):
        x = torch.ones(3, requires_grad=True)
        other = torch.ones(2, requires_grad=True)
        held = [(other * 2)[:1]]
        named = (other * 3)[1:]
        for view in (held[0], named):
            view.retain_grad()
        (held[0].sum() + named.sum()).backward()
        seen = []
        y = x.exp()
        y.register_hook(lambda g: seen.append((held[0].grad, named.grad)))
        loss = y.sum()
        run(loss, {"x": x, "loss": loss, "named": named})
        return seen

    plain = seen_by_a_hook(lambda loss, names: loss.backward(retain_graph=True))
    got = seen_by_a_hook(lambda loss, names: gradstep.backward(loss, names=names))
    values = [[None if g is None else g.tolist() for g in grads] for grads in got]
    assert values == [[g.tolist() for g in grads] for grads in plain] == [[[1.0], [1.0]]]


def test_backward_reads_no_unrelated_tensor_in_sight_of_the_callers_mode():
    """The live-object scan for tensors that retain their gradient reads ``retains_grad`` of
    every tensor of the process: with torch functions disabled, so a TorchFunctionMode of the
    caller's sees none of those reads (review of fid15: it saw one per tensor)."""
    read = []

    class Reads(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            read.extend(id(a) for a in args if isinstance(a, torch.Tensor))
            return func(*args, **(kwargs or {}))

    unrelated = [torch.ones(2) for _ in range(20)]
    x = torch.ones(3, requires_grad=True)
    loss = (x * 2).exp().sum()
    with Reads():
        gradstep.backward(loss, names={"x": x, "loss": loss})
    assert not {id(t) for t in unrelated} & set(read)


def test_backward_leaves_the_grad_of_a_reentrant_checkpoints_parameters_as_it_was():
    from torch.utils.checkpoint import checkpoint

    torch.manual_seed(0)
    lin = nn.Linear(3, 3)
    x = torch.randn(2, 3, requires_grad=True)
    # the block's parameters are not in the graph: the checkpoint's backward runs a pass
    # of its own into them
    loss = checkpoint(lin, x, use_reentrant=True).square().sum()
    gradstep.backward(loss)
    assert lin.weight.grad is None and lin.bias.grad is None and x.grad is None
    loss.backward()
    want = torch.autograd.grad(lin(x).square().sum(), lin.weight)[0]
    assert torch.allclose(lin.weight.grad, want)  # torch's own pass alone, not doubled


def test_backward_leaves_the_grad_of_a_module_it_cannot_reach_in_place_during_the_pass():
    """Setting aside the .grad of every leaf and module parameter the caller names (for a
    reentrant checkpoint's inner pass) emptied that of modules the pass cannot reach
    while it ran: a hook of the pass that read one saw None, as torch never shows it."""
    a, b = nn.Linear(2, 1), nn.Linear(2, 1)
    b(torch.ones(1, 2)).sum().backward()
    before = b.weight.grad
    loss = a(torch.ones(1, 2, requires_grad=True)).sum()
    seen = []
    loss.register_hook(lambda g: seen.append(b.weight.grad))
    gradstep.backward(loss)
    assert len(seen) == 1 and seen[0] is before and b.weight.grad is before


def test_backward_accumulates_into_grad_only_when_asked():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    gradstep.backward(loss)
    assert w.grad is None
    timeline = gradstep.backward(loss, accumulate=True)
    assert torch.equal(w.grad, 2 * w.detach())
    assert timeline["leaf_grads"]["w"] == [2.0, 4.0]
    loss.backward()  # the graph was kept
    assert torch.equal(w.grad, 4 * w.detach())


def test_grad_mode_returns_what_autograd_grad_returns():
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    timeline = gradstep.backward(p[1], mode="grad", inputs=[a])
    (want,) = torch.autograd.grad(p[1], [a], retain_graph=True)
    assert timeline["returned_inputs"] == ["a"]
    assert_value(timeline["returned"][0], want)
    assert a.grad is None


def test_torchs_error_is_in_the_timeline():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    y = a * 3
    timeline = gradstep.backward(y)  # not a scalar, no gradient given
    assert timeline["error"]["kind"] == "non_scalar"
    assert "grad can be implicitly created only for scalar outputs" in timeline["error"]["message"]
    assert a.grad is None


def test_a_step_of_a_pass_is_drawn_from_its_timeline(tmp_path):
    w = torch.full([1], 2.0, requires_grad=True)
    mse = F.mse_loss(torch.ones(1), torch.ones(1) * w)
    timeline = gradstep.backward(mse)
    path = gradstep.draw(mse, timeline=timeline, step=1).save(tmp_path / "step.json")
    data = json.loads(path.read_text())
    states = {n["label"]: n["state"] for n in data["nodes"]}
    assert states == {"mse": "done", "mul": "current", "w": "pending"}
    assert data["step_state"]["step"] == 1 and data["step_state"]["steps"] == 3
    other = torch.tensor([3.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match="another graph"):
        gradstep.draw(other.sum(), timeline=timeline)
    with pytest.raises(ValueError, match="needs timeline"):
        gradstep.draw(mse, step=2)
    gradstep.draw(mse, timeline=timeline, step=3)  # the end
    with pytest.raises(ValueError, match="step=4: the pass has 3 steps; use 0"):
        gradstep.draw(mse, timeline=timeline, step=4)  # it drew the end, as export did


def test_step_through_frames_each_step_and_changes_nothing():
    w = torch.tensor([2.0], requires_grad=True)
    x = torch.ones(1)
    mse = F.mse_loss(torch.ones(1), x * w)
    seen = Observed(mse, [mse, w])
    try:
        view = gradstep.step_through(mse)  # records a pass: .grad must come back as it was
        page = view._repr_html_()
        seen.assert_unchanged()
    finally:
        seen.remove()
    assert w.grad is None
    frames = re.findall(r'data-step="(\d+)" data-caption="([^"]*)" data-detail="([^"]*)" '
                        r'data-svg="([^"]+)"', page)
    assert [int(step) for step, *_ in frames] == [0, 1, 2, 3]  # before, and after each step
    for *_, packed in frames:
        svg = gzip.decompress(base64.b64decode(packed)).decode()
        ET.fromstring(svg.split("?>", 1)[-1])  # each frame is a whole SVG
    assert frames[0][1:3] == ("Step 1 of 3: ▶ MseLossBackward0 (mse) runs",
                              "∂L/∂yᵢ = −2(xᵢ − yᵢ)/n · g")
    assert frames[-1][1:3] == ("After step 3 of 3: the pass is done", "")
    assert "<svg" in page.split('class="gs-view">', 1)[1][:400]  # the static frame, without JS


def test_large_graphs_get_fewer_frames_and_say_so():
    from gradstep.notebook import Frame, frame_steps, step_html

    assert frame_steps(3, 60) == [0, 1, 2, 3]
    assert frame_steps(100, 5) == [0, 25, 50, 75, 100]
    assert frame_steps(100, 1) == [100]
    frames = [Frame(k, f"step {k}", "<svg>" + "x" * 5000 + f"{k}</svg>") for k in range(11)]
    page = step_html(frames, 10, max_bytes=1500)
    kept = re.findall(r'data-step="(\d+)"', page)
    assert kept[0] == "0" and kept[-1] == "10" and len(kept) < 11
    assert f"Showing {len(kept)} of the 11 step positions" in page



def test_a_caption_and_its_formula_line_are_text_in_the_page():
    """A caption's two lines (a formula holds ``<``, a label or torch's message anything)
    are attribute text: no tag, no quote that ends the attribute, in the frames or the page
    without JavaScript."""
    import html

    from gradstep.notebook import Frame, step_html

    head, detail = 'x<y & "z" \'w\'</div>', '<img src=x onerror="alert(1)"> a<b & c>d'
    page = step_html([Frame(0, head, "<svg/>", detail)], 0)
    frame = re.search(r'data-caption="([^"]*)" data-detail="([^"]*)"', page)
    assert frame and html.unescape(frame[1]) == head and html.unescape(frame[2]) == detail
    assert "<img" not in page and "</div>'" not in page
    assert f'<div class="gs-detail">{html.escape(detail)}</div>' in page
    assert "detail.textContent = frames[i].dataset.detail" in page  # shown as text, not HTML

@pytest.mark.slow  # about 10 s: torch's import and three picture processes
def test_the_users_process_never_loads_qt(tmp_path):
    """A whole API session in a process where importing Qt fails."""
    script = textwrap.dedent(f"""
        import importlib.abc, sys

        class NoQt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"):
                    raise ImportError("Qt in the user's process: " + name)

        sys.meta_path.insert(0, NoQt())
        import torch, gradstep
        w = torch.tensor([2.0], requires_grad=True)
        loss = (w * 3).sum()
        timeline = gradstep.backward(loss)
        drawing = gradstep.draw(loss, timeline=timeline, step=1)
        for suffix in ("svg", "png", "pdf", "dot", "graphml", "json"):
            drawing.save({str(tmp_path)!r} + "/g." + suffix)
        gradstep.step_through(loss, timeline=timeline)._repr_html_()
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=240)
    assert done.stdout.strip() == "ok", done.stderr
    assert (tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
    assert "digraph" in (tmp_path / "g.dot").read_text()
    ET.parse(tmp_path / "g.graphml")
    ET.parse(tmp_path / "g.svg")


def test_show_needs_a_display_and_says_so(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    w = torch.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no display"):
        gradstep.show((w * 3).sum(), timeline={"steps": []})


@pytest.mark.slow  # two window processes (Qt, the window): about 10 s here
def test_show_opens_the_window_on_the_graph_and_waits_for_it(tmp_path, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    w = torch.full([1], 2.0, requires_grad=True)
    mse = F.mse_loss(torch.ones(1), torch.ones(1) * w)
    shot = tmp_path / "window.png"
    monkeypatch.setenv("GRADSTEP_SCREENSHOT", str(shot))  # the window saves itself, then quits
    window = gradstep.show(mse)  # blocks until the window has closed
    assert window.returncode == 0 and shot.read_bytes()[:4] == b"\x89PNG"
    assert w.grad is None  # the pass it shows was recorded with .grad put back
    shot.unlink()
    window = gradstep.show(mse, block=False)
    assert window.wait(120) == 0 and shot.exists()


def test_strict_export_inside_record_runs_as_without_it():
    # dynamo's strict export reads the global hook dicts itself and fails with a hook there
    # ("Attempted to inline function marked as skipped", also a plain run's with a hook of
    # the user's): record()'s hooks are out of its sight while it runs (what the module
    # computes inside is not observed), and back after it
    net = _net()
    x = torch.randn(2, 3)
    export = torch.export.export
    with gradstep.record():
        ep = torch.export.export(net, (x,), strict=True)
        assert len(nn.modules.module._global_forward_hooks) == 1
    assert torch.export.export is export and not nn.modules.module._global_forward_hooks
    with gradstep.record():  # torch's strict capture is loaded now: a reference taken
        again = export(net, (x,), strict=True)  # before the block meets no hook either
        hidden = net[1](net[0](x))
        out = net[2](hidden)
    assert not nn.modules.module._global_forward_hooks
    assert torch.equal(ep.module()(x), net(x)) and torch.equal(again.module()(x), net(x))
    by_label = {n["label"]: n for n in gradstep.to_json(gradstep.trace(out))["nodes"]}
    assert by_label["hidden"]["scope"] == "1"  # the hooks observe again after an export
    assert data_close(by_label["hidden"]["value"]["data"], hidden)


def test_a_sys_exit_0_in_a_record_block_passes_through_as_python_and_the_record_is_kept():
    # the API runs in the user's own process: its sys.exit(0) is python's to handle; the
    # recording closes and what it saw is drawn as after a block that ended plainly
    model = nn.Linear(2, 1)
    with pytest.raises(SystemExit) as exited:
        with gradstep.record() as recording:
            loss = model(torch.ones(1, 2)).sum()
            sys.exit(0)
    assert exited.value.code == 0 and recording.closed
    graph = gradstep.trace(loss)
    assert sorted(data["name"] for _, data in graph.nodes(data=True)) == sorted(
        ["SumBackward0", "AddmmBackward0", "TBackward0", "AccumulateGrad", "AccumulateGrad"])


def test_backward_on_a_leaf_itself_says_it_is_a_leaf():
    """``gradstep.backward(x)`` on a leaf that requires grad: torch would run only its
    AccumulateGrad, so there is no graph to trace; the error said "it is not part of an
    autograd graph", which a leaf with requires_grad=True is (core7). Nothing ran."""
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="the root tensor is a leaf"):
        gradstep.backward(x, gradient="ones")
    assert x.grad is None
    with pytest.raises(ValueError, match="not part of an autograd graph"):
        gradstep.backward(torch.ones(2), gradient="ones")


def test_backward_inputs_fill_only_them_as_torchs_backward_inputs():
    """``loss.backward(inputs=[x])`` accumulates into x alone; gradstep's backward mode
    ignored ``inputs=`` and, with ``accumulate=True``, added into every leaf. A single
    tensor (``inputs=x``, as torch takes it) raised "Boolean value of Tensor..."."""
    def graph():
        torch.manual_seed(0)
        w, x = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
        return w, x, (w * x).sin().sum()

    w, x, loss = graph()
    loss.backward(inputs=[x])
    want_w, want_x = w.grad, x.grad
    for inputs in ([x], x):
        w, x, loss = graph()
        timeline = gradstep.backward(loss, inputs=[x] if isinstance(inputs, list) else x,
                                     accumulate=True)
        assert timeline["error"] is None
        assert want_w is None and w.grad is None
        assert torch.equal(x.grad, want_x)
    w, x, loss = graph()
    timeline = gradstep.backward(loss, mode="grad", inputs=x)
    (want,) = torch.autograd.grad(loss, x, retain_graph=True)
    assert timeline["returned_inputs"] == ["x"]
    assert_value(timeline["returned"][0], want)
    assert x.grad is None and w.grad is None


def test_a_wrong_argument_is_refused_in_gradsteps_words_before_anything_changes():
    """``names=["x"]`` said "dictionary update sequence element #0", ``recording="r"``
    "'str' object has no attribute 'observer'", ``trace([])`` "list index out of range",
    ``to_json(loss)`` "'Tensor' object has no attribute 'graph'"."""
    x = torch.ones(3, requires_grad=True)
    loss = (x * 2).sum()
    x.grad = torch.full((3,), 5.0)
    grad = x.grad
    cases = [(lambda: gradstep.trace(loss, names=["x"]), TypeError, "names= maps names"),
             (lambda: gradstep.backward(loss, names=["x"]), TypeError, "not a list"),
             (lambda: gradstep.draw(loss, recording="r"), TypeError, "gradstep.record"),
             (lambda: gradstep.backward(loss, recording="r"), TypeError, "not a str"),
             (lambda: gradstep.trace([]), ValueError, "an empty list holds no tensor"),
             (lambda: gradstep.backward([]), ValueError, "an empty list"),
             (lambda: gradstep.to_json(loss), TypeError, "not a Tensor"),
             # these drew: a dict that is no timeline as 0 steps run, step=1.5 as 2; and
             # collapse="2" said "'<' not supported between instances of 'str' and 'int'"
             (lambda: gradstep.draw(loss, timeline={"a": 1}), TypeError, "gradstep.backward"),
             (lambda: gradstep.draw(loss, timeline=gradstep.backward(loss), step=1.5),
              TypeError, "a whole number"),
             (lambda: gradstep.draw(loss, collapse="2"), TypeError, "collapse='2'"),
             (lambda: gradstep.draw(loss, scale="2"), TypeError, "scale='2'"),
             (lambda: gradstep.step_through(loss, max_frames="5"), TypeError, "max_frames='5'"),
             (lambda: gradstep.trace(loss, names={3: x}), TypeError, "not a int: 3"),
             # Python's truth took "no" as True: accumulate="no" left x.grad [7, 7, 7]
             (lambda: gradstep.backward(loss, accumulate="no"), TypeError,
              "accumulate='no': use True or False"),
             (lambda: gradstep.backward(loss, accumulate=0), TypeError, "accumulate=0"),
             (lambda: gradstep.draw(loss, transparent="false"), TypeError,
              "transparent='false': use True or False"),
             (lambda: gradstep.record(deep="no"), TypeError, "deep='no'"),
             (lambda: gradstep.show(loss, block="no"), TypeError, "block='no'")]
    for call, error, words in cases:
        with pytest.raises(error, match=words):
            call()
        assert x.grad is grad and torch.equal(grad, torch.full((3,), 5.0))
        assert x._version == 0


def test_an_error_raised_in_the_apis_pass_is_not_said_to_be_the_snippets():
    """A hook's own error in ``gradstep.backward``'s pass was titled "RuntimeError in the
    snippet" and said to be "at the marked line": the API has neither. The message is
    torch's (the plain pass's), the words say where it was raised, in English and Chinese:
    by the hook, titled as a script run's of the same hook (it was "RuntimeError during the
    backward pass")."""
    from gradstep import i18n

    def build():
        x = torch.ones(2, requires_grad=True)
        h = x * 2
        h.register_hook(lambda g: (_ for _ in ()).throw(RuntimeError("a hook's own words")))
        return h.sum()

    with pytest.raises(RuntimeError) as plain:
        build().backward(retain_graph=True)
    error = gradstep.backward(build())["error"]
    assert error["message"] == str(plain.value)
    assert error["title"] == "A hook raised RuntimeError during backward"  # as a script run's
    assert "snippet" not in error["explanation"] and "marked line" not in error["explanation"]
    chinese = i18n.localized(error, "zh_CN")
    assert "RuntimeError" in chinese["title"] and chinese["title"] != error["title"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in chinese[k]) for k in ("explanation", "fix"))


def test_true_or_false_is_refused_in_the_persons_language_and_numpys_bool_taken():
    """``accumulate=np.True_`` (a notebook's comparison) is taken as True; a string is
    refused, in Chinese under zh_CN."""
    import numpy as np

    from gradstep import i18n

    x = torch.ones(2, requires_grad=True)
    loss = (x * 3).sum()
    with i18n.using("zh_CN"), pytest.raises(TypeError) as refused:
        gradstep.backward(loss, accumulate="no")
    assert str(refused.value) == "accumulate='no'：请用 True 或 False"
    assert x.grad is None
    gradstep.backward(loss, accumulate=np.bool_(True))
    want = torch.autograd.grad(loss, [x], retain_graph=True)[0]
    assert torch.equal(x.grad, want)
    gradstep.backward(loss, accumulate=np.bool_(False))
    assert torch.equal(x.grad, want)


@pytest.mark.parametrize("raised", [
    lambda g: (_ for _ in ()).throw(ValueError("a hook's value")),
    lambda g: [][3],  # IndexError
    lambda g: g.no_such_method(),
    lambda g: None.shape,
    lambda g: undefined_name,  # noqa: F821 (the point)
    lambda g: len(g, 2),
    lambda g: g @ torch.ones(3, 4),
    lambda g: g.view(5),
])
def test_an_error_in_the_apis_pass_names_no_line(raised):
    """``gradstep.backward`` has no snippet and no marked line: a hook's ValueError said "A
    value on this line is out of range" and "Check the values ... used on this line". Then
    it read "Bad value" where a script run of the same hook read "A hook raised ValueError
    during backward": both now say the hook raised it, and the API names the hook's lines
    in its own file (this one), where python's traceback has them."""
    import traceback

    from gradstep import i18n

    def build():
        x = torch.ones(2, requires_grad=True)
        h = x * 2
        h.register_hook(raised)
        return h.sum()

    with pytest.raises(BaseException) as plain:
        build().backward(retain_graph=True)
    error = gradstep.backward(build())["error"]
    kind = type(plain.value).__name__
    assert error["type"] == kind
    assert error["message"] == str(plain.value)  # python's and torch's own words
    assert error["title"] == f"A hook raised {kind} during backward"  # as a script run's
    hook = next(f for f in traceback.extract_tb(plain.value.__traceback__) if f.name == "<lambda>")
    assert (f"hook `<lambda>` (defined at line {hook.lineno} of test_api.py) in the pass "
            f"gradstep.backward ran, and the hook raised {kind} at line {hook.lineno}"
            ) in error["explanation"]
    for language, lines in (("en", ("this line", "this one", "marked")),
                            ("zh_CN", ("这一行", "标出"))):
        words = i18n.localized(error, language)
        texts = words["explanation"] + words["fix"]
        assert not [line for line in lines if line in texts.lower()], texts
        if language == "zh_CN":
            assert all(any("\u4e00" <= ch <= "\u9fff" for ch in words[k])
                       for k in ("explanation", "fix")), words


def test_numpys_whole_numbers_and_scales_draw_as_pythons():
    """``step=np.int64(1)``, ``collapse=np.int32(1)``, ``scale=np.float32(1.5)``
    (a notebook's ``np.argmax``, a slider's value) passed the checks and failed as "Object
    of type int64 is not JSON serializable" on the way to the drawing child."""
    import numpy as np

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2).sum()
    timeline = gradstep.backward(loss)
    want = gradstep.draw(loss, timeline=timeline, step=1, collapse=1, scale=1.5)
    got = gradstep.draw(loss, timeline=timeline, step=np.int64(1), collapse=np.int32(1),
                        scale=np.float32(1.5))
    assert got.svg == want.svg and got.png == want.png


def test_what_is_not_a_tensor_is_refused_with_what_to_pass():
    """A new user's slips: the model, a HuggingFace-style output dict, a name in quotes,
    None. They crashed inside gradstep (``'Linear' object has no attribute
    'next_functions'``, ``unhashable type: 'dict'``) or spoke of a "root tensor" that was
    None; now a TypeError (ValueError for None) says what was given and what to pass."""
    model = nn.Linear(3, 1)
    loss = model(torch.ones(2, 3)).sum()
    cases = [(model, TypeError, "got Linear: pass a tensor computed with it"),
             ({"loss": loss}, TypeError, r"got dict: pass one of its tensors \(out.loss"),
             ("loss", TypeError, "got str: pass the tensor"),
             ([loss, 3], TypeError, "got int"),
             (None, ValueError, "the root is None, not a tensor")]
    for value, error, words in cases:
        for call in (gradstep.trace, gradstep.draw, gradstep.backward):
            with pytest.raises(error, match=words):
                call(value)
    assert model.weight.grad is None


def _changed_view_graph(write_between: bool):
    x = torch.ones(4, requires_grad=True)
    b = x * 2
    v = b[:3]
    c = v.sin()  # saves the view v
    if write_between:
        b.add_(1)  # through the base: the view's version moves too
    return x, b, c


@pytest.mark.parametrize("hooked", [False, True])
def test_backward_tells_a_changed_saved_view_from_torchs_own_error(hooked):
    """A live program's saved view is never unpacked (that could rebuild its node): it showed
    alive at every step, also the one torch refused. The view torch refused is told from
    torch's own message (the only saved view of the raising node at its version), and as
    changed from the start where its version then was not the saved one; a hook's write
    during the pass is told at the step that raised."""
    from gradstep.autograd.step_state import PassHistory

    x, b, c = _changed_view_graph(write_between=not hooked)
    loss = c.sum()
    if hooked:
        c.register_hook(lambda g: (b.add_(1), None)[1])
    try:  # torch's own verdict on the same graph, built the same way
        x2, b2, c2 = _changed_view_graph(write_between=not hooked)
        if hooked:
            c2.register_hook(lambda g: (b2.add_(1), None)[1])
        c2.sum().backward()
    except RuntimeError as exc:
        found = re.search(r"is at version (\d+); expected version (\d+)", str(exc))
    expected = {"changed_in_place": True, "version": int(found[1]),
                "saved_version": int(found[2])}
    timeline = gradstep.backward(loss)
    graph = gradstep.trace(loss)
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    assert timeline["changed_when_raised"][sin]["self"] == expected
    index = PassHistory(graph, [timeline]).index(0)
    raised_at = index.error_step
    (entry,) = index.saved(sin, raised_at)
    assert {k: entry[k] for k in expected} == expected
    (entry,) = index.saved(sin, 0)
    if hooked:  # the hook on c runs before SinBackward0, the first step after the root's
        assert ("self" in (timeline["changed_before"].get(sin) or {})) is False
        # torch took it then; no probe sees a hook on a tensor the pass was not handed
        # (the caller's variables are not read here): less is shown, not a refusal
        assert "changed_in_place" not in entry and entry.get("changed_during")
    else:
        assert {k: entry[k] for k in expected} == expected  # changed before the pass


def test_a_version_error_about_another_graph_claims_no_saved_view():
    """A hook that runs a backward call of its own over another graph raises torch's version
    error about that graph's node, with the same versions and sizes as the view the hooked
    node saved (taken by torch: saved after the write). No saved view is told changed: torch
    takes it, read after the pass."""
    x = torch.ones(4, requires_grad=True)
    b = x * 2
    b.add_(1)
    c = b[:2].sin()  # saves the view at version 1: taken
    p = torch.ones(2, requires_grad=True)
    q = p * 2
    other = q.sin().sum()
    q.add_(1)  # the other graph's saved q: "is at version 1; expected version 0"
    c.grad_fn.register_hook(lambda grad_inputs, grad_outputs: other.backward())
    timeline = gradstep.backward(c.sum())
    assert "is at version 1; expected version 0" in timeline["error"]["detail"]
    _ = c.grad_fn._saved_self  # torch's verdict: taken (raises where refused)
    graph = gradstep.trace(c.sum())
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    assert sin not in timeline["changed_when_raised"]
    assert sin not in (timeline.get("changed_before") or {})


def _view_of_a_constant():
    c = torch.ones(4)
    v = c[:3]  # a view with no autograd history: reading its node rebuilds nothing
    w = torch.ones(3, requires_grad=True)
    y = (w * v).sum()  # MulBackward0 saves other=v
    c.add_(1)
    return y


def _view_of_a_graph():
    x = torch.ones(4, requires_grad=True)
    b = x * 2
    v = b[:3]
    y = v.sin().sum()  # SinBackward0 saves self=v
    b.add_(1)  # v's node goes stale: reading it would make torch rebuild it
    return y, v


def _torch_refusal(make) -> dict:
    made = make()
    try:
        (made[0] if isinstance(made, tuple) else made).backward()
    except RuntimeError as exc:
        found = re.search(r"is at version (\d+); expected version (\d+)", str(exc))
        return {"changed_in_place": True, "version": int(found[1]),
                "saved_version": int(found[2])}
    return {}


def _saved_of(graph, name: str) -> dict:
    (entry,) = [e for n, a in graph.nodes(data=True) if a["name"] == name
                for e in a["saved"] if "shape" in e]
    return entry


def test_trace_tells_a_changed_saved_view_with_no_history_as_torch_refuses_it():
    """A saved view whose base requires no grad has no node torch could rebuild: the trace of
    a live program unpacks it as a plain tensor and shows torch's own refusal (it showed it
    alive)."""
    expected = _torch_refusal(_view_of_a_constant)
    assert expected  # torch refuses it
    entry = _saved_of(gradstep.trace(_view_of_a_constant()), "MulBackward0")
    assert {k: entry.get(k) for k in expected} == expected


def test_trace_shows_a_saved_view_it_cannot_read_neither_alive_nor_refused():
    """A saved view of a graph, its base written since: torch refuses it at backward, but its
    saved version is told only by unpacking it, and that would rebuild the view's node (a
    sequence number taken). The trace takes none and says what it knows: the version now."""
    assert _torch_refusal(_view_of_a_graph)
    y, v = _view_of_a_graph()
    before = (torch.ones(1, requires_grad=True) * 2).grad_fn._sequence_nr()
    graph = gradstep.trace(y)
    # no node rebuilt: the next node made takes the next number
    assert (torch.ones(1, requires_grad=True) * 2).grad_fn._sequence_nr() == before + 1
    entry = _saved_of(graph, "SinBackward0")
    assert entry["view_version"] == v._version == 1 and "changed_in_place" not in entry
    from gradstep.drawing.style import saved_role

    assert saved_role(entry) == "unread"


def _nested_graph():
    nt = torch.nested.nested_tensor([torch.ones(2, 3), torch.ones(4, 3)], requires_grad=True)
    loss = torch.nested.to_padded_tensor(nt * 2, 0.0).sum()
    return nt, loss


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_backward_refuses_before_changing_a_nested_leafs_grad_it_could_not_put_back():
    """torch lets no Python code set a nested tensor's ``.grad`` (the setter asks for sizes
    it has not): a pass that set it aside could not put it back, and raised after the pass
    with the pass's gradient in its place. It is refused before anything changes; with
    ``accumulate=True`` the pass is torch's own second ``backward``, and fails as that does."""
    nt, loss = _nested_graph()
    loss.backward(retain_graph=True)
    grad = nt.grad
    with pytest.raises(RuntimeError):  # the reason, from torch itself
        nt.grad = grad.clone()
    version = grad._version
    with pytest.raises(ValueError, match="accumulate=True"):
        gradstep.backward(loss)
    assert nt.grad is grad and grad._version == version
    assert [g.sum().item() for g in grad.unbind()] == [12.0, 24.0]

    # accumulating into a nested .grad is what torch's own second backward refuses too
    plain_nt, plain_loss = _nested_graph()
    plain_loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError) as plain_error:
        plain_loss.backward(retain_graph=True)
    timeline = gradstep.backward(loss, accumulate=True)
    assert timeline["error"]["type"] == "RuntimeError"
    assert timeline["error"]["message"] == str(plain_error.value)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_backward_sets_aside_a_nested_leafs_grad_that_is_none():
    nt, loss = _nested_graph()
    timeline = gradstep.backward(loss)
    assert timeline["error"] is None and nt.grad is None
