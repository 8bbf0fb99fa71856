"""The classroom features in the window: formulas in the Values panel and in hover text,
text zoom for the whole window, the full-screen graph, presentation mode (stepping with
the keys a clicker sends) and the animated export, against torch where there are numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.session import Session
from tests.step_oracle import printed

WAIT = 60_000


@pytest.fixture
def window(make_window):
    made = make_window(Session)
    yield made
    made.presentation.leave()
    made.font_zoom.reset()  # the application font is shared by every window of the process


def run_lesson(qtbot, window, example_id: str) -> None:
    window.load_example(example_id)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)


def step_to(qtbot, window, name: str) -> str:
    """Step until the ▶ node is ``name``; wait for its details (the saved numbers)."""
    model = window.model
    model.reset_steps()
    while model.current_step()["name"] != name:
        model.step_forward()
    node = model.focus_node()
    qtbot.waitUntil(lambda: model.inspected.get("id") == node, timeout=WAIT)
    return node


def mse_numbers():
    """The mse lesson in plain torch: its inputs and d mse / d (x*w)."""
    x, w = torch.ones(1), torch.full([1], 2.0, requires_grad=True)
    y = x * w
    y.retain_grad()
    F.mse_loss(torch.ones(1), y).backward()
    return printed(y), printed(y.grad)


def test_values_panel_shows_the_mse_formula_with_its_numbers(qtbot, window):
    run_lesson(qtbot, window, "mse_backward")
    step_to(qtbot, window, "MseLossBackward0")
    y, grad = mse_numbers()
    text = window.values_panel.formula.toPlainText()
    assert "∂L/∂yᵢ = −2(xᵢ − yᵢ)/n · g" in text
    assert f"y = target = {y}" in text  # the value mse.backward() freed, read before the pass
    # the ▶ step has not run yet: torch has sent nothing (as "Gradient it sends when it runs")
    assert f"= {grad}, which is what torch sends when it runs ✓" in text
    assert "torch sent" not in text
    assert window.values_panel.slot_label.text() == "Sends along slot:"
    label_width = window.values_panel.slot_label.minimumWidth()
    assert f"mse_loss_backward(grad, {y}, {printed(torch.ones(1))}, 1)" in text
    node = window.model.focus_node()
    window.model.step_forward()  # one step on, the same node: it ran
    window.model.select(node)
    qtbot.waitUntil(lambda: f"= {grad}, which is what torch sent ✓"
                    in window.values_panel.formula.toPlainText(), timeout=WAIT)
    assert window.values_panel.slot_label.text() == "Sent along slot:"
    assert window.values_panel.slot_label.minimumWidth() == label_width  # the row stays put
    assert "no gradient flows here" in text  # torch.ones(1) needs none


def test_a_saved_name_links_to_the_saved_panel(qtbot, window):
    run_lesson(qtbot, window, "softmax_jacobian")
    step_to(qtbot, window, "SoftmaxBackward0")
    view = window.values_panel.formula
    assert "pᵢ(δᵢⱼ − pⱼ)" in view.toPlainText()
    assert "saved:result" in view.toHtml()
    view.anchorClicked.emit(QtCore.QUrl("saved:result"))
    assert window.saved_panel.table.currentItem().text(0) == "result"
    assert window.docks["saved"].isVisible()


def test_hover_text_carries_the_formula(qtbot, window):
    run_lesson(qtbot, window, "softmax_jacobian")
    node = step_to(qtbot, window, "SoftmaxBackward0")
    view = window.graph_view
    tip = view.node_tooltip(node, view.graph_scene.graph.nodes[node])
    assert "local gradient:" in tip and "pᵢ(δᵢⱼ − pⱼ)" in tip


def test_in_chinese_the_formulas_words_are_chinese_and_their_maths_the_same(qtbot, window):
    run_lesson(qtbot, window, "softmax_jacobian")
    node = step_to(qtbot, window, "SoftmaxBackward0")
    window.set_language("zh_CN")
    QtWidgets.QApplication.processEvents()
    qtbot.waitUntil(lambda: "所以" in window.values_panel.formula.toPlainText(), timeout=WAIT)
    text = window.values_panel.formula.toPlainText()
    assert "p = softmax(a)，沿维度 dim 计算：pᵢ = e^aᵢ / Σₖ e^aₖ" in text
    assert "∂pᵢ/∂aⱼ = pᵢ(δᵢⱼ − pⱼ)，所以 ∂L/∂aⱼ = pⱼ(gⱼ − Σᵢ gᵢpᵢ)" in text
    assert "along dim" not in text and "_softmax_backward_data(grad, result, dim" in text
    view = window.graph_view
    tip = view.node_tooltip(node, view.graph_scene.graph.nodes[node])
    assert "所以 ∂L/∂aⱼ" in tip
    window.presentation.act_present.trigger()
    assert "所以 ∂L/∂aⱼ" in window.presentation.caption.text()
    assert window.model.node(node)["formula_math"]["about"].endswith("along dim: pᵢ = e^aᵢ / Σₖ e^aₖ")


def test_text_zoom_scales_the_whole_window_and_is_remembered(qtbot, window):
    from gradstep.ui.qt_font_zoom import base_font
    from gradstep.ui.qt_settings import settings

    base = base_font().pointSizeF()
    editor = window.editor.font().pointSizeF()
    keys = QtGui.QKeySequence.StandardKey
    assert window.act_zoom_in.shortcuts()[:1] == QtGui.QKeySequence.keyBindings(keys.ZoomIn)[:1]
    assert window.act_zoom_reset.shortcut() == QtGui.QKeySequence("Ctrl+0")
    assert window.act_fit.shortcut() == QtGui.QKeySequence("Ctrl+Alt+0")  # the graph's own keys
    window.act_zoom_in.trigger()
    window.act_zoom_in.trigger()
    assert window.font_zoom.factor == 1.25
    assert QtWidgets.QApplication.font().pointSizeF() == pytest.approx(base * 1.25)
    assert window.editor.font().pointSizeF() == pytest.approx(editor * 1.25)
    assert float(settings().value("font_zoom")) == 1.25
    transform = window.graph_view.transform()
    window.act_zoom_out.trigger()
    assert window.font_zoom.factor == 1.1
    assert window.graph_view.transform() == transform  # text zoom leaves the graph alone
    window.act_zoom_reset.trigger()
    assert QtWidgets.QApplication.font().pointSizeF() == pytest.approx(base)
    assert window.editor.font().pointSizeF() == pytest.approx(editor)


@pytest.mark.parametrize("factor", [1.5, 2.0])
def test_zoomed_text_keeps_the_statistics_and_the_number_whole(qtbot, window, factor):
    """At 150% the statistics' second line (``std 0.0896``) was cut in half: their two lines
    and the big number's room were fixed at the text size the window opened with."""
    from tests.ui.test_values_chart_height import text_fits

    window.resize(1920, 1080)
    run_lesson(qtbot, window, "softmax_jacobian")
    step_to(qtbot, window, "SoftmaxBackward0")
    panel = window.values_panel
    number = panel.forward._number.sizeHint().height()
    window.font_zoom.set_factor(factor, remember=False)
    qtbot.waitUntil(lambda: panel.forward._stats.fontMetrics().lineSpacing()
                    > QtGui.QFontMetrics(QtGui.QFont()).lineSpacing() / factor * 1.2)
    stats = panel.forward._stats
    assert len(stats.text().splitlines()) >= 1
    assert stats.height() >= 2 * stats.fontMetrics().lineSpacing()
    assert text_fits(stats), (stats.text(), stats.height())
    plot = panel.forward
    qtbot.wait(10)  # (the number's room follows its own font, scaled a moment later)
    plot.set_value({"shape": [], "data": 0.25})  # a number: its room at the new size
    assert plot.slot_height() >= plot._number.sizeHint().height() > number


def test_zoomed_text_keeps_the_play_speed_whole(qtbot, window):
    """At 150% with a lesson's long pass name in the step bar, the speed box keeps the width
    its words need ("每秒 2 步" was cut to "每秒 2"): the pass list is the one squeezed."""
    window.resize(1280, 800)
    window.set_language("zh_CN")
    run_lesson(qtbot, window, "softmax_jacobian")
    speed = window.step_bar.speed
    qtbot.wait(300)  # the bar laid out at 100%
    window.font_zoom.set_factor(1.5)
    try:
        qtbot.wait(500)
        assert speed.width() >= speed.sizeHint().width(), (speed.width(), speed.sizeHint())
        metrics = QtGui.QFontMetrics(speed.font())
        assert speed.width() > metrics.horizontalAdvance(speed.currentText()) + 20
    finally:
        window.font_zoom.reset()
        window.set_language(None)


def test_zoomed_text_keeps_the_panels_tab_names_whole(qtbot, window):
    """At 150% in a 1280-wide window the panels' tabs were elided to "Val…", "Leaf
    gradie…", "Diagn…" (walk 5): the panels' dock widens so each tab gets its whole name."""
    window.resize(1280, 800)
    run_lesson(qtbot, window, "softmax_jacobian")
    qtbot.wait(50)
    view = window.graph_view
    view.fit_to_window()
    window.font_zoom.set_factor(1.5, remember=False)
    # the graph shown whole before is shown whole in the narrower area (it was cut at its
    # side), once the panels have their new width (after the new font's layouts)
    qtbot.waitUntil(lambda: not _elided_panel_tabs(window) and view.mapToScene(
        view.viewport().rect()).boundingRect().contains(view.scene().itemsBoundingRect()),
        timeout=5000)
    titles = {window.docks["values"].windowTitle(), window.docks["leaves"].windowTitle()}
    bar = next(b for b in window.findChildren(QtWidgets.QTabBar)
               if b.isVisible() and titles <= {b.tabText(i) for i in range(b.count())})
    for i in range(bar.count()):
        assert bar.tabRect(i).width() >= bar.tabSizeHint(i).width(), bar.tabText(i)
    assert window.graph_view.width() > 300  # the graph keeps its share


def _elided_panel_tabs(window) -> list[str] | None:
    titles = {window.docks["values"].windowTitle(), window.docks["leaves"].windowTitle()}
    bar = next((b for b in window.findChildren(QtWidgets.QTabBar)
                if b.isVisible() and titles <= {b.tabText(i) for i in range(b.count())}), None)
    if bar is None:  # the tab bar has not the panels' names yet
        return None
    return [bar.tabText(i) for i in range(bar.count())
            if bar.tabRect(i).width() < bar.tabSizeHint(i).width()]


def test_zoomed_back_text_gives_the_graph_its_width_again(qtbot, window):
    """The panels widened at 150% stayed as wide at 100% (and were saved so for the next
    start): the graph area kept the 150% share (review of walk 5)."""
    window.resize(1280, 800)
    qtbot.wait(50)
    dock = window.docks["values"]
    before = dock.width()
    window.font_zoom.set_factor(1.5, remember=False)
    qtbot.waitUntil(lambda: dock.width() > before + 50, timeout=5000)
    window.font_zoom.set_factor(1.0, remember=False)
    qtbot.waitUntil(lambda: abs(dock.width() - before) <= 8, timeout=5000)


def test_a_language_switch_at_150_percent_fits_the_other_names(qtbot, window):
    """At 150% in Chinese the dock fits the short names; switched to English, the tabs were
    elided ("Val…", "Leaf gradie…"): the widening ran only when the zoom changed."""
    window.resize(1280, 800)
    window.set_language("zh_CN")
    qtbot.wait(100)  # the Chinese names in the tab bar
    try:
        window.font_zoom.set_factor(1.5, remember=False)
        qtbot.wait(100)
        window.set_language(None)
        qtbot.wait(100)  # the English names in the tab bar
        qtbot.waitUntil(lambda: _elided_panel_tabs(window) == [], timeout=5000)
    finally:
        window.font_zoom.set_factor(1.0, remember=False)
        window.set_language(None)


def test_text_zoom_reaches_the_error_under_the_code(qtbot, window):
    run_lesson(qtbot, window, "retain_graph_error")  # torch's long message under line 13
    banner = window.editor.banner
    assert banner.isVisible()
    before = (banner.fontInfo().pointSizeF(), banner.height())
    window.font_zoom.set_factor(2.0, remember=False)
    qtbot.wait(50)
    assert banner.fontInfo().pointSizeF() == pytest.approx(window.editor.fontInfo().pointSizeF())
    assert banner.fontInfo().pointSizeF() > before[0] * 1.5 and banner.height() > before[1]
    window.editor.resize(300, 300)  # torch's message cut to a third of a small editor
    qtbot.wait(50)
    assert banner.heightForWidth(banner.width() - 12) + 14 > banner.height()
    assert banner.alignment() & QtCore.Qt.AlignmentFlag.AlignTop  # its start stays in view
    window.font_zoom.set_factor(1.0, remember=False)
    assert banner.fontInfo().pointSizeF() == pytest.approx(before[0])


def test_presentation_steps_with_a_clickers_keys_and_esc_brings_everything_back(qtbot, window):
    run_lesson(qtbot, window, "mse_backward")
    model = window.model
    model.reset_steps()
    window.presentation.act_present.trigger()
    assert window.presentation.mode == "presentation"
    assert window.isFullScreen()
    for hidden in (window.editor, window.menuBar(), window.docks["values"], window.step_bar):
        assert not hidden.isVisible()
    caption = window.presentation.caption
    assert caption.isVisible() and "Step 1 of 3" in caption.text()
    graph = window.graph_view
    for key, expected in ((QtCore.Qt.Key.Key_Right, 1), (QtCore.Qt.Key.Key_Space, 2),
                          (QtCore.Qt.Key.Key_PageDown, 3), (QtCore.Qt.Key.Key_Left, 2),
                          (QtCore.Qt.Key.Key_Home, 0), (QtCore.Qt.Key.Key_End, 3)):
        qtbot.keyClick(graph, key)
        assert model.step == expected, key
    assert "the pass is done" in caption.text()
    qtbot.keyClick(graph, QtCore.Qt.Key.Key_Escape)
    assert window.presentation.mode == "" and not caption.isVisible()
    for shown in (window.editor, window.menuBar(), window.docks["values"], window.step_bar):
        assert shown.isVisible()
    qtbot.keyClick(window.editor, QtCore.Qt.Key.Key_Right)  # plain keys are the editor's again
    assert model.step == 3


def test_the_caption_of_a_failed_step_is_worded_and_keeps_torchs_words(qtbot, window):
    run_lesson(qtbot, window, "retain_graph_error")
    window.set_language("zh_CN")
    window.model.choose_timeline(1)  # the second backward: torch raised in SoftmaxBackward0
    window.model.run_to_end()
    window.presentation.act_present.trigger()
    head, torchs = window.presentation.caption_text()
    assert "第二次对同一个计算图做反向传播" in head and "Trying to backward" not in head
    assert torchs.startswith("Trying to backward through the graph a second time")
    window.presentation.leave()
    window.set_language(None)


def test_a_long_caption_is_cut_and_enter_or_a_click_shows_it_whole(qtbot, window):
    """After a step that raised, torch's whole message made the caption cover about half a
    1024x768 screen at 150%. The caption now takes at most CAPTION_SHARE of the screen: cut
    after a whole word of torch's message, "…", and a line that says how to see the rest;
    Enter (or a click on it) shows torch's message whole, as torch wrote it, and short
    again; the next step shows it short. The graph stays above the caption."""
    from gradstep.ui.qt_presentation import CAPTION_SHARE

    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)  # the lesson, as python
    p = F.softmax(a, dim=0)                                           # runs it
    p[1].backward()
    with pytest.raises(RuntimeError) as raised:
        p[1].backward()
    torchs = str(raised.value)
    run_lesson(qtbot, window, "retain_graph_error")
    model, presentation = window.model, window.presentation
    model.choose_timeline(1)
    model.run_to_end()
    presentation.act_present.trigger()
    window.resize(683, 512)  # a 1024x768 projector at 150%: its screen in Qt's pixels
    qtbot.waitUntil(lambda: window.height() == 512, timeout=5000)
    presentation._fit()
    caption, graph = presentation.caption, window.graph_view

    def shown() -> str:
        return QtGui.QTextDocumentFragment.fromHtml(caption.text()).toPlainText()

    def below_the_graph() -> None:
        assert caption.geometry().bottom() == window.height() - 1
        assert graph.viewportMargins().bottom() == caption.height()

    short = caption.height()
    assert short <= CAPTION_SHARE * window.height(), (short, window.height())
    assert presentation.held_back()
    head, message, hint = shown().split("\n")
    assert head == presentation.caption_text()[0] and hint.startswith("Enter or a click")
    assert message.endswith("…") and torchs.startswith(message[:-1]) and len(message) < len(torchs)
    assert torchs[len(message) - 1] in " ,.", message  # cut after a whole word
    below_the_graph()
    qtbot.keyClick(graph, QtCore.Qt.Key.Key_Return)
    assert shown().split("\n")[1] == torchs and caption.height() > short
    below_the_graph()
    qtbot.mouseClick(caption, QtCore.Qt.MouseButton.LeftButton)
    assert shown().split("\n")[1] == message and caption.height() == short
    qtbot.mouseClick(caption, QtCore.Qt.MouseButton.LeftButton)
    assert shown().split("\n")[1] == torchs
    qtbot.keyClick(graph, QtCore.Qt.Key.Key_Left)  # another step: its caption, short
    assert model.step == 1 and not presentation.held_back()
    assert "\n" + torchs not in shown() and "Enter" not in shown()
    qtbot.keyClick(graph, QtCore.Qt.Key.Key_Return)  # nothing held back: nothing to show
    assert model.step == 1 and "Enter" not in shown()
    qtbot.keyClick(graph, QtCore.Qt.Key.Key_Right)
    assert shown().split("\n")[1] == message and caption.height() == short
    window.set_language("zh_CN")  # the hint in the language shown; torch's words stay
    qtbot.wait(200)  # (offscreen, the switch can give the full-screen window the screen's size
    window.resize(683, 512)  # again, after a while: the projector's size once it has settled)
    qtbot.waitUntil(lambda: window.height() == 512, timeout=5000)
    presentation._fit()
    head, cut, hint = shown().split("\n")
    assert "第二次" in head and "Enter" in hint and "Enter or" not in hint
    assert torchs.startswith(cut[:-1]) and cut.endswith("…")
    window.set_language(None)


def test_the_caption_follows_a_language_switch(qtbot, window):
    """View › Language while presenting: the caption is worded again at once, not left in
    the language it was written in until the next step."""
    run_lesson(qtbot, window, "retain_graph_error")
    window.set_language("zh_CN")
    window.model.choose_timeline(0)
    window.model.run_to_end()
    window.presentation.act_present.trigger()
    caption = window.presentation.caption
    assert "这一遍反向传播结束了" in caption.text()
    window.set_language("en")
    qtbot.wait(50)
    assert "the pass is done" in caption.text() and "反向传播" not in caption.text()
    window.presentation.leave()
    window.set_language(None)


def test_full_screen_graph_toggles(qtbot, window):
    run_lesson(qtbot, window, "mse_backward")
    assert window.presentation.act_fullscreen.shortcut() == QtGui.QKeySequence("F11")
    window.presentation.act_fullscreen.trigger()
    assert window.presentation.mode == "fullscreen" and window.isFullScreen()
    assert not window.editor.isVisible() and not window.presentation.caption.isVisible()
    window.presentation.act_fullscreen.trigger()
    assert window.presentation.mode == "" and not window.isFullScreen()
    assert window.editor.isVisible() and window.docks["values"].isVisible()


def test_export_animation_from_the_window(qtbot, window, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    run_lesson(qtbot, window, "softmax_jacobian")
    out = tmp_path / "pass.gif"
    written = window.exports.export_animation(str(out))
    assert written["frames"] == window.model.step_count + 1
    with Image.open(out) as image:
        assert image.n_frames == window.model.step_count + 1
        sizes = set()
        for i in range(image.n_frames):
            image.seek(i)
            sizes.add(image.size)
    assert sizes == {(written["width"], written["height"])}


def test_the_caption_of_a_pass_with_no_steps_is_the_exports_not_no_pass_yet(qtbot, window):
    """A pass torch ran with no step to show: the presentation said "No backward pass to step
    through yet." where there is one (the export's and the notebook's caption, the Values
    header and the step bar tell of it): a root's hook that raised before torch ran a node
    (its hooks on the root's node see nothing, and python's error is the hook's), and
    ``is_grads_batched=True`` (torch ran the nodes; gradstep shows no steps of it)."""
    hook = ("a = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (a * 2).sum()\n"
            "ran = []\nloss.grad_fn.register_prehook(lambda go: ran.append(1))\n"
            "def bad(g):\n    raise ValueError('root hook says no')\n"
            "loss.register_hook(bad)\ntry:\n    loss.backward()\nexcept ValueError:\n    pass\n")
    namespace: dict = {}
    exec(hook, {"torch": torch}, namespace)  # noqa: S102 (the snippet, as python runs it)
    assert namespace["ran"] == []  # torch ran no node
    batched = ("x = torch.randn(3, requires_grad=True)\ny = (x.sin() * 2).sum()\n"
               "g, = torch.autograd.grad(y, x, torch.ones(2), is_grads_batched=True)\n")
    for source, words in ((hook, "No step ran: torch raised"),
                          (batched, "The pass ran and shows no steps")):
        window.editor.setPlainText(source)
        with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
            window.act_run.trigger()
        qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
        assert window.model.step_count == 0 and window.model.index() is not None
        window.presentation.act_present.trigger()
        head, _ = window.presentation.caption_text()
        assert head.startswith(words), head
        window.presentation.leave()
