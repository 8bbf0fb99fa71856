"""gradstep on live tensors in the user's own process (the Python API's core), against torch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradstep.autograd.live import backward_tensor, record, trace_tensor
from gradstep.autograd.serialize import graph_to_json
from tests.autograd.backward_oracle import assert_same, assert_value, torch_pass
from tests.autograd.trace_oracle import assert_matches_torch, data_close


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))


def test_trace_of_a_live_tensor_is_torchs_graph_with_the_callers_names():
    net = _net()
    x = torch.randn(2, 3)
    with record() as rec:
        out = net(x)
    loss = out.pow(2).mean()
    trace = trace_tensor(loss, namespace={"net": net, "x": x, "out": out, "loss": loss},
                         recording=rec)
    data = graph_to_json(trace)
    assert_matches_torch(data, loss)
    by_label = {n["label"]: n for n in data["nodes"]}
    assert {"loss", "out", "0.weight", "2.bias"} <= set(by_label)
    assert data_close(by_label["out"]["value"]["data"], out)
    assert data_close(by_label["loss"]["value"]["data"], loss)
    assert by_label["0.weight"]["scope"] == "0"
    relu = next(n for n in data["nodes"] if n["name"] == "ReluBackward0")
    assert relu["scope"] == "1" and data_close(relu["value"]["data"], torch.relu(net[0](x)))


def test_tracing_runs_no_hook_and_changes_nothing():
    unpacked = []
    x = torch.tensor([0.5, 1.5], requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        y = (x.sin() * x).sum()
    trace_tensor(y, namespace={"x": x, "y": y})
    assert unpacked == []
    y.backward()
    assert len(unpacked) == 3  # sin's self, and mul's two inputs: torch's own unpacking only


def test_backward_records_a_real_pass_and_leaves_grad_as_it_was():
    net = _net()
    x = torch.randn(2, 3)
    loss = net(x).square().mean()
    loss.backward(retain_graph=True)
    before = {name: p.grad for name, p in net.named_parameters()}
    values = {name: p.grad.clone() for name, p in net.named_parameters()}
    trace = trace_tensor(loss, namespace={"net": net, "loss": loss})
    got = backward_tensor(loss, trace)
    for name, p in net.named_parameters():
        assert p.grad is before[name] and torch.equal(p.grad, values[name])
        assert_value(got["leaf_grads"][name], values[name])  # accumulated from None
    loss.backward()  # the graph is still there
    assert torch.allclose(net[0].weight.grad, 2 * values["0.weight"])
    # the record is the pass torch runs on the same graph: its order and its gradients
    fresh = _net()
    oracle = torch_pass(fresh(x).square().mean())
    assert_same(got, oracle)


def test_grad_mode_returns_what_autograd_grad_returns():
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    trace = trace_tensor(p[1], namespace={"a": a})
    got = backward_tensor(p[1], trace, mode="grad", inputs=[a])
    (want,) = torch.autograd.grad(p[1], [a], retain_graph=True)
    assert got["returned_inputs"] == ["a"]
    assert_value(got["returned"][0], want)
    assert a.grad is None


def test_a_tensor_without_a_graph_is_refused_plainly():
    with pytest.raises(ValueError, match="no grad_fn"):
        trace_tensor(torch.ones(2))
