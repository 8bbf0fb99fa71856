"""The window's words for a pass whose steps are not all of what torch ran (core8)."""

from __future__ import annotations

from gradstep.ui.pass_names import GRAPH_ROOT, NO_STEPS, pass_note


def test_a_pass_note_says_why_steps_are_missing_or_that_torch_ran_a_graph_root():
    assert pass_note({"steps": [], "no_steps": "batched"}) == NO_STEPS["batched"]
    assert "vmap" in pass_note({"steps": [], "no_steps": "batched"})
    assert pass_note({"steps": [{}], "graph_root": 3}) == GRAPH_ROOT.format(3)
    assert pass_note({"steps": [{}]}) == "" and pass_note(None) == ""
    assert pass_note({"steps": [], "no_steps": "batched", "graph_root": 2}) == NO_STEPS["batched"]
