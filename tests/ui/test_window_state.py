"""What the window shows around the numbers: nothing stale from the previous run, words a
person can act on, folds that show the step, files that run as plain Python, exports
with the step's gradients. torch (run here) is the oracle wherever a number is checked."""

from __future__ import annotations

import json

import pytest
import torch
from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.session import Session
from gradstep.ui.qt_leaf_panel import RETURNED_ROW
from tests.step_oracle import printed

WAIT = 60_000
CHAIN = "import torch\nx = torch.tensor([1., 2., 3.], requires_grad=True)\nout = (x * x).sum()\n"


@pytest.fixture
def window(make_window):
    return make_window(Session)


def run(qtbot, window, source: str) -> dict:
    window.editor.setPlainText(source)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT) as blocker:
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    return blocker.args[0]


def test_a_new_run_replaces_every_pass_column_and_panel(qtbot, window):
    window.load_example("retain_graph_fixed")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    assert len(window.model.passes) == 2 and window.leaf_panel.columnCount() == 3
    run(qtbot, window, CHAIN)
    assert len(window.model.passes) == 1  # gradstep's own pass, nothing of the lesson
    assert window.leaf_panel.columnCount() == 2
    assert window.step_bar.passes.count() == 1
    assert "SelectBackward0" not in window.values_panel.header.text()
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert window.leaf_panel.cell("x", 0) == printed(x.grad)


def test_a_leafs_grad_reads_as_the_snippets_print_shows_it(qtbot, window):
    """retain_graph_fixed prints a.grad after each pass; the Leaf gradients panel and the
    Values panel's .grad before -> after show the same numbers, not 6 digits of them
    ([-0.0827829, 0.227448, -0.144665] beside the Output's tensor([-0.0828, 0.2274, -0.1447]))."""
    window.load_example("retain_graph_fixed")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = torch.nn.functional.softmax(a, dim=0)
    p[1].backward(retain_graph=True)
    first = a.grad.clone()
    p[1].backward()
    assert window.output_panel.toPlainText().split("\n")[:2] == [str(first), str(a.grad)]
    assert window.leaf_panel.cell("a", 0) == printed(first)
    assert window.leaf_panel.cell("a", 1) == printed(a.grad)
    window.model.choose_timeline(1)
    window.model.run_to_end()
    window.docks["values"].raise_()
    qtbot.wait(50)
    text = window.values_panel.grad_change.text()
    assert f"{printed(first)} → {printed(a.grad)}" in text, text


def test_opening_another_snippet_drops_the_last_runs_graph_and_panels(qtbot, window):
    """An example loaded (not run) after the retain_graph lesson's failed run: no CIFAR or
    softmax graph, steps, pass list, printed output or error beside the new text (stepping
    it would have marked the old pass's lines in the new code); the graph area says it has
    not run. Running it then shows its own graph."""
    window.load_example("retain_graph_error")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    assert window.model.passes and window.model.error and window.output_panel.toPlainText()
    window.load_example("grad_fn_chain")
    assert window.model.graph is None and not window.model.passes and not window.model.has_run
    assert window.graph_view.graph is None
    shown = " ".join(item.toPlainText() for item in window.graph_view.scene().items())
    assert "Not run yet" in shown
    assert window.step_bar.passes.count() == 0 and window.node_count.text() == ""
    assert window.output_panel.toPlainText() == ""
    assert "No errors." in window.errors_panel.toPlainText()
    assert window.editor.pass_line is None
    window.docks["values"].raise_()
    qtbot.wait(50)
    assert "Softmax" not in window.values_panel.header.text()
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    assert window.graph_view.graph is not None and "MeanBackward0" in {
        a["name"] for _n, a in window.model.graph.nodes(data=True)}


def test_a_run_in_flight_when_another_snippet_opens_is_not_shown_beside_it(qtbot, window):
    """Opened while the last text's run was still running: its graph, passes and output,
    arriving after, are not shown beside the new text; it still has not run."""
    window.load_example("mse_backward")
    with qtbot.waitSignal(window.runner.sigBusyChanged, timeout=WAIT,
                          check_params_cb=lambda busy: not busy):
        window.act_run.trigger()
        assert window.runner.busy
        window.load_example("grad_fn_chain")
    assert window.model.graph is None and not window.model.passes and not window.model.has_run
    assert window.output_panel.toPlainText() == "" and window.graph_view.graph is None
    shown = " ".join(item.toPlainText() for item in window.graph_view.scene().items())
    assert "Not run yet" in shown
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    assert window.model.graph is not None


def test_autograd_grad_leaves_dot_grad_none_and_shows_what_it_returned(qtbot, window):
    window.load_example("mse_autograd_grad")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    x, w = torch.ones(1), torch.full([1], 2.0, requires_grad=True)
    (returned,) = torch.autograd.grad(torch.nn.functional.mse_loss(torch.ones(1), x * w), [w])
    assert w.grad is None
    assert window.leaf_panel.cell("w", 0) == "None"
    assert window.leaf_panel.cell("w", 0, RETURNED_ROW) == printed(returned)
    window.model.run_to_end()
    window.model.select(next(n for n, a in window.model.graph.nodes(data=True) if a["kind"] == "leaf"))
    assert "does not write .grad" in window.values_panel.grad_change.text()


def test_zero_grads_is_a_column_of_the_leaf_table(qtbot, window):
    run(qtbot, window, CHAIN)
    with qtbot.waitSignal(window.runner.sigResult, timeout=WAIT):
        window.step_bar.act_zero.trigger()
    assert window.model.columns[-1][0] == "zero"
    header = window.leaf_panel.headerItem()
    assert header.text(window.leaf_panel.columnCount() - 1) == "zero grads"
    assert window.leaf_panel.topLevelItem(0).text(window.leaf_panel.columnCount() - 1) == "None"


def test_the_leaf_table_shows_each_pass_header_whole(qtbot, window):
    """The ▶ and bold of the pass being stepped widen its header: the column widens too
    (it kept the width of the plain "pass 2" and cut the text)."""
    run(qtbot, window, "import torch\nw = torch.ones(1, requires_grad=True)\nloss = (w * 2).sum()\n"
                       "loss.backward(retain_graph=True)\nloss.backward()\n")  # .grad [2], then [4]
    table, header = window.leaf_panel, window.leaf_panel.header()
    for index in (0, 1, 0):
        window.model.choose_timeline(index)
        for col in range(1, table.columnCount()):
            shown = table.headerItem().text(col)
            font = table.headerItem().font(col)
            assert QtGui.QFontMetrics(font).horizontalAdvance(shown) <= header.sectionSize(col), shown
    assert table.headerItem().text(1).startswith("▶")


@pytest.mark.parametrize("code", ["en", "zh_CN"])
def test_the_step_bars_no_steps_note_is_on_the_bar_at_1280x800(qtbot, window, code):
    """A pass torch ran with ``is_grads_batched=True`` (gradstep shows none of its steps):
    the step bar's note (its mode and why it shows no steps) was as wide as its whole reason,
    so the bar put all of it, mode words too, behind its » edge at 1280x800. It now takes the
    bar's room, cut at its end with "…", the whole reason in its tooltip."""
    from gradstep.ui.pass_names import no_steps_note

    x = torch.randn(3, requires_grad=True)  # torch runs the pass (the snippet's own call)
    (g,) = torch.autograd.grad((x.sin() * 2).sum(), x, torch.ones(2), is_grads_batched=True)
    assert g.shape == (2, 3)
    window.set_language(code)
    window.resize(1280, 800)
    run(qtbot, window, "x = torch.randn(3, requires_grad=True)\ny = (x.sin() * 2).sum()\n"
                       "g, = torch.autograd.grad(y, x, torch.ones(2), is_grads_batched=True)\n")
    QtWidgets.QApplication.processEvents()
    bar, note = window.step_bar, window.step_bar.pass_info
    reason = no_steps_note(window.model.timeline)
    assert reason and window.model.step_count == 0
    assert note.isVisible() and note.geometry().right() < bar.width(), note.geometry()
    shown = note.text()
    assert shown.startswith(" autograd.grad · retain_graph=False · ")
    whole = f" autograd.grad · retain_graph=False · {reason} "
    assert shown == whole or (shown.endswith("…") and whole.startswith(shown[:-1]))
    assert note.fontMetrics().horizontalAdvance(shown) <= note.contentsRect().width()
    assert note.toolTip() == whole.strip()  # cut: the whole note in its tooltip
    window.resize(1024, 768)  # narrower: its API at least, on the bar (not behind »)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=5000)
    QtWidgets.QApplication.processEvents()
    shown = note.text()
    assert note.isVisible() and note.geometry().right() < bar.width(), note.geometry()
    assert shown.startswith(" autograd.grad") and shown.endswith("…") and whole.startswith(shown[:-1])
    window.set_language(None)


def test_the_pass_list_and_mode_say_what_the_snippet_did(qtbot, window):
    window.load_example("softmax_jacobian")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    assert window.step_bar.pass_info.text().strip() == "autograd.grad · retain_graph=True"
    assert "p[1]" in window.step_bar.passes.itemText(0)
    assert window.editor.pass_line == 12
    window.step_bar.passes.activated.emit(1)
    assert window.editor.pass_line == 13
    assert window.step_bar.pass_info.text().strip() == "autograd.grad · retain_graph=False"
    # a whole note without a tip of its own keeps saying what the label is, also after a resize
    window.resize(window.width() - 40, window.height())
    QtWidgets.QApplication.processEvents()
    assert window.step_bar.pass_info.toolTip() == "What the pass being stepped does, as its code says"
    labels = {a["label"] for _, a in window.model.graph.nodes(data=True) if a["name"] == "SelectBackward0"}
    assert labels == {"p[1]", "p[2]"}
    # the options are for gradstep's own passes: changing them does not re-run the lesson
    window.step_bar.retain.setChecked(True)
    assert not window.runner.busy and "Backward again" in window.statusBar().currentMessage()


def test_values_panel_follows_the_play_node_and_picks_a_slot_with_a_gradient(qtbot, window):
    window.load_example("mse_backward")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    panel = window.values_panel
    mse = window.model.current_step()["node"]
    assert panel.node_id == mse and "▶" in panel.header.text()  # at step 0, not empty
    assert panel.forward.kind == "scalar" and panel.sent.kind == "scalar"  # shape [1]: a number
    assert panel._sent_values[panel.slot_choice.currentIndex()] is not None
    window.model.select(mse)
    window.step_bar.act_forward.trigger()  # a step after a click follows the ▶ again
    assert panel.node_id == window.model.current_step()["node"] != mse
    window.step_bar.act_end.trigger()
    leaf = window.model.last_step()
    assert panel.node_id == leaf["node"]
    w = torch.full([1], 2.0, requires_grad=True)
    torch.nn.functional.mse_loss(torch.ones(1), torch.ones(1) * w).backward()
    assert panel.grad_change.text() == f"w.grad: None → {printed(w.grad)}"


def test_jacobian_heatmap_has_whole_number_ticks_and_named_axes(qtbot, window):
    window.load_example("softmax_jacobian")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    softmax = next(n for n, a in window.model.graph.nodes(data=True) if a["name"] == "SoftmaxBackward0")
    with qtbot.waitSignal(window.model.sigInspected, timeout=WAIT):
        window.model.select(softmax)
    plot = window.values_panel.jacobian
    assert plot.kind == "heatmap"
    a = torch.tensor([0.1440, 0.5349, 0.7022])
    want = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), a)
    assert plot.values.tolist() == pytest.approx(want.flatten().tolist(), abs=1e-6)
    window.values_panel.ensureWidgetVisible(plot)  # scrolled to, as a person would, it is drawn
    item = plot._plot.getPlotItem()
    ticks = item.getAxis("bottom")._tickLevels[0]
    assert [label for _pos, label in ticks] == ["0", "1", "2"]
    assert item.getAxis("bottom").labelText == "j (input)" and item.getAxis("left").labelText == "i (output)"


def test_folded_module_box_shows_the_step_of_what_it_holds(qtbot, window):
    source = ("import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
              "net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))\n"
              "loss = net(torch.ones(2, 3)).sum()\n")
    run(qtbot, window, source)
    qtbot.waitUntil(lambda: bool(window.model.passes), timeout=WAIT)
    window.fold_to_depth(1)
    scene = window.graph_view.graph_scene
    boxes = [n for n, a in scene.graph.nodes(data=True) if a.get("kind") == "module"]
    assert boxes
    while window.model.current_step() and window.model.current_step()["node"] not in \
            scene.graph.nodes[boxes[0]]["members"]:
        window.step_bar.act_forward.trigger()
    assert scene.states[boxes[0]] == "current"  # the ▶ node is inside: the box says so
    window.step_bar.act_end.trigger()
    assert scene.states[boxes[0]] in ("done", "freed")
    window.fold_to_depth(None)
    assert not [n for n, a in window.graph_view.graph_scene.graph.nodes(data=True)
                if a.get("kind") == "module"]


def test_root_picker_draws_another_loss(qtbot, window):
    window.load_example("losses_reduction")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    picker = window.root_picker
    assert [picker.itemData(i) for i in range(picker.count())] == ["", "res", "res_sum", "res_mse",
                                                                   "res_cross"]
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        picker.activated.emit(picker.findData("res_mse"))
    root = window.model.trace["root"]
    assert window.model.node(root)["name"] == "MseLossBackward0"


def test_deep_values_toggle_reaches_the_session(qtbot, make_window):
    seen = []

    class Recording(Session):
        def run(self, source, **options):
            seen.append(options.get("deep_values", False))
            return super().run(source, **options)

    window = make_window(Recording)
    window.editor.setPlainText(CHAIN)
    window.act_deep.setChecked(True)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    assert seen == [True]


def test_error_words_fit_the_window(qtbot, window):
    from gradstep.kernel.messages import timeout_error
    from gradstep.ui.qt_errors_panel import error_html

    window._show_error(timeout_error(None, by_user=True, state_lost=False, line=2))
    assert "None:" not in window.editor.banner.text() and "Stopped" in window.editor.banner.text()
    assert "--timeout" not in error_html(timeout_error(3.0, by_user=False, state_lost=False))
    run(qtbot, window, "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\nout = x.dot(x)\n")
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.step_bar.act_again.trigger()  # without retain_graph: torch refuses
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    out = x.dot(x)
    out.backward()
    with pytest.raises(RuntimeError, match="second time"):
        out.backward()
    text = window.errors_panel.toPlainText()
    assert "second time" in text and "no line" not in text and "gradstep ran" in text
    assert window.statusBar().currentMessage().startswith("Pass 2: 1 step —")


def test_a_run_ended_from_outside_does_not_say_it_built_no_tensor():
    """A loop stopped (and its kernel restarted) at line 4 after `y = x * 2` built a graph:
    the graph area says the run was ended there and no graph came back, not that the
    snippet stopped 'before any tensor with a grad_fn was built'."""
    from gradstep.kernel.messages import crash_error, timeout_error
    from gradstep.ui.error_words import no_graph_text

    for error in (timeout_error(None, by_user=True, state_lost=True, line=4),
                  timeout_error(2.0, by_user=False, state_lost=False, line=4),
                  crash_error(-9, line=4)):
        text = no_graph_text({"ok": False, "error": error})
        assert "line 4" in text and "no graph came back" in text, text
        assert "before any tensor" not in text
    ended = no_graph_text({"ok": False, "error": timeout_error(None, by_user=True,
                                                                state_lost=True)})
    assert "no graph came back" in ended and "before any tensor" not in ended
    failed = no_graph_text({"ok": False, "error": {"kind": "other", "line": 2}})
    assert "stopped at line 2 before any tensor with a grad_fn" in failed
    # the snippet's own MemoryError came back with what it built: none was built
    own = no_graph_text({"ok": False, "error": {"kind": "memory", "type": "MemoryError",
                                                "line": 2}})
    assert "stopped at line 2 before any tensor with a grad_fn" in own, own


def test_nothing_to_draw_says_each_thing_once():
    """A snippet with no grad_fn: the graph area read "No graph to draw: nothing to draw:
    ... (did you set requires_grad=True?)" and then "Did you set requires_grad=True?"
    again, as did the command line (walk 5)."""
    from gradstep.autograd.errors import format_error
    from gradstep.ui.error_words import no_graph_text

    session = Session()
    try:
        result = session.run("import torch\nx = torch.ones(2)\ny = x.sum()\n")
    finally:
        session.reset()
    assert result["error"]["kind"] == "nothing_to_draw"
    area = no_graph_text(result)
    # the fix names the line and the leaf (x, line 2) and says requires_grad=True once
    assert area.lower().count("nothing to draw") == 0 and area.count("requires_grad=True") == 1
    assert "Line 3 made y" in area and "line 2" in area, area
    printed = format_error(result["error"], "s.py")
    assert printed.lower().count("nothing to draw") == 1, printed
    assert result["error"]["message"] == "the snippet made no tensor with a grad_fn"
    assert printed.count("requires_grad=True") == 1, printed
    assert printed.startswith("s.py:3: "), printed


def test_the_requires_grad_lessons_graph_area_reads_as_one_sentence():
    """The requires_grad lesson's graph area read "No graph to draw: Nothing here requires
    grad." (the error's title, capital and all, after the colon); in Chinese the title
    as it is."""
    from gradstep import i18n
    from gradstep.examples import load_example
    from gradstep.ui.error_words import no_graph_text

    session = Session()
    try:
        result = session.run(load_example("requires_grad_error"))
    finally:
        session.reset()
    assert result["error"]["kind"] == "no_grad_fn"
    assert no_graph_text(result).startswith("No graph to draw: nothing here requires grad.")
    with i18n.using("zh_CN"):
        title = i18n.localized(result["error"])["title"]
        assert title in no_graph_text(result) and title[:1] != "n"
    assert no_graph_text({"ok": False, "error": {"kind": "no_grad_fn", "title": "NaN here"}}
                         ).startswith("No graph to draw: NaN here.")


def test_run_on_an_empty_editor_says_the_snippet_is_empty():
    """A new user's first Run, on an empty editor: the Errors panel said "No graph to
    draw ... Did you set requires_grad=True?", the command line "The snippet is empty".
    Now the window says it as the command line does, and the graph area what to do."""
    from gradstep.ui.error_words import no_graph_text

    session = Session()
    try:
        result = session.run("  \n")
    finally:
        session.reset()
    assert result["error"]["kind"] == "empty" and result["error"]["title"] == "The snippet is empty"
    area = no_graph_text(result)
    assert "the snippet is empty" in area and "requires_grad" not in area
    assert "stopped" not in area


def test_syntax_error_marks_its_column(qtbot, window):
    result = run(qtbot, window, "import torch\nx = torch.ones(2\n")
    err = result["error"]
    assert window.editor.error_column == err["column"]
    assert ("marked column" in window.errors_panel.toPlainText()) == bool(err["column"])


def test_ctrl_e_exports_while_the_find_box_has_focus(qtbot, window, monkeypatch):
    asked = []
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (asked.append(a), ("", ""))[1])
    run(qtbot, window, CHAIN)
    window.activateWindow()
    window.search.setFocus()
    qtbot.waitUntil(window.search.hasFocus, timeout=2000)
    qtbot.keyClick(window.search, QtCore.Qt.Key.Key_E, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert asked, "Ctrl+E did not open the export dialog"


def test_a_name_typed_without_a_suffix_exports_in_the_chosen_format(qtbot, window, tmp_path,
                                                                    monkeypatch):
    run(qtbot, window, CHAIN)
    warnings = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: warnings.append(a))
    for chosen, suffix in (("SVG image (*.svg)", ".svg"), ("", ".png")):
        monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                            lambda *a, c=chosen, **k: (str(tmp_path / "graph"), c))
        window.export_dialog()  # it said "cannot tell the format of 'graph'"
        assert (tmp_path / f"graph{suffix}").stat().st_size > 0 and not warnings, warnings
    webp = tmp_path / "steps"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(webp), "WebP (*.webp)"))
    window.exports.animation_dialog()  # it wrote a GIF whatever the format chosen
    assert not warnings, warnings
    assert (tmp_path / "steps.webp").read_bytes()[8:12] == b"WEBP" and not webp.with_suffix(".gif").exists()


@pytest.mark.parametrize("suffix", [".pdf", ".svg"])
def test_an_export_that_cannot_be_written_says_so_in_words(qtbot, window, tmp_path, monkeypatch,
                                                           suffix):
    """File > Export onto a folder's name: a PDF said "Exported" and wrote nothing (Qt's PDF
    writer only warns); an SVG's warning was the system's English "[Errno 21] Is a directory"."""
    from gradstep import i18n

    run(qtbot, window, CHAIN)
    target = tmp_path / f"graph{suffix}"
    target.mkdir()
    warnings = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    window.export_dialog()
    with i18n.using("zh_CN"):
        window.export_dialog()
    assert warnings == [f"{target}\n\ncould not write {target}: it is a folder; name a file in "
                        f"it (e.g. {target / target.name})",
                        f"{target}\n\n无法写入 {target}：它是一个文件夹；请给出其中的一个文件名"
                        f"（例如 {target / target.name}）"], warnings
    assert "Exported" not in window.statusBar().currentMessage()


def test_window_export_has_the_steps_gradients_and_states(qtbot, window, tmp_path):
    window.load_example("mse_backward")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.step_bar.act_forward.trigger()
    path = tmp_path / "g.json"
    window.export_graph(str(path))
    data = json.loads(path.read_text())
    x, w = torch.ones(1), torch.full([1], 2.0, requires_grad=True)
    y = x * w
    y.retain_grad()
    torch.nn.functional.mse_loss(torch.ones(1), y).backward()
    grads = [e["grad"] for e in data["edges"] if e["grad"] is not None]
    assert grads == [pytest.approx(y.grad.tolist())]
    states = {n["name"]: n["state"] for n in data["nodes"]}
    assert states == {"MseLossBackward0": "freed", "MulBackward0": "current", "AccumulateGrad": "pending"}
    mse = next(n for n in data["nodes"] if n["name"] == "MseLossBackward0")
    assert all(s["freed"] for s in mse["saved"] if "freed" in s)


def test_save_as_names_the_window_and_the_file_runs_as_python(qtbot, window, tmp_path, monkeypatch):
    import subprocess
    import sys

    path = tmp_path / "mine.py"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.editor.setPlainText("x = torch.ones(2, requires_grad=True)\nprint(F.relu(x).sum().item())\n")
    assert window.save_as()
    assert window.windowTitle().startswith("gradstep — mine.py")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(torch.nn.functional.relu(torch.ones(2)).sum().item())
    assert window.editor.toPlainText() == path.read_text()


def test_open_and_quit_ask_about_unsaved_edits(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "lesson.py"
    path.write_text("import torch\n")
    assert window.open_file(str(path))
    window.editor.appendPlainText("y = 1")
    asked = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "exec",
                        lambda box: (asked.append(box.text()),
                                     QtWidgets.QMessageBox.StandardButton.Cancel)[1])
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        lambda *a, **k: pytest.fail("opened without asking"))
    window.files.open_dialog()
    assert asked and "lesson.py" in asked[-1]
    window.close()
    assert window.isVisible() and len(asked) == 2  # Cancel keeps the window open
    window.save()
    assert path.read_text().endswith("y = 1\n") or path.read_text().endswith("y = 1")



def test_a_save_that_fails_keeps_the_file_and_the_edits_and_quitting_waits(qtbot, window,
                                                                            tmp_path, monkeypatch):
    """A full disk halfway through File › Save raised out of the window (quitting then
    closed it, the edits gone) and left part of the file. The file stays as it was, the
    window says why in words, and quitting with Save chosen waits."""
    import errno
    import os

    (tmp_path / "mine").mkdir()
    path = tmp_path / "mine" / "lesson.py"
    path.write_text("import torch\n")
    old = path.read_bytes()
    assert window.open_file(str(path))
    window.editor.appendPlainText("y = 1")

    def half_then_full(into, data):
        with open(into, "wb") as out:
            out.write(data[:5])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    warned = []
    monkeypatch.setattr("pathlib.Path.write_bytes", half_then_full)
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    monkeypatch.setattr(QtWidgets.QMessageBox, "exec",
                        lambda box: QtWidgets.QMessageBox.StandardButton.Save)
    assert not window.files.save()
    assert warned == [f"could not write {path}: the disk is full; free some space or write "
                      "into another folder"]
    assert path.read_bytes() == old and sorted(p.name for p in path.parent.iterdir()) == ["lesson.py"]
    assert window.editor.document().isModified() and window.editor.toPlainText().endswith("y = 1")
    window.close()
    assert window.isVisible() and len(warned) == 2  # Save failed: the window stays open
    monkeypatch.undo()
    assert window.files.save() and path.read_text() == window.editor.toPlainText()


def test_saving_never_changes_what_python_reads_of_the_file_unasked(qtbot, window, tmp_path,
                                                                    monkeypatch):
    """The window saved UTF-8 whatever the file declared: a latin-1 file's `é` became `Ã©`
    under python, and a declared-UTF-8 file's bad comment byte became U+FFFD unasked.
    `python FILE` is the oracle for what the saved file holds."""
    import subprocess
    import sys

    def python(path):
        done = subprocess.run([sys.executable, str(path)], capture_output=True, timeout=60)
        return done.returncode, done.stdout.decode("utf-8").strip()

    asked, warned = [], []
    monkeypatch.setattr(QtWidgets.QMessageBox, "exec",
                        lambda box: (asked.append(box.text()), answer[0])[1])
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: warned.append(a))
    answer = [QtWidgets.QMessageBox.StandardButton.Cancel]
    # a latin-1 file: saved in latin-1, python prints what it printed before and the edit
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nprint('caf\xe9')\n")
    before = python(latin)
    assert window.open_file(str(latin))
    window.editor.appendPlainText("print('na\xefve')")
    assert window.files.save() and not asked and not warned
    assert python(latin) == (0, before[1] + "\nna\xefve")
    # a character latin-1 has no byte for: not saved, the file as it was
    kept = latin.read_bytes()
    window.editor.appendPlainText("print('\u4e2d')")
    assert not window.files.save() and warned and latin.read_bytes() == kept
    # a declared-UTF-8 file with a byte that is not UTF-8 in a comment: asked; Cancel keeps it
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"# coding: utf-8\n# caf\xe9\nprint('ok')\n")
    original = bad.read_bytes()
    assert python(bad) == (0, "ok")
    assert window.open_file(str(bad))
    window.editor.appendPlainText("print(2)")
    assert not window.files.save() and "bad.py" in asked[-1] and bad.read_bytes() == original
    answer[0] = QtWidgets.QMessageBox.StandardButton.Save  # saved when the person says so
    assert window.files.save() and python(bad) == (0, "ok\n2")
    # a UTF-16 file (python refuses it): not opened, told why, the editor's text kept
    utf16 = tmp_path / "wide.py"
    utf16.write_bytes("print(1)\n".encode("utf-16"))
    text, warned[:] = window.editor.toPlainText(), []
    assert not window.open_file(str(utf16)) and "UTF-16" in str(warned[-1])
    assert window.editor.toPlainText() == text and window.files.filename == str(bad.resolve())

WIDE = ("import torch\n"
        "x = torch.ones(3, requires_grad=True)\n"
        "parts = [(x * (i + 1)).sin().exp() for i in range(24)]\n"
        "loss = torch.stack(parts).sum()\n")


def test_a_step_that_scrolls_the_view_paints_it_once(qtbot, window):
    """The view follows the node about to run; the scroll comes before the step's new
    states, so Qt paints the view once, not the whole view and then the changed boxes
    again (bench/bench_ui.py: a wide graph's step took twice its paint)."""
    run(qtbot, window, WIDE)
    view = window.graph_view
    view.resetTransform()  # 100%: the graph is much wider than the view
    window.model.set_step(0)
    QtWidgets.QApplication.processEvents()
    paints = []

    class Counter(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if obj is view.viewport() and event.type() == QtCore.QEvent.Type.Paint:
                paints[-1] += 1
            return False

    counter = Counter()
    view.viewport().installEventFilter(counter)
    scrolled = []
    for _ in range(window.model.step_count - 1):
        before = (view.horizontalScrollBar().value(), view.verticalScrollBar().value())
        paints.append(0)
        window.model.step_forward()
        QtWidgets.QApplication.processEvents()
        after = (view.horizontalScrollBar().value(), view.verticalScrollBar().value())
        if after != before:
            scrolled.append(paints[-1])
    view.viewport().removeEventFilter(counter)
    assert len(scrolled) >= 5  # the test's premise: most steps move the view
    assert scrolled == [1] * len(scrolled)
    scene = view.graph_scene
    done = {n for n, s in window.model.state().node_states.items() if s == "done"}
    assert done and all(scene.states.get(n) == "done" for n in done)


def test_folding_fits_the_boxes_to_the_window_as_a_new_graph_is(qtbot, window):
    """View › Fold to depth 1 on a model drawn whole: its few boxes fill the view as a new
    graph's do (fit_to_window), not left small in the middle at the zoom the 23 nodes
    needed (seen in the cifar_cnn walk); unfolding fits again."""
    source = ("import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
              "net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(),\n"
              "                    nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))\n"
              "loss = net(torch.ones(2, 3)).sum()\n")
    run(qtbot, window, source)
    view = window.graph_view
    window.fold_to_depth(None)
    whole = view.transform().m11()
    window.fold_to_depth(1)
    folded = view.transform().m11()
    view.fit_to_window()
    assert view.transform().m11() == pytest.approx(folded)  # fitted as a new graph is
    assert folded > whole
    window.fold_to_depth(None)
    assert view.transform().m11() == pytest.approx(whole)


H_THEN_CALLS = ("import torch\nx = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)\n"
                "h = x.exp()\n")


def test_the_window_draws_the_tensor_the_snippet_called_backward_on(qtbot, window):
    """``h = x.exp()`` at top level, then ``out['loss'].backward()``: the window drew ``h``
    and ran a pass of gradstep's own from it. It draws ``out['loss']`` (the root box says
    so) and steps the snippet's own pass; where the call's tensor is gone (a loss local to a
    function) it draws ``h`` and starts no pass of its own, saying why."""
    run(qtbot, window, H_THEN_CALLS + "def f():\n    return {'loss': (x * 2).sum()}\n"
        "out = f()\nout['loss'].backward()\n")
    assert window.model.root_name == "out['loss']"
    assert window.root_picker.itemText(0) == "root: auto (out['loss'])"
    assert [p.source for p in window.model.passes] == ["snippet"]
    assert window.step_bar.passes.placeholderText() == ""
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    assert window.model.passes[0].timeline["leaf_grads"]["x"] == x.grad.tolist()
    run(qtbot, window, H_THEN_CALLS + "def step():\n    loss = (x * 5).sum()\n"
        "    loss.backward()\nstep()\n")
    qtbot.wait(200)  # (a pass of gradstep's own would be asked for by now)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    assert window.model.root_name == "h" and window.model.passes == []
    assert len(window.model.other_calls) == 1
    assert "ran on graphs other than the one drawn" in window.statusBar().currentMessage()
    passes = window.step_bar.passes  # closed, the list says where the pass went (rootwalk)
    assert passes.currentIndex() == -1 and passes.currentText() == ""
    assert passes.placeholderText() == "1 backward call(s) of the snippet's, on graphs not drawn"
    assert passes.itemText(0) == "line 6: another graph, not drawn"
    assert not passes.model().item(0).isEnabled()
