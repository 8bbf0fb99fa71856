"""The window's model against the backward part's own functions and torch's numbers."""

from __future__ import annotations

import pytest

from app.autograd.session import Session
from app.autograd.timeline import node_states
from app.ui.models import SessionModel, StepIndex

SOURCE = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
          "y = (x * x).sin()\nout = (y * 3).sum()\n")


@pytest.fixture(scope="module")
def run_and_passes():
    session = Session()
    result = session.run(SOURCE)
    assert result["ok"], result["error"]
    retained = session.backward(retain_graph=True, passes=2)
    freeing = session.backward(retain_graph=False)
    failing = session.backward(retain_graph=False)  # the graph is gone: torch refuses
    return result, [retained, freeing, failing]


def test_incremental_states_agree_with_node_states(run_and_passes):
    _, timelines = run_and_passes
    for timeline in timelines:
        index = StepIndex(timeline)
        n = len(timeline["steps"])
        shown = node_states(timeline, 0)
        for a, b in [(k, k + 1) for k in range(n)] + [(k + 1, k) for k in range(n)] + [(0, n), (n, 0)]:
            shown = node_states(timeline, a)
            shown.update(index.changed(a, b))
            assert shown == node_states(timeline, b), (a, b)


def test_model_steps_and_graph_state(qtbot, run_and_passes):
    result, (retained, freeing, failing) = run_and_passes
    model = SessionModel()
    model.set_run_result(result)
    assert model.timeline is None and model.step_count == 0
    model.add_timeline(freeing)
    assert model.graph_state().startswith("alive")
    with qtbot.waitSignal(model.sigStepChanged, timeout=1000):
        model.run_to_end()
    assert model.graph_state() == f"freed after the pass at step {len(freeing['steps'])}"
    model.add_timeline(failing)
    assert model.graph_state().startswith("pass failed")
    assert "second time" in model.error["message"]
