"""The Values panel's Forward value plot is seen whole at 1280 x 800, before and after an
error (the Errors panel then takes part of the column): it was cut to ~110 px of its 150,
and to its top ~15 px after an error, below the formulas' fixed 14 lines."""

from __future__ import annotations

import pytest
import torch
from PySide6 import QtCore

from gradstep.autograd.session import Session
from gradstep.ui.qt_formula_view import MIN_LINES
from gradstep.ui.qt_tensor_plot import PLOT_HEIGHT
from tests.ui.test_window_flows import WAIT, step_to

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
    assert plot.height() == PLOT_HEIGHT
    assert seen_height(panel, plot) >= 0.95 * PLOT_HEIGHT, (seen_height(panel, plot),
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
