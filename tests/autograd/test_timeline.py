"""node_states over timelines recorded from real passes."""

import torch
import torch.nn.functional as F

from gradstep.autograd.backward import record_backward
from gradstep.autograd.timeline import node_states
from gradstep.autograd.trace import trace_graph


def mse():
    w = torch.full([1], 2.0, requires_grad=True)
    loss = F.mse_loss(torch.ones(1), torch.ones(1) * w)
    return loss, trace_graph(loss)


def test_states_step_by_step_without_retain_graph():
    loss, trace = mse()
    timeline = record_backward(loss, trace.id_of)
    order = [s["node"] for s in timeline["steps"]]
    assert order == ["n0", "n1", "n2"]  # mse_loss, mul, AccumulateGrad(w)
    nodes = list(trace.graph.nodes)
    assert node_states(timeline, 0, nodes) == {"n0": "current", "n1": "pending", "n2": "pending"}
    assert node_states(timeline, 1, nodes) == {"n0": "freed", "n1": "current", "n2": "pending"}
    # AccumulateGrad saves nothing: done, not freed
    assert node_states(timeline, 3, nodes) == {"n0": "freed", "n1": "freed", "n2": "done"}
    assert node_states(timeline, 99, nodes) == node_states(timeline, 3, nodes)
    assert node_states(timeline, -5, nodes) == node_states(timeline, 0, nodes)


def test_retained_pass_leaves_nodes_done():
    loss, trace = mse()
    timeline = record_backward(loss, trace.id_of, retain_graph=True)
    assert set(node_states(timeline, 3).values()) == {"done"}


def test_second_pass_starts_freed_and_ends_in_error():
    """n1's buffers were freed by the first pass; in the second it never runs (n0 raises
    first): pending, its edges carrying nothing (its saved entries say freed)."""
    loss, trace = mse()
    record_backward(loss, trace.id_of)
    second = record_backward(loss, trace.id_of)
    assert second["freed_before"] == ["n0", "n1"]
    assert node_states(second, 0) == {"n0": "current", "n1": "pending"}
    assert node_states(second, 1) == {"n0": "error", "n1": "pending"}


def test_no_timeline_means_nothing_or_all_pending():
    assert node_states(None, 3) == {}
    assert node_states({"steps": []}, 0, ["n0"]) == {"n0": "pending"}
