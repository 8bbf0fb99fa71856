"""View › Language: the window switches at once (menus, panels, the error shown, the graph's
words) keeping the text, graph and step; the choice is remembered; nothing stays English."""

from __future__ import annotations

import re

import pytest
from PySide6 import QtCore, QtWidgets

from gradstep import i18n
from gradstep.autograd.session import Session
from gradstep.ui.qt_language import saved_choice

WAIT = 60_000
SAME_EVERYWHERE = {"y = x + 2; z = y**2 * 3; out = z.mean()"}  # an example titled by its code
CJK = re.compile(r"[\u4e00-\u9fff]")
# What may stay as it is in any language: code, names, numbers, keys, units; among the
# names, torch's names of a node's arguments and saved values (self, dim, result), which the
# Values panel's formulas use as letters and links.
CODE = re.compile(r"`[^`]*`|<[^>]+>|[\w.]*[_(.=\[/|][\w.()=\[\],/| ]*|Ctrl\+\S+|Alt\+\S+|F\d+|"
                  r"[A-Z]{2,}\w*|\b\w+Backward\d\b|\b(?:gradstep|English|Softmax|Python|torch|"
                  r"grad|autograd|backward|retain_graph|SGD|Graphviz|GraphML|JSON|PDF|PNG|SVG|"
                  r"DOT|log10|None|True|False|float32|RuntimeError|self|dim|result)\b")


@pytest.fixture
def window(make_window):
    return make_window(Session)


def run_lesson(qtbot, window, example: str) -> None:
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)  # Run is off while busy
    window.load_example(example)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)


def switch(qtbot, window, code: str | None) -> None:
    window.set_language(code)
    QtWidgets.QApplication.processEvents()  # Qt posts LanguageChange to the widgets
    qtbot.wait(50)


def shown_texts(window) -> list[str]:
    """Every text the window shows now: menus, actions, docks, labels, buttons, boxes, tips."""
    texts = []
    actions = [a for bar in window.findChildren(QtWidgets.QToolBar) for a in bar.actions()]
    for menu in window.menuBar().findChildren(QtWidgets.QMenu):
        texts.append(menu.title())
        actions += menu.actions()
    for action in actions:
        texts += [action.text(), action.toolTip()]
    for widget in window.findChildren(QtWidgets.QWidget):
        if not widget.isVisible() or widget.visibleRegion().isEmpty():
            continue  # a tab behind another is redrawn when raised
        texts.append(widget.toolTip())
        if isinstance(widget, (QtWidgets.QLabel, QtWidgets.QAbstractButton)):
            texts.append(widget.text())
        if isinstance(widget, QtWidgets.QDockWidget | QtWidgets.QToolBar):
            texts.append(widget.windowTitle())
        if isinstance(widget, QtWidgets.QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        if isinstance(widget, QtWidgets.QTextEdit | QtWidgets.QPlainTextEdit) and widget.isReadOnly():
            texts.append(widget.toPlainText() if widget is not window.output_panel else "")
        if isinstance(widget, QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit):
            texts.append(widget.placeholderText())
    panel = window.values_panel
    for plot in (panel.forward, panel.arriving, panel.sent, panel.jacobian):
        texts += list(getattr(plot, "_axis_names", None) or ())  # pyqtgraph's axis labels
    texts.append(window.statusBar().currentMessage())
    for tree in (window.saved_panel.table, window.leaf_panel):
        header = tree.headerItem()
        texts += [header.text(i) for i in range(header.columnCount())]
    return [t for t in texts if t and t.strip()]


def english_leftovers(texts: list[str], verbatim: str = "") -> list[str]:
    """Return the texts that still hold English words outside code, names, numbers and
    ``verbatim`` (torch's own message, shown as torch wrote it)."""
    left = []
    for text in set(texts) - SAME_EVERYWHERE:
        text = text.replace(verbatim, " ") if verbatim else text
        words = re.findall(r"[A-Za-z]{3,}", CODE.sub(" ", text))
        if words and not CJK.search(text):
            left.append(text)
        elif len(words) >= 3:  # a Chinese sentence with an English phrase left in it
            left.append(text)
    return left


def test_switching_to_chinese_rewords_the_window_at_once_and_keeps_the_lesson(qtbot, window):
    run_lesson(qtbot, window, "retain_graph_error")
    text, graph, passes = window.editor.toPlainText(), window.model.graph, len(window.model.passes)
    window.model.set_step(1)
    error_english = window.errors_panel.toPlainText()
    assert "How to fix it." in error_english and "Trying to backward through the graph" in error_english
    requests = window.runner._next_id if hasattr(window.runner, "_next_id") else None

    switch(qtbot, window, "zh_CN")

    assert not english_leftovers(shown_texts(window), window.model.error["message"])
    assert window.menuBar().actions()[0].text() == "文件(&F)"
    assert window.act_run.text() == "运行" and window.step_bar.act_forward.text() == "单步前进"
    assert window.docks["errors"].windowTitle() == "错误"
    assert window.docks["saved"].windowTitle() == "已保存的张量 && retain_graph"
    shown = window.errors_panel.toPlainText()
    assert "Trying to backward through the graph a second time" in shown  # torch's, verbatim
    assert "第 10 行的 backward 调用没有传入 retain_graph=True，已经释放了计算图为求梯度而保存的张量" in shown
    assert "怎么改：" in shown and "How to fix" not in shown
    assert window.editor.error_text.startswith("RuntimeError: Trying to backward")
    assert window.step_bar.position.text().strip() == "已完成 1 / 2 步"
    assert window.step_bar.passes.itemText(0).startswith("1. 第 10 行：")
    assert window.examples_menu.actions()[0].text() == "均方误差及其梯度（autograd.grad）"
    # the lesson stays: nothing was run again
    assert (window.editor.toPlainText(), window.model.graph, len(window.model.passes)) == (
        text, graph, passes)
    assert window.model.step == 1
    if requests is not None:
        assert window.runner._next_id == requests

    switch(qtbot, window, "en")
    assert window.menuBar().actions()[0].text() == "&File"
    assert window.errors_panel.toPlainText() == error_english


def test_the_status_line_is_worded_again_in_the_language_chosen(qtbot, window):
    """The status line after a run (the error's title; a pass that shows no steps and why)
    was left empty by a switch, its words gone: it is worded again, in the new language,
    from the run's own record (the catalogue's title, the pass's reason), and back."""
    from gradstep.ui.error_words import for_window
    from gradstep.ui.pass_names import no_steps_note

    run_lesson(qtbot, window, "retain_graph_error")
    status = window.statusBar()
    english = status.currentMessage()
    assert english == f"Error: {for_window(window.model.error)['title']}"
    switch(qtbot, window, "zh_CN")
    title = for_window(window.model.error)["title"]
    assert CJK.search(title) and status.currentMessage() == f"错误：{title}"
    switch(qtbot, window, "en")
    assert status.currentMessage() == english
    window.editor.setPlainText("x = torch.randn(3, requires_grad=True)\ny = (x.sin() * 2).sum()\n"
                               "g, = torch.autograd.grad(y, x, torch.ones(2), is_grads_batched=True)\n")
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)  # Run is off while busy
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    assert status.currentMessage().startswith("Ran; this pass shows no steps: is_grads_batched")
    switch(qtbot, window, "zh_CN")
    reason = no_steps_note(window.model.timeline)
    assert CJK.search(reason) and reason in status.currentMessage()
    assert not english_leftovers([status.currentMessage()])
    status.showMessage("something else said")  # not the window's words: not worded again
    switch(qtbot, window, "en")
    assert status.currentMessage() == ""


def test_the_status_line_is_worded_again_when_the_language_is_chosen_in_its_menu(qtbot, window):
    """View › Language chosen as a person does, in the menu: Qt's menu writes each item's
    status tip (none: an empty one) on the status line as the item is hovered, so the note
    was gone when the switch came and was never worded again (the test above calls
    set_language, with no menu). A tip is not a note that replaces the window's."""
    from gradstep.ui.error_words import for_window

    run_lesson(qtbot, window, "retain_graph_error")
    status = window.statusBar()
    assert status.currentMessage() == f"Error: {for_window(window.model.error)['title']}"
    bar, languages = window.menuBar(), window.language_menu
    view = next(a for a in bar.actions() if a.menu() and languages.menuAction() in a.menu().actions())
    bar.setActiveAction(view)  # the View menu open, its items hovered with the keyboard
    for _ in range(2):
        qtbot.keyClick(view.menu(), QtCore.Qt.Key.Key_Down)
    assert status.currentMessage() == ""  # (Qt: the hovered item's empty status tip)
    chinese = next(a for a in languages.actions() if a.data() == "zh_CN")
    chinese.showStatusText(window)  # hovered, as the menu does, then chosen
    chinese.trigger()
    view.menu().hide()
    QtWidgets.QApplication.processEvents()
    qtbot.wait(50)
    title = for_window(window.model.error)["title"]
    assert CJK.search(title) and status.currentMessage() == f"错误：{title}"


def test_in_chinese_no_english_is_left_on_the_window(qtbot, window):
    switch(qtbot, window, "zh_CN")
    run_lesson(qtbot, window, "softmax_jacobian")
    window.model.set_step(1)
    for name in ("values", "saved", "leaves", "diagnose"):
        window.docks[name].raise_()
        qtbot.wait(30)
        left = english_leftovers(shown_texts(window))
        assert not left, f"{name}: {left}"
    run_lesson(qtbot, window, "requires_grad_error")
    graph_area = window.graph_view.scene().items()[0].toPlainText()
    assert graph_area.startswith("没有可画的计算图：这里没有张量需要梯度。")
    left = english_leftovers(shown_texts(window) + [graph_area], window.model.error["message"])
    assert not left, left


def test_the_choice_is_remembered_and_a_new_window_opens_in_it(qtbot, make_window):
    first = make_window(Session)
    assert saved_choice() is None and i18n.language() == "en"
    switch(qtbot, first, "zh_CN")
    assert saved_choice() == "zh_CN"
    first.close()
    i18n.set_language(None)  # as at a new start: the window reads the setting
    second = make_window(Session)
    assert i18n.language() == "zh_CN"
    assert second.menuBar().actions()[0].text() == "文件(&F)"
    checked = [a for a in second.language_menu.actions() if a.isChecked()]
    assert [a.data() for a in checked] == ["zh_CN"]
    switch(qtbot, second, None)  # "System": follow the locale again (English in the tests)
    assert saved_choice() is None and second.menuBar().actions()[0].text() == "&File"


def test_the_step_label_fits_its_text_and_stepping_lays_out_nothing_else(qtbot, window):
    from PySide6 import QtCore

    window.editor.setPlainText("import torch\nx = torch.ones(2, requires_grad=True)\ny = x\n"
                               "for _ in range(600):\n    y = y * 1.0001 + 0.001\n"
                               "loss = y.sum()\n")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    label, model = window.step_bar.position, window.model
    assert model.step_count > 1000

    class Layouts(QtCore.QObject):
        count = 0

        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if obj is window and event.type() == QtCore.QEvent.Type.LayoutRequest:
                Layouts.count += 1
            return False

    for code in (None, "zh_CN"):
        switch(qtbot, window, code)
        model.set_step(model.step_count - 1)  # the widest numbers of this pass
        layouts = Layouts()
        window.installEventFilter(layouts)
        for _ in range(50):  # the language's own new layouts done before counting: 100 ms
            Layouts.count = 0  # without one (a fixed 100 ms was too short under load)
            qtbot.wait(100)
            if Layouts.count == 0:
                break
        widest = label.fontMetrics().horizontalAdvance(label.text())
        assert label.minimumSize() == label.maximumSize() and widest <= label.width(), code
        for _ in range(5):
            model.step_back()
            QtWidgets.QApplication.processEvents()
        window.removeEventFilter(layouts)
        assert Layouts.count == 0, code  # a step's new text repaints the label alone
    switch(qtbot, window, None)
    model.set_step(model.step_count - 1)
    qtbot.wait(100)
    before = (label.size(), window.step_bar.height())
    font = label.font()
    window.font_zoom.set_factor(1.6, remember=False)  # View › Zoom: the label is fitted again
    # the new font reaches the label, then the bar fits it (waited for, not a fixed 200 ms:
    # under load the panels' fit to the new font came first and the label was not yet fitted)
    qtbot.waitUntil(lambda: label.font() != font
                    and label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
                    and label.height() >= label.fontMetrics().height(), timeout=WAIT)
    window.font_zoom.set_factor(1.0, remember=False)
    # and back: the label and its bar as they were, not as tall as at 1.6
    qtbot.waitUntil(lambda: (label.size(), window.step_bar.height()) == before, timeout=5000)


@pytest.mark.parametrize("code", [None, "zh_CN"])
def test_every_panel_tab_shows_its_whole_name_at_1280x800(qtbot, window, code):
    """A new window's dock tabs are not elided ("Val…", "Leaf gradi…"), in either language."""
    switch(qtbot, window, code)
    window.resize(1280, 800)
    qtbot.wait(100)
    bars = [b for b in window.findChildren(QtWidgets.QTabBar) if b.isVisible()]
    assert len(bars) == 2  # Values | Saved | Leaf gradients | Diagnose; Errors | Output
    for bar in bars:
        needed = sum(bar.tabSizeHint(i).width() for i in range(bar.count()))
        assert needed <= bar.width(), [bar.tabText(i) for i in range(bar.count())]
