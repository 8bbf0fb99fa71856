"""Backward passes in sequence: the double-backward error, accumulation, ``zero_()``."""

import json

import pytest
import torch
import torch.nn.functional as F

from gradstep.autograd.backward import record_backward
from gradstep.autograd.trace import trace_graph
from tests.autograd.backward_oracle import labels_for


def mse_graph():
    x = torch.ones(1)
    w = torch.full([1], 2.0, requires_grad=True)
    loss = F.mse_loss(torch.ones(1), x * w)
    trace = trace_graph(loss)
    return loss, w, trace, labels_for(trace, {"w": w})


def test_second_pass_without_retain_graph_is_torchs_error():
    loss, w, trace, labels = mse_graph()
    first = record_backward(loss, trace.id_of, labels=labels)
    assert first["error"] is None and first["freed"] is True
    second = record_backward(loss, trace.id_of, labels=labels)
    # torch itself, on an identical graph, fails the same way
    loss2, _, _, _ = mse_graph()
    loss2.backward()
    with pytest.raises(RuntimeError) as torch_error:
        loss2.backward()
    assert second["error"]["kind"] == "freed_buffers"
    assert second["error"]["message"] == str(torch_error.value).splitlines()[0]
    # the timeline stops at the node that needed its freed buffers
    assert [s["node"] for s in second["steps"]] == [trace.root_id]
    assert second["steps"][0]["error"] is True
    assert second["leaf_grads"] == {"w": w.grad.tolist()} == {"w": [2.0]}


def test_nodes_with_saved_tensors_are_freed_others_not():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    root = (x * x + x).sum()  # MulBackward saves x; Add and Sum save nothing
    trace = trace_graph(root)
    got = record_backward(root, trace.id_of)
    names = {trace.id_of[fn]: fn.name() for fn in trace.id_of}
    assert [names[n] for n in got["freed_nodes"]] == ["MulBackward0"]
    for step in got["steps"]:
        assert step["freed"] == (step["name"] == "MulBackward0")
    with pytest.raises(RuntimeError, match="freed"):
        trace.node_of[got["freed_nodes"][0]]._saved_self  # noqa: B018  (torch's own probe)


def test_retain_graph_keeps_buffers_and_second_pass_accumulates():
    loss, w, trace, labels = mse_graph()
    first = record_backward(loss, trace.id_of, labels=labels, retain_graph=True)
    assert first["freed"] is False and first["freed_nodes"] == []
    second = record_backward(loss, trace.id_of, labels=labels, retain_graph=True)
    leaf_step = second["steps"][-1]
    assert (leaf_step["grad_before"], leaf_step["grad_after"]) == ([2.0], [4.0])
    assert second["leaf_grads"]["w"] == w.grad.tolist() == [4.0]
    # the first record was copied at the time: torch's in-place accumulation does not rewrite it
    assert first["steps"][-1]["grad_after"] == [2.0]


def test_zero_grad_between_passes():
    loss, w, trace, labels = mse_graph()
    record_backward(loss, trace.id_of, labels=labels, retain_graph=True)
    w.grad.zero_()
    second = record_backward(loss, trace.id_of, labels=labels, retain_graph=True)
    leaf_step = second["steps"][-1]
    assert (leaf_step["grad_before"], leaf_step["grad_after"]) == ([0.0], [2.0])


def _refuse(name):
    raise ValueError(f"non-standard JSON constant {name}")


def test_nan_and_inf_gradients_are_strict_json():
    x = torch.tensor([0.0, 4.0, -1.0], requires_grad=True)
    root = x.sqrt().sum()  # d/dx sqrt at 0 is inf, at -1 NaN
    trace = trace_graph(root)
    got = record_backward(root, trace.id_of, labels=labels_for(trace, {"x": x}))
    text = json.dumps(got, allow_nan=False)
    back = json.loads(text, parse_constant=_refuse)
    assert back["leaf_grads"]["x"] == ["Infinity", 0.25, "NaN"]
    expected = x.grad.tolist()
    assert expected[0] == float("inf") and expected[1] == 0.25 and expected[2] != expected[2]


def test_large_gradient_is_a_summary_that_is_strict_json():
    x = torch.zeros(10, 10, requires_grad=True)
    root = (x.sqrt() * torch.arange(100.0).reshape(10, 10)).sum()
    trace = trace_graph(root)
    got = record_backward(root, trace.id_of, labels=labels_for(trace, {"x": x}))
    back = json.loads(json.dumps(got, allow_nan=False), parse_constant=_refuse)
    summary = back["leaf_grads"]["x"]
    assert summary["shape"] == [10, 10]
    assert summary["nan"] == int(torch.isnan(x.grad).sum()) == 1  # 0 * inf
    assert summary["inf"] == int(torch.isinf(x.grad).sum()) == 99
