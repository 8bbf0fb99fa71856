"""The Values panel's formula box at a step that raised: torch sent no gradient there, and
never sends one to an input whose ``next_functions`` entry is ``(None, 0)`` (an input that
needs none); the box says no gradient flows to it, as the caption and the hover text do
(``formula_step.wired_slots``), and shows no result (torch sent nothing to compare with)."""

from __future__ import annotations

import pytest

from gradstep.autograd.formulas import input_slots
from gradstep.autograd.session import Session
from tests.test_step_caption import HEAD, RAISED_AT, torch_node
from tests.ui.test_panel_room import settle
from tests.ui.test_values_chart_height import run
from tests.ui.test_window_flows import step_to


@pytest.mark.parametrize("case", list(RAISED_AT))
def test_the_formula_box_at_a_raised_step_counts_only_inputs_torch_can_send_to(
        qtbot, make_window, case):
    source = RAISED_AT[case]
    namespace, found = torch_node(source, "MulBackward0")
    wired = [f is not None for f, _ in found.next_functions]
    with pytest.raises((ValueError, RuntimeError)):
        namespace["loss"].backward()  # plain torch raises at MulBackward0
    assert any(wired) and not all(wired)
    window = make_window(Session)
    run(qtbot, window, HEAD + source + "loss.backward()\n")
    node = step_to(window, "MulBackward0")
    window.step_bar.act_forward.trigger()  # the step runs, and raises
    settle(qtbot, window)
    assert window.model.node_state(node) == "error"
    shown = window.values_panel.formula.shown
    slots = input_slots("MulBackward0", window.model.node(node).get("slots"))
    assert shown["available"] and {item["input"] for item in shown["inputs"]} == set(slots)
    for item in shown["inputs"]:
        assert item["flows"] == wired[slots[item["input"]]], (item["input"], wired)
        assert item["result"] is None  # torch sent nothing at a step that raised
    html = window.values_panel.formula.formulas_html(shown)
    assert html.count("no gradient flows here") == wired.count(False)
