"""Torch as the oracle for recorded backward passes.

``torch_pass`` runs a graph with plain torch and hooks written here (not
gradstep's recorder): the order the engine ran the nodes in, what arrived at
each node and what it sent on, and the leaves' ``.grad``. ``assert_same``
compares a gradstep record with it value by value.
"""

from __future__ import annotations

import math

import torch

from gradstep.autograd.trace import trace_graph


def labels_for(trace, named: dict) -> dict:
    """Return ``{node id: name}`` for the leaves of ``trace`` found in ``named`` (name -> tensor)."""
    by_tensor = {id(t): name for name, t in named.items()}
    labels = {}
    for fn, node_id in trace.id_of.items():
        variable = getattr(fn, "variable", None)
        if variable is not None and id(variable) in by_tensor:
            labels[node_id] = by_tensor[id(variable)]
    return labels


def torch_pass(root, *, gradient=None, retain_graph=False, inputs=None):
    """Run one pass with plain torch and return what it did.

    Returns ``{"order": [node ids in pre-hook order], "arrived": {id: [grads]},
    "sent": {id: [grads or None per slot]}, "result": autograd.grad's tuple or None}``.
    """
    trace = trace_graph(root)
    order, arrived, sent, handles = [], {}, {}, []
    for fn, node_id in trace.id_of.items():
        handles.append(fn.register_prehook(_pre(node_id, order, arrived)))
        handles.append(fn.register_hook(_post(node_id, fn, sent)))
    try:
        if inputs is None:
            root.backward(gradient, retain_graph=retain_graph)
            result = None
        else:
            result = torch.autograd.grad(root, inputs, gradient, retain_graph=retain_graph)
    finally:
        for handle in handles:
            handle.remove()
    return {"order": order, "arrived": arrived, "sent": sent, "result": result, "trace": trace}


def _pre(node_id, order, arrived):
    def hook(grad_outputs):
        order.append(node_id)
        arrived[node_id] = [_copy(g) for g in grad_outputs]

    return hook


def _post(node_id, fn, sent):
    def hook(grad_inputs, grad_outputs):
        flows = [nxt is not None for nxt, _ in fn.next_functions]
        sent[node_id] = [_copy(g) if flows[i] else None for i, g in enumerate(grad_inputs)]

    return hook


def _copy(t):
    """Return a copy of ``t``, with ``t``'s own ``mean()`` and ``std()`` as ``live_stats``
    when it is a float tensor: a copy is contiguous, and an expanded gradient (what
    ``sum()`` sends back) adds its elements in another order than its copy does."""
    if t is None:
        return None
    copy = t.detach().clone()
    if t.is_floating_point() and t.numel() > 1:
        copy.live_stats = (t.mean().item(), t.std().item())
    return copy


def assert_value(plain, expected, *, atol=1e-6):
    """Assert that gradstep's plain value (list, float or summary dict) equals tensor ``expected``."""
    if expected is None:
        assert plain is None
        return
    assert plain is not None, f"expected {expected}, got None"
    if isinstance(plain, dict):  # a summary of a large tensor
        assert plain["shape"] == list(expected.shape)
        finite = expected[torch.isfinite(expected)].double()
        assert math.isclose(plain["min"], finite.min().item(), abs_tol=atol)
        assert math.isclose(plain["max"], finite.max().item(), abs_tol=atol)
        assert math.isclose(plain["mean"], finite.mean().item(), rel_tol=1e-6, abs_tol=atol)
        if _exact_stats(expected, finite):  # the numbers the snippet's own g.mean(), g.std() print
            want = getattr(expected, "live_stats", None) or (expected.mean().item(), expected.std().item())
            assert (plain["mean"], plain["std"]) == want, (plain, expected.stride(), want)
        return
    got = torch.tensor(_numbers(plain), dtype=torch.float64)
    want = expected.detach().double()
    assert got.shape == want.shape, (got.shape, want.shape)
    assert torch.allclose(got, want, atol=atol, equal_nan=True), (got, want)


def _exact_stats(expected, finite) -> bool:
    """True where a summary's mean and std must be torch's ``mean()`` and ``std()`` to the
    last bit: a finite float32 or float64 tensor on the CPU (docs/limits.md)."""
    return (expected.dtype in (torch.float32, torch.float64) and expected.device.type == "cpu"
            and expected.numel() > 1 and finite.numel() == expected.numel())


def _numbers(x):
    """Turn gradstep's strict-JSON strings for NaN/Inf back into floats."""
    if isinstance(x, list):
        return [_numbers(v) for v in x]
    if isinstance(x, str):
        return float(x.lower().replace("infinity", "inf"))
    return x


def assert_same(record, oracle, *, atol=1e-6):
    """Assert a gradstep backward record matches an oracle pass step by step."""
    assert record["error"] is None, record["error"]
    assert [s["node"] for s in record["steps"]] == oracle["order"]
    for step in record["steps"]:
        node_id = step["node"]
        want_in = oracle["arrived"][node_id]
        assert len(step["grad_outputs"]) == len(want_in)
        for got, want in zip(step["grad_outputs"], want_in):
            assert_value(got, want, atol=atol)
        want_out = oracle["sent"][node_id]
        assert len(step["grad_inputs"]) == len(want_out)
        for got, want in zip(step["grad_inputs"], want_out):
            assert_value(got, want, atol=atol)
