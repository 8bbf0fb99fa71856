"""The Values panel's line for a formula's result: both numbers where the two that agree
(within ``_close``'s tolerance) are written differently."""

from __future__ import annotations

from gradstep.ui.qt_formula_view import QtFormulaView


def _results(qtbot, runs_now: bool = False) -> tuple[str, str]:
    """Return the result lines of a view for two results that agree: written the same,
    and written differently."""
    view = QtFormulaView()
    qtbot.addWidget(view)
    view.show_formulas({"name": "MulBackward0", "available": False, "reason": "", "inputs": []},
                       runs_now=runs_now)
    same = view._result_html({"formula": "[0.6173]", "torch": "[0.6173]", "shape": [1],
                              "agrees": True})
    both = view._result_html({"formula": "[0.617284]", "torch": "[0.617315]", "shape": [1],
                              "agrees": True})
    return same, both


def test_an_agreeing_result_written_differently_shows_both_numbers(qtbot):
    same, both = _results(qtbot)
    assert same == "<b>= [0.6173], which is what torch sent ✓</b>"
    assert both == "<b>= [0.617284]; torch sent [0.617315]: they agree within 0.01% (or 1e-6) ✓</b>"


def test_a_result_before_its_step_runs_is_told_as_what_torch_sends(qtbot):
    """At the ▶ step the node has not run: torch has sent nothing yet, so the result is
    what it sends when it runs (the Values panel's "Gradient it sends when it runs")."""
    same, both = _results(qtbot, runs_now=True)
    assert same == "<b>= [0.6173], which is what torch sends when it runs ✓</b>"
    assert both == ("<b>= [0.617284]; torch sends [0.617315] when it runs: they agree within "
                    "0.01% (or 1e-6) ✓</b>")
