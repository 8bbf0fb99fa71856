"""The graph's boxes show torch's state at the step shown, however the step was reached.

What is expected is read off the backward JSON's own steps (torch's order, and which
steps freed their node's buffers), not from ``step_state``: after ``k`` steps the nodes of
``steps[:k]`` ran (freed where their step freed, ✗ where it raised), ``steps[k]`` is ▶,
and every other node is pending with its buffers alive.
"""

from __future__ import annotations

import pytest

from gradstep.autograd.session import Session

WAIT = 60_000
# b.mul_ changes the output SigmoidBackward0 saved: torch runs SumBackward0, MulBackward0
# (freeing its buffers) and raises at SigmoidBackward0; the failed run opens at the end
INPLACE = ("import torch\na = torch.tensor([1.0, 2.0], requires_grad=True)\n"
           "b = a.sigmoid()\nb.mul_(2)\nb.sum().backward()\n")


def expected(steps: list, k: int, nodes) -> tuple[dict, set]:
    """Return ({node: state}, {nodes whose buffers are freed}) after ``k`` steps."""
    states = dict.fromkeys(nodes, "pending")
    freed = set()
    for step in steps[:k]:
        states[step["node"]] = ("error" if step.get("error") else
                                 "freed" if step.get("freed") else "done")
        if step.get("freed"):
            freed.add(step["node"])
    if k < len(steps):
        states[steps[k]["node"]] = "current"
    return states, freed


def shown(window) -> tuple[dict, set, set]:
    """Return the boxes' states, the boxes drawn with a freed buffer, and the nodes whose
    edges are drawn as having sent a gradient, as the graph scene has them."""
    scene = window.graph_view.graph_scene
    states = {n: scene.states.get(n, "pending") for n in window.model.graph.nodes}
    freed = {n for n, entries in scene.saved.items()
             if any(isinstance(e, dict) and e.get("freed") is True for e in entries)}
    return states, freed, set(scene.done_nodes)


def assert_shows_step(window, k: int) -> None:
    steps = window.model.timeline["steps"]
    assert window.model.step == k
    states, freed = expected(steps, k, window.model.graph.nodes)
    assert shown(window) == (states, freed, {n for n, s in states.items() if s in ("done", "freed")})


@pytest.fixture
def window(make_window):
    return make_window(Session)


def test_choosing_the_pass_again_after_its_end_shows_step_0_as_torch_had_it(qtbot, window):
    window.editor.setPlainText(INPLACE)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    steps = window.model.timeline["steps"]
    assert [s["name"] for s in steps] == ["SumBackward0", "MulBackward0", "SigmoidBackward0"]
    assert steps[1]["freed"] and steps[2]["error"]
    assert_shows_step(window, 3)  # a failed run opens where torch raised
    bar = window.step_bar
    bar.passes.activated.emit(0)  # the pass list: the same pass, from its start
    assert_shows_step(window, 0)  # was: MulBackward0 freed, SigmoidBackward0 ✗, edges sent
    bar.act_forward.trigger()
    assert_shows_step(window, 1)
    bar.act_end.trigger()
    bar.act_back.trigger()
    assert_shows_step(window, 2)
    bar.act_end.trigger()
    assert_shows_step(window, 3)
    bar.act_reset.trigger()
    assert_shows_step(window, 0)


def test_the_step_bar_and_the_values_header_number_steps_alike(qtbot, window):
    """The bar counts the steps done; the Values panel numbers a step from 1, as the exports
    do (``After step 3 of 3``): before the first step the ▶ node runs at step 1, not
    "step 0"; at the end the bar has done 3 of 3 and the last node ran at step 3."""
    window.editor.setPlainText(INPLACE)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.docks["values"].raise_()
    bar, header = window.step_bar, window.values_panel.header
    assert bar.position.text().strip() == "3 / 3 steps done"
    assert header.text().endswith("✗ raised at step 3")  # SigmoidBackward0, where torch raised
    bar.act_reset.trigger()
    assert bar.position.text().strip() == "0 / 3 steps done"
    assert header.text().endswith("▶ runs at step 1")  # SumBackward0, torch's first
    bar.act_forward.trigger()
    assert bar.position.text().strip() == "1 / 3 steps done"
    assert header.text().endswith("▶ runs at step 2")  # MulBackward0
    window.docks["saved"].raise_()
    assert "(pass 1, 1 of 3 steps done)" in window.saved_panel.state_label.text()
