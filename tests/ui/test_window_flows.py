"""Drive the window as a person would: type, run, step, read the panels, hit errors, export.

The session runs in-process here (behind the same worker thread as the kernel) so
these tests stay fast; tests/ui/test_hostile_gui.py goes through the real kernel.
Every number read off the panels is compared with torch computed in the test.
"""

from __future__ import annotations

import json

import pytest
import torch
from PySide6 import QtCore

from gradstep.autograd.session import Session
from gradstep.examples import EXAMPLES
from tests.step_oracle import printed

WAIT = 60_000  # ms; the first run imports torch's lazy modules

SNIPPET = [
    "import torch",
    "x = torch.tensor([1., 2., 3.], requires_grad=True)",
    "y = x + 2",
    "z = y ** 2 * 3",
    "out = z.mean()",
]


def type_snippet(qtbot, editor, lines):
    """Type ``lines`` into the editor key by key, replacing what was there."""
    editor.selectAll()
    qtbot.keyClick(editor, QtCore.Qt.Key.Key_Delete)
    for i, line in enumerate(lines):
        if i:
            qtbot.keyClick(editor, QtCore.Qt.Key.Key_Return)
        qtbot.keyClicks(editor, line)


def run_and_wait(qtbot, window, signal=None):
    """Press Ctrl+Enter in the editor and wait for ``signal`` (the backward pass by default)."""
    with qtbot.waitSignal(signal or window.sigBackwardFinished, timeout=WAIT):
        qtbot.keyClick(window.editor, QtCore.Qt.Key.Key_Return,
                       QtCore.Qt.KeyboardModifier.ControlModifier)


def step_to(window, name):
    """Step forward until the ▶ node (about to run) is called ``name``; return its id."""
    window.model.reset_steps()
    while True:
        step = window.model.current_step()
        if step is not None and step["name"] == name:
            return step["node"]
        if window.model.at_end():
            raise AssertionError(f"no step runs {name}")
        window.step_bar.act_forward.trigger()


def torch_oracle():
    """Return the gradient of out with respect to each intermediate, computed by torch."""
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x + 2
    y2 = y ** 2
    z = y2 * 3
    out = z.mean()
    dz, dy2, dy, dx = torch.autograd.grad(out, [z, y2, y, x])
    return {"out": out, "z": z, "dz": dz, "dy2": dy2, "dy": dy, "dx": dx}


def torch_grads_of_two_passes():
    """Return x.grad (as a list) after one and after two retained backward passes of SNIPPET,
    computed by torch."""
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = ((x + 2) ** 2 * 3).mean()
    out.backward(retain_graph=True)
    once = x.grad.tolist()
    out.backward(retain_graph=True)
    return once, x.grad.tolist()


@pytest.fixture
def window(make_window):
    return make_window(Session)


def test_type_run_step_and_read_the_values(qtbot, window):
    oracle = torch_oracle()
    type_snippet(qtbot, window.editor, SNIPPET)
    assert window.editor.toPlainText() == "\n".join(SNIPPET)
    run_and_wait(qtbot, window)
    assert window.model.graph is not None and window.model.step_count >= 5
    panel = window.values_panel

    node = step_to(window, "MeanBackward0")
    assert panel.node_id == node
    assert panel.forward.values.tolist() == pytest.approx([oracle["out"].item()])
    assert panel.arriving.values.tolist() == pytest.approx([1.0])
    assert panel.sent.values.tolist() == pytest.approx(oracle["dz"].tolist())

    step_to(window, "MulBackward0")
    assert panel.forward.values.tolist() == pytest.approx(oracle["z"].tolist())
    assert panel.arriving.values.tolist() == pytest.approx(oracle["dz"].tolist())
    assert panel.sent.values.tolist() == pytest.approx(oracle["dy2"].tolist())

    step_to(window, "PowBackward0")
    assert panel.sent.values.tolist() == pytest.approx(oracle["dy"].tolist())

    # stepping back changes the panels back
    before = window.model.step
    window.step_bar.act_back.trigger()
    assert window.model.step == before - 1
    assert panel.node_id == window.model.current_step()["node"]
    assert window.model.current_step()["name"] != "PowBackward0"

    window.step_bar.act_end.trigger()
    assert window.model.at_end()
    assert window.leaf_panel.cell("x", 0) == printed(oracle["dx"])
    states = window.model.states()
    assert set(states.values()) <= {"done", "freed", "current"}
    window.step_bar.act_reset.trigger()
    assert window.model.step == 0 and "done" not in window.model.states().values()


def test_keyboard_shortcuts_step(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    for key in (QtCore.Qt.Key.Key_Right, QtCore.Qt.Key.Key_Right):
        qtbot.keyClick(window, key, QtCore.Qt.KeyboardModifier.AltModifier)
    assert window.model.step == 2
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Left, QtCore.Qt.KeyboardModifier.AltModifier)
    assert window.model.step == 1
    qtbot.keyClick(window, QtCore.Qt.Key.Key_End, QtCore.Qt.KeyboardModifier.AltModifier)
    assert window.model.at_end()


def test_play_runs_to_the_end(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    window.step_bar.speed.setCurrentIndex(window.step_bar.speed.findData(16))  # 60 steps/s
    window.step_bar.act_play.trigger()
    qtbot.waitUntil(window.model.at_end, timeout=5000)
    qtbot.waitUntil(lambda: not window.step_bar.act_play.isChecked(), timeout=2000)


def test_requires_grad_error_marks_the_line_and_explains(qtbot, window):
    lines = ["import torch", "x = torch.ones(2)", "y = (x * 2).sum()", "y.backward()"]
    type_snippet(qtbot, window.editor, lines)
    with pytest.raises(RuntimeError) as torch_error:  # the oracle: torch's own words
        x = torch.ones(2)
        (x * 2).sum().backward()
    run_and_wait(qtbot, window, window.sigRunFinished)
    assert window.editor.error_line == 4
    assert str(torch_error.value) in window.editor.error_text
    assert window.editor.banner.isVisible() and str(torch_error.value) in window.editor.banner.text()
    text = window.errors_panel.toPlainText()
    assert str(torch_error.value) in text
    for words in (window.model.error["fix"], window.model.error["explanation"]):
        assert words.replace("`", "") in text  # its `code` words in the code font
    assert window.editor.toPlainText() == "\n".join(lines)  # the text is kept
    # clicking the error jumps to its line
    window.editor.go_to_line(1)
    with qtbot.waitSignal(window.errors_panel.sigJumpToLine, timeout=1000):
        qtbot.mouseClick(window.errors_panel.viewport(), QtCore.Qt.MouseButton.LeftButton,
                         pos=QtCore.QPoint(5, window.errors_panel.viewport().height() - 5))
    assert window.editor.textCursor().blockNumber() == 3
    # the next good snippet works and clears the mark
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    assert window.editor.error_line is None and window.model.step_count > 0
    assert not window.editor.banner.isVisible()


def test_syntax_error_is_marked(qtbot, window):
    window.editor.setPlainText("import torch\nx = torch.ones(2\n")
    run_and_wait(qtbot, window, window.sigRunFinished)
    assert window.model.error["kind"] == "syntax"
    assert window.editor.error_line == window.model.error["line"]
    assert window.editor.error_line in (2, 3)


def test_retain_graph_second_pass_fails_then_succeeds(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    assert not window.step_bar.retain.isChecked()
    run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.step_bar.act_again.trigger()
    err = window.model.timelines[-1]["error"]
    assert err and "backward through the graph a second time" in err["message"]
    assert "backward through the graph a second time" in window.errors_panel.toPlainText()

    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.step_bar.retain.setChecked(True)  # re-runs the snippet with the new option
    assert window.model.state().retain_graph
    window.docks["saved"].raise_()  # a tab behind Values: it fills in when shown
    assert "retain_graph=True" in window.saved_panel.state_label.text()
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.step_bar.act_again.trigger()
    assert window.model.timelines[-1]["error"] is None
    first, second = torch_grads_of_two_passes()
    history = window.model.leaf_history()["x"]
    assert history[0] == pytest.approx(first)
    assert history[1] == pytest.approx(second)  # .grad accumulated across passes


def test_export_writes_files_that_read_back(qtbot, window, tmp_path):
    pytest.importorskip("gradstep.drawing.export")
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    window.step_bar.act_forward.trigger()
    json_path, png_path = tmp_path / "g.json", tmp_path / "g.png"
    window.export_graph(str(json_path))
    window.export_graph(str(png_path))
    data = json.loads(json_path.read_text())
    assert len(data["nodes"]) == window.model.graph.number_of_nodes()
    from PySide6 import QtGui

    assert not QtGui.QImage(str(png_path)).isNull()


def test_search_selects_a_node_and_click_inspects(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    window.search.setText("Pow")
    with qtbot.waitSignal(window.model.sigInspected, timeout=WAIT):
        qtbot.keyClick(window.search, QtCore.Qt.Key.Key_Return)
    assert window.model.node(window.model.selected)["name"] == "PowBackward0"
    # the status line names the box found as the graph shows it, not its id ("n2")
    message = window.statusBar().currentMessage()
    assert "showing PowBackward0" in message and window.model.selected not in message.split()


def test_saved_tensors_alive_then_freed(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    node = step_to(window, "PowBackward0")  # ▶ on it: about to run, the panels follow it
    rows = {r[0]: r[2] for r in window.saved_panel_rows()}
    assert rows == {"exponent": "value 2", "self": "alive"}  # y ** 2 saves y and the exponent
    window.step_bar.act_forward.trigger()
    window.model.select(node)  # the ▶ moved on; look at the node that just ran
    freed = {r[0]: r[2] for r in window.saved_panel_rows()}
    # torch's own answer: after a pass without retain_graph the saved input is gone
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y2 = (x + 2) ** 2
    (y2 * 3).mean().backward()
    with pytest.raises(RuntimeError, match="freed"):
        y2.grad_fn._saved_self  # noqa: B018 (reading it is the check)
    assert freed["self"] == "freed"
    window.docks["saved"].raise_()  # a tab behind Values: it fills in when shown
    table = window.saved_panel.table
    shown = {table.topLevelItem(i).text(0): table.topLevelItem(i).text(2)
             for i in range(table.topLevelItemCount())}
    assert shown == freed


INPLACE = ["import torch", "a = torch.tensor([1.0, 2.0], requires_grad=True)",
           "b = a.sigmoid()", "b.mul_(2)", "b.sum().backward()"]


def test_a_saved_tensor_changed_in_place_says_so_with_torchs_versions(qtbot, window):
    """SigmoidBackward0 saved its result, which b.mul_(2) changed: torch refuses it at
    version 1 where it saved version 0; the panel, the pill and the hover text say so."""
    from gradstep.i18n import set_language
    from gradstep.ui.tensor_text import node_tooltip

    window.editor.setPlainText("\n".join(INPLACE))
    run_and_wait(qtbot, window, window.sigRunFinished)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a.sigmoid()
    b.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        b.sum().backward()
    node = step_to(window, "SigmoidBackward0")  # ▶ on it: torch raises here
    changed = "changed in place: version 1, saved at version 0"
    assert window.saved_panel_rows() == [("result", "(2,)", changed)]
    window.docks["saved"].raise_()
    table = window.saved_panel.table
    assert table.topLevelItem(0).text(2) == changed
    assert window.graph_view.graph_scene.saved[node][0]["changed_in_place"] is True
    attrs = window.model.graph.nodes[node]
    assert f"result ({changed})" in node_tooltip(attrs, saved=window.model.saved_of(node))
    try:
        window.set_language("zh_CN")
        qtbot.wait(50)
        assert table.topLevelItem(0).text(2) == "保存后被原地修改：现在是版本 1，保存时是版本 0"
    finally:
        window.set_language(None)
        set_language(None)


def test_saved_panel_shapes_are_torchs_also_once_the_snippets_pass_freed_them(qtbot, window):
    """The snippet's own backward() freed the buffers before the trace was taken; the
    shape column still gives each tensor's shape as torch had it, written as the boxes
    write a shape (torch's tuple: ``(2, 3)``, ``(1,)``), sizes (not tensors) left blank."""
    lines = ["import torch", "x = torch.ones(2, 3, requires_grad=True)",
             "w = torch.full((1,), 2.0, requires_grad=True)",
             "y = (x * w).pow(2).sum()", "y.backward()"]
    window.editor.setPlainText("\n".join(lines))
    run_and_wait(qtbot, window, window.sigRunFinished)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    x = torch.ones(2, 3, requires_grad=True)
    w = torch.full((1,), 2.0, requires_grad=True)
    xw = x * w
    fn = xw.pow(2).grad_fn
    expected = {"MulBackward0": {"self": str(tuple(xw.grad_fn._saved_self.shape)),
                                 "other": str(tuple(xw.grad_fn._saved_other.shape))},
                "PowBackward0": {"self": str(tuple(fn._saved_self.shape)), "exponent": ""}}
    for name, shapes in expected.items():
        step_to(window, name)
        assert {row[0]: row[1] for row in window.saved_panel_rows()} == shapes
    assert expected["MulBackward0"] == {"self": "(2, 3)", "other": "(1,)"}


def test_choosing_the_pass_shown_again_redraws_its_start(qtbot, window):
    """A failed run shows its pass at the end (step 3 of 3: MulBackward0 freed,
    SigmoidBackward0 where torch raised); choosing that pass again in the pass box starts
    it over: every box as the step state has it at step 0 (not run yet, buffers alive),
    not only the ▶ node's (the boxes kept the end's freed and error looks)."""
    window.editor.setPlainText("\n".join(INPLACE))
    run_and_wait(qtbot, window, window.sigRunFinished)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    model, scene = window.model, window.graph_view.graph_scene
    assert model.step == model.step_count == 3
    window.step_bar.passes.activated.emit(0)  # the pass box: the same pass chosen again
    assert model.step == 0
    state = model.state()
    shown = {n: scene.states.get(n, "pending") for n in model.graph.nodes}
    assert shown == {n: state.node_states.get(n, "pending") for n in model.graph.nodes}
    assert {n: scene.saved.get(n) for n in state.saved} == state.saved


@pytest.mark.parametrize("example_id", [e.id for e in EXAMPLES])
def test_each_example_runs_in_the_window(qtbot, window, example_id):
    """Every seed lesson runs: a graph to step, or (for the error lessons) torch's error on its line."""
    window.load_example(example_id)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT) as blocker:
        window.act_run.trigger()
    result = blocker.args[0]
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    if result["ok"]:
        assert window.model.graph is not None and window.model.step_count > 0
        window.step_bar.act_end.trigger()
        assert window.model.at_end()
    else:
        assert window.editor.error_line == result["error"]["line"] and result["error"]["line"]
        assert result["error"]["message"] in window.errors_panel.toPlainText()


def test_zero_grads_then_backward_again_starts_from_nothing(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    window.step_bar.retain.setChecked(True)  # no graph yet: nothing re-runs
    run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.step_bar.act_again.trigger()
    with qtbot.waitSignal(window.runner.sigResult, timeout=WAIT):
        window.step_bar.act_zero.trigger()
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.step_bar.act_again.trigger()
    once, twice = torch_grads_of_two_passes()
    history = window.model.leaf_history()["x"]
    assert history[0] == pytest.approx(once)
    assert history[1] == pytest.approx(twice)  # accumulated: 2x
    assert history[2] == pytest.approx(once)  # after zero grads: one pass again


def _node_point(window, node_id):
    """Return the viewport point at the centre of ``node_id``'s box."""
    view = window.graph_view
    view.center_on_node(node_id)
    return view.mapFromScene(view.graph_scene.node_rect(node_id).center())


def test_click_selects_and_hover_shows_the_tooltip(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    node = next(n for n, a in window.model.graph.nodes(data=True) if a["name"] == "AddBackward0")
    point = _node_point(window, node)
    assert window.graph_view.node_at(point) == node
    with qtbot.waitSignal(window.model.sigInspected, timeout=WAIT) as blocker:
        qtbot.mouseClick(window.graph_view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=point)
    assert window.model.selected == node and blocker.args[0]["id"] == node
    y = torch.tensor([1.0, 2.0, 3.0]) + 2  # the oracle for the node's forward value
    assert window.values_panel.forward.values.tolist() == pytest.approx(y.tolist())
    from gradstep.ui.tensor_text import node_tooltip

    tip = node_tooltip(window.graph_view.graph_scene.graph.nodes[node])
    assert "AddBackward0" in tip and "shape: (3,)" in tip and "device: cpu" in tip


def test_switching_device_reruns_there(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT) as blocker:
        window.device_selector.setCurrentIndex(window.device_selector.findData("meta"))
    assert window.model.device == "meta"
    assert blocker.args[0]["ok"], blocker.args[0]["error"]
    devices = {a.get("device") for _, a in window.model.graph.nodes(data=True)}
    assert devices == {"meta"}  # every node shows the device it ran on


def test_open_save_and_recent_files(qtbot, window, tmp_path):
    path = tmp_path / "lesson.py"
    path.write_text("import torch\nprint('never run by opening')\n")
    assert window.open_file(str(path))
    assert window.editor.toPlainText() == path.read_text()
    assert window.model.trace is None and not window.runner.busy  # opening never runs
    assert window.recent_files()[0] == str(path.resolve())
    window.editor.appendPlainText("y = 1")
    window.save()
    assert path.read_text().endswith("y = 1")


def test_copy_image_puts_the_graph_on_the_clipboard(qtbot, window):
    from PySide6 import QtGui

    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    window.copy_image()
    image = QtGui.QGuiApplication.clipboard().image()
    assert not image.isNull() and image.width() > 50 and image.height() > 50


def test_double_click_folds_and_expands_a_module(qtbot, window):
    window.editor.setPlainText(
        "import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
        "net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))\n"
        "loss = net(torch.ones(2, 3)).sum()\n")
    run_and_wait(qtbot, window)
    graph = window.model.graph
    member = next(n for n, a in graph.nodes(data=True) if a.get("scope") == "0")
    before = window.graph_view.graph_scene.graph.number_of_nodes()
    qtbot.mouseDClick(window.graph_view.viewport(), QtCore.Qt.MouseButton.LeftButton,
                      pos=_node_point(window, member))
    folded = window.graph_view.graph_scene.graph
    assert "0" in window.graph_view.collapsed and "module:0" in folded
    members = [n for n, a in graph.nodes(data=True) if a.get("scope") == "0"]
    assert folded.number_of_nodes() == before - len(members) + 1
    qtbot.mouseDClick(window.graph_view.viewport(), QtCore.Qt.MouseButton.LeftButton,
                      pos=_node_point(window, "module:0"))
    assert window.graph_view.graph_scene.graph.number_of_nodes() == before


def test_a_leaf_found_inside_a_folded_module_rings_its_box(qtbot, window):
    """Find (Ctrl+F) a leaf that is folded into a module's box: the box that holds it is
    ringed (the ring went to the leaf, which no box shows: the person saw nothing happen),
    and once unfolded, the leaf's own box; the panels show the leaf, its .grad torch's."""
    window.editor.setPlainText(
        "import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
        "net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))\n"
        "loss = net(torch.ones(2, 3)).sum()\nloss.backward()\n")
    run_and_wait(qtbot, window, window.sigRunFinished)  # (the snippet's own pass)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    net(torch.ones(2, 3)).sum().backward()
    view, graph = window.graph_view, window.model.graph
    view.fold_to_depth(1)
    leaf = next(n for n, a in graph.nodes(data=True) if a.get("label") == "2.bias")
    box = next(n for n, a in view.graph_scene.graph.nodes(data=True) if leaf in a.get("members", ()))
    assert box == "module:2" and leaf not in view.graph_scene.graph
    window.model.run_to_end()  # (a step shows the ▶ node again: found after it)
    window.search.setText("2.bias")
    qtbot.keyClick(window.search, QtCore.Qt.Key.Key_Return)
    assert window.model.selected == leaf and view.graph_scene.highlight == {box}
    assert "2.bias" in window.values_panel.header.text()
    assert window.values_panel.grad_change.text().endswith(f"→ {printed(net[2].bias.grad)}")
    view.fold_to_depth(None)  # unfolded: the ring is on the leaf's own box
    assert view.graph_scene.highlight == {leaf}
    view.fold_to_depth(1)
    assert view.graph_scene.highlight == {box}


def test_values_tab_hidden_while_stepping_shows_the_right_values_when_shown(qtbot, window):
    """A hidden panel skips the work of each step and fills in when its tab is shown again:
    what it shows then is the current node's, checked against torch."""
    oracle = torch_oracle()
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    panel = window.values_panel
    window.docks["saved"].raise_()
    assert panel.visibleRegion().isEmpty()
    node = step_to(window, "MulBackward0")
    assert panel.node_id != node  # not redrawn while hidden
    window.docks["values"].raise_()
    assert panel.node_id == node
    assert panel.forward.values.tolist() == pytest.approx(oracle["z"].tolist())
    assert panel.arriving.values.tolist() == pytest.approx(oracle["dz"].tolist())
    assert panel.sent.values.tolist() == pytest.approx(oracle["dy2"].tolist())
    assert panel.sent.drawn().tolist() == pytest.approx(oracle["dy2"].tolist())


def test_left_to_right_layout_keeps_the_step_shown(qtbot, window):
    window.editor.setPlainText("\n".join(SNIPPET))
    run_and_wait(qtbot, window)
    for _ in range(3):
        window.step_bar.act_forward.trigger()
    states, labels = dict(window.graph_view._states), dict(window.graph_view._labels)
    assert labels  # the gradients sent so far are written on edges
    window.act_lr.trigger()
    assert window.graph_view.rankdir == "LR"
    assert window.graph_view._states == states == window.model.states()
    assert window.graph_view._labels == labels


@pytest.mark.parametrize("ops", [4, 150])
def test_a_graph_opens_fitted_when_its_boxes_keep_their_words_else_readable_on_its_root(
        qtbot, window, ops):
    """A graph fits the window when its text is still drawn at that scale; a tall one
    (150 ops, under the big-graph count: GPT-2 folded is like it) opens at 100% on the
    root, where the backward pass starts, not as wordless boxes."""
    from gradstep.drawing import qt_paint, samples

    window.resize(1280, 800)
    view = window.graph_view
    view.set_graph(samples.chain(ops))
    scale = view.transform().m11()
    if ops == 4:
        assert scale >= qt_paint.LABEL_LOD
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        assert shown.contains(view.scene().itemsBoundingRect())  # all of it in view
    else:
        assert scale == 1.0
        root = view.graph_scene.rect_of(view.graph_scene.node_ids.index("n0"))
        assert view.mapToScene(view.viewport().rect()).boundingRect().intersects(root)


@pytest.mark.parametrize("source", ["x = 2\nprint(x * 3)\n", "x = 2\nraise ValueError(x)\n"])
def test_after_a_run_that_built_no_graph_every_panel_says_so(qtbot, window, source):
    """Values, Saved and Diagnose say the last run built no graph, not 'Run a snippet' (as
    if none had run) or 'Click a node' (there is none), whether it failed or not."""
    words = "The last run built no graph"
    assert words not in window.values_panel.header.text()  # nothing ran yet
    window.editor.setPlainText(source)
    run_and_wait(qtbot, window, window.sigRunFinished)
    assert window.model.graph is None
    for name in ("values", "saved", "diagnose"):
        window.docks[name].raise_()  # a panel redraws when it is seen
        qtbot.wait(50)
    assert words in window.values_panel.header.text()
    assert words in window.saved_panel.node_label.text()
    assert words in window.diagnose_view.panel.summary.text()
    # the Values panel is its header's words alone: no "Forward value" plot, formula box
    # or blank row under the header, as if a node were shown
    panel = window.values_panel
    assert all(part.isHidden() for part in (panel.grad_change, panel.formula, panel.forward,
                                            panel.arriving, panel.sent, panel.jacobian,
                                            panel.slot_label, panel.slot_choice))
    # Zero grads says why it does nothing, as Backward again does
    window.step_bar.act_zero.trigger()
    assert "No graph, so no leaf .grad to set to None" in window.statusBar().currentMessage()


def test_a_folded_module_wholly_outside_the_pass_is_faded_as_in_an_export(qtbot, window):
    """Two heads; the snippet's backward call is on head a's output only. Folded, head b's
    box holds nothing of that pass: the window fades it (it faded only loose nodes), as
    the picture export does (``collapse.outside``); head a's box is not faded."""
    from gradstep.drawing.collapse import outside

    window.editor.setPlainText(
        "import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
        "class Two(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a, self.b = nn.Linear(3, 2), nn.Linear(3, 2)\n"
        "    def forward(self, x):\n"
        "        return self.a(x), self.b(x)\n"
        "m = Two()\nya, yb = m(torch.ones(1, 3))\nout = ya.sum() + yb.sum()\n"
        "ya.sum().backward()\nout\n")
    run_and_wait(qtbot, window, window.sigRunFinished)
    qtbot.waitUntil(lambda: window.model.index() is not None, timeout=WAIT)
    view = window.graph_view
    view.fold_to_depth(1)
    drawn = view.graph_scene.graph
    boxes = {n for n in drawn if n.startswith("module:")}
    assert {"module:a", "module:b"} <= boxes, boxes
    assert "module:b" in view.graph_scene.dimmed and "module:a" not in view.graph_scene.dimmed
    assert view.graph_scene.dimmed == outside(drawn, window.model.index().members)
