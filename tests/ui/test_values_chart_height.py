"""The Values panel's Forward value plot is seen whole at 1280 x 800, before and after an
error (the Errors panel then takes part of the column): it was cut to ~110 px of its 150,
and to its top ~15 px after an error, below the formulas' fixed 14 lines. After an error
the statistics line under it was then half cut (the formulas at their least, 4 lines, left
too little): the plot is drawn lower there, and every row down to the statistics is seen
whole, in English and in Chinese; the plot's top tick text is not half cut by its top."""

from __future__ import annotations

import pytest
import torch
from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.session import Session
from gradstep.ui.qt_formula_view import MIN_LINES
from gradstep.ui.qt_tensor_plot import PLOT_HEIGHT, PLOT_MIN
from tests.ui.test_window_flows import WAIT, step_to
from tests.ui.walk_screenshots import SNIPPETS

OK = ("import torch\nx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
      "y = (x * 2).sigmoid()\ny.sum().backward()\n")
FAILS = ("import torch\na = torch.tensor([1.0, 2.0], requires_grad=True)\n"
         "b = a.sigmoid()\nb.mul_(2)\nb.sum().backward()\n")


def seen_height(panel, widget) -> int:
    """Return how many pixel rows of ``widget`` the Values panel's viewport shows."""
    view = panel.viewport()
    top = widget.mapTo(view, QtCore.QPoint(0, 0)).y()
    return max(0, min(view.height(), top + widget.height()) - max(0, top))


def run(qtbot, window, source: str) -> None:
    """Run ``source`` and wait for its backward pass (the snippet's own call)."""
    window.editor.setPlainText(source)
    window.files.mark_saved()
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.run()
    qtbot.waitUntil(lambda: not window.runner.busy and bool(window.model.timelines), timeout=WAIT)
    qtbot.wait(300)


@pytest.mark.parametrize("source", [OK, FAILS])
def test_the_forward_value_plot_is_seen_whole(qtbot, make_window, source):
    window = make_window(Session)
    window.resize(1280, 800)
    qtbot.wait(100)
    run(qtbot, window, source)
    if source is FAILS:  # the pass failed: the Errors panel grew
        assert window.model.timelines[0].get("error")
        assert window.docks["errors"].height() >= 240
    step_to(window, "SigmoidBackward0")
    window.docks["values"].raise_()
    qtbot.wait(300)
    panel = window.values_panel
    assert panel.forward.kind == "bars"
    plot = panel.forward._plot
    assert PLOT_MIN <= plot.height() <= PLOT_HEIGHT
    assert plot.height() == PLOT_HEIGHT or source is FAILS  # lower only where it must be
    assert seen_height(panel, plot) == plot.height(), (seen_height(panel, plot),
                                                       panel.viewport().height())
    assert panel.formula.lines >= MIN_LINES
    if source is OK:  # the plot's numbers are torch's
        expected = (torch.tensor([1.0, 2.0, 3.0]) * 2).sigmoid()
        assert panel.forward.values.tolist() == pytest.approx(expected.tolist())


def test_a_tall_panel_keeps_the_formulas_fourteen_lines(qtbot, make_window):
    from gradstep.ui.qt_formula_view import LINES

    window = make_window(Session)
    window.resize(1280, 1400)
    qtbot.wait(200)
    assert window.values_panel.formula.lines == LINES


def tick_texts_outside(plot) -> list[str]:
    """Return the texts of ``plot``'s axes' ticks drawn (in part) outside the plot widget."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    outside = []
    try:
        for name in ("left", "bottom"):
            axis = plot.getPlotItem().getAxis(name)
            specs = axis.generateDrawSpecs(painter)
            for rect, _, text in (specs[2] if specs else []):
                shown = plot.mapFromScene(axis.mapRectToScene(rect)).boundingRect()
                if text.strip() and not plot.viewport().rect().contains(shown):
                    outside.append(text)
    finally:
        painter.end()
    return outside


def text_fits(label) -> bool:
    """Return True where ``label``'s text, wrapped at its width, fits its height."""
    need = QtWidgets.QLabel.heightForWidth(label, label.contentsRect().width())
    return need <= label.contentsRect().height()


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_row_of_the_values_panel_is_seen_whole_after_an_error(qtbot, make_window, language):
    """A hook's write refused later (prehookwrite, the walk's "during values" shot): the Errors
    panel is up, SinBackward0 selected, its saved tensor's long note in the second row."""
    from gradstep.ui.qt_language import apply_language

    window = make_window(Session)
    apply_language(language)  # (not remembered: the next test's window starts in English)
    window.resize(1280, 800)
    qtbot.wait(100)
    run(qtbot, window, SNIPPETS["prehookwrite"])
    model = window.model
    assert model.timelines[0].get("error")
    model.set_step(model.step_count // 2)
    node = next(n for n in model.graph.nodes if model.node(n).get("name") == "SinBackward0")
    model.select(node)
    window.docks["values"].raise_()
    qtbot.wait(300)
    panel = window.values_panel
    assert panel.forward.kind == "bars"
    rows = {"header": panel.header, "saved": panel.grad_change, "formulas": panel.formula,
            "title": panel.forward._title, "plot": panel.forward._plot,
            "statistics": panel.forward._stats}
    cut = {name: (seen_height(panel, row), row.height()) for name, row in rows.items()
           if seen_height(panel, row) != row.height()}
    assert not cut, (cut, panel.viewport().height())
    assert panel.formula.lines >= MIN_LINES
    assert [n for n in ("header", "saved", "statistics") if not text_fits(rows[n])] == []
    assert tick_texts_outside(panel.forward._plot) == []
