"""``gradstep.backward(loss, inputs=...)`` against torch's own pass with those inputs.

torch runs the same lines (``loss.backward(inputs=..., retain_graph=True)`` or
``torch.autograd.grad(loss, ...)``) in a plain namespace with the hooks of
tests/step_oracle.py; at every step the nodes run, the gradient on each edge and each
leaf's ``.grad`` must be what torch had. With ``accumulate=True`` every ``.grad`` after
the call is torch's; without it every ``.grad`` and ``retains_grad`` is as it was before
(torch's backward calls ``retain_grad()`` on a non-leaf input, for good).
"""

from __future__ import annotations

import warnings

import pytest
import torch

import gradstep
from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.step_state import PassHistory
from tests.autograd.test_step_state import shown_by
from tests.step_oracle import assert_matches, drawn_ids, expected_state, oracle_run

BUILD = ("import torch\ntorch.manual_seed(0)\nx = torch.randn(3, requires_grad=True)\n"
         "w = torch.randn(3, requires_grad=True)\nh = (x * w).sin()\nv = x[:2]\n"
         "r = h.exp()\nr.retain_grad()\nloss = (r * w).sum() + (v * 3).sum()\n")
NAMES = ("x", "w", "h", "v", "r")
INPUTS = {"leaf": "[x]", "one_tensor": "x", "non_leaf": "[h]", "view": "[v]",
          "retained": "[r]", "non_leaf_and_leaf": "(h, w)",
          "edge": "torch.autograd.graph.get_gradient_edge(h)", "generator": "(t for t in [x, h])"}
RUNS = {"backward_accumulate": ("backward", True), "backward": ("backward", False),
        "grad": ("grad", False)}


def _grads(namespace: dict) -> dict:
    with warnings.catch_warnings():  # a non-leaf's .grad read: torch's warning, not the test's
        warnings.simplefilter("ignore")
        return {name: (namespace[name].grad, namespace[name].retains_grad) for name in NAMES}


@pytest.mark.parametrize("run", list(RUNS))
@pytest.mark.parametrize("case", list(INPUTS))
def test_backward_inputs_at_every_step_as_torchs_own_pass(case, run):
    mode, accumulate = RUNS[run]
    expr = INPUTS[case]
    call = (f"loss.backward(inputs={expr}, retain_graph=True)\n" if mode == "backward"
            else f"torch.autograd.grad(loss, {expr}, retain_graph=True)\n")
    oracle = oracle_run(BUILD + call)
    assert oracle.error is None
    torch_call = oracle.calls[-1]
    namespace: dict = {}
    exec(BUILD, namespace)
    del namespace["__builtins__"]
    before = _grads(namespace)
    trace = gradstep.to_json(gradstep.trace(namespace["loss"], names=namespace))
    timeline = gradstep.backward(namespace["loss"], mode=mode, inputs=eval(expr, namespace),
                                 accumulate=accumulate, names=namespace)
    assert timeline["error"] is None
    graph = graph_from_json(trace)
    ids = drawn_ids(oracle, trace, "loss")
    labels = {n: a["label"] for n, a in graph.nodes(data=True) if a["kind"] == "leaf"}
    history = PassHistory(graph, [timeline])
    steps = timeline["steps"]
    assert [s["node"] for s in steps] == [ids[fn] for fn in torch_call.order]
    for k in range(len(steps) + 1):
        assert_matches(shown_by(history.state(0, k)), expected_state(torch_call, k, ids, labels),
                       f"{case} {run} step {k}")
    if mode == "grad":
        returned = history.state(0, len(steps)).returned
        assert len(returned) == len(torch_call.returned)
        for got, want in zip(returned, torch_call.returned):
            assert got == pytest.approx(want.tolist())
    after = _grads(namespace)
    if accumulate:  # as after torch's pass: the same values, and retains_grad where it set it
        want = _grads(oracle.namespace)
        for name in NAMES:
            (got, got_retains), (grad, retains) = after[name], want[name]
            assert got_retains == retains and (got is None) == (grad is None), name
            assert got is None or torch.equal(got, grad), name
    else:  # the same objects as before, and no tensor made to retain its grad
        assert all(after[n][0] is before[n][0] and after[n][1] == before[n][1] for n in NAMES)
        namespace["loss"].backward()  # a later pass fills no non-leaf's .grad either
        assert _grads(namespace)["h"][0] is None and _grads(namespace)["v"][0] is None
