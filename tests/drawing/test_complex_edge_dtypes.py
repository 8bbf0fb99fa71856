"""Each edge's gradient is read as complex exactly where torch's is complex: torch (a post
hook on every node, ``tests/step_oracle``) is the oracle, on both sides of complex->real
and real->complex ops, mixed real*complex products and a node whose outputs differ in dtype
(``linalg.svd`` of a complex matrix: U, Vh complex, S real)."""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import pytest

from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.autograd.step_state import PassHistory, drawn_calls
from gradstep.policies.complex_text import is_complex
from gradstep.step_drawing import drawing_at, grad_dtype
from tests.step_oracle import drawn_ids, expected_state, oracle_run

SNIPPETS = {
    "abs_real_view": (
        "import torch\n"
        "z = torch.tensor([1+2j, 3-1j], requires_grad=True)\n"
        "x = torch.tensor([0.5, 2.0], requires_grad=True)\n"
        "w = (z * x).abs() + (z * 2).real + torch.view_as_real(z).sum(-1)\n"
        "loss = w.sum()\n"
        "loss.backward()\n"),
    "view_as_complex": (
        "import torch\n"
        "r = torch.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)\n"
        "c = torch.view_as_complex(r * 1) * (1 - 2j)\n"
        "loss = c.angle().sum()\n"
        "loss.backward()\n"),
    "svd_outputs": (
        "import torch\n"
        "a = torch.tensor([[1+1j, 2.0], [0.5j, 3.0]], requires_grad=True)\n"
        "u, s, vh = torch.linalg.svd(a)\n"
        "loss = s.sum() + (u[0, 0] * vh[0, 0]).abs()\n"
        "loss.backward()\n"),
}


@pytest.mark.parametrize("case", sorted(SNIPPETS))
def test_each_edge_is_read_as_complex_where_torch_sends_a_complex_gradient(case):
    source, filename = SNIPPETS[case], f"/snippets/{case}.py"
    result, oracle = Session().run(source, filename=filename), oracle_run(source, filename)
    assert result["error"] is None and oracle.error is None
    graph = graph_from_json(result["trace"])
    ids = drawn_ids(oracle, result["trace"], result["root_name"])
    calls = drawn_calls(result["calls"], graph)
    history = PassHistory(graph, [c["timeline"] for c in calls])
    steps = len(calls[0]["timeline"]["steps"])
    state = history.state(0, steps)
    expected = expected_state(oracle.calls[calls[0]["index"]], steps, ids, {})["edge_grads"]
    assert expected and set(state.edge_grads) == set(expected)
    for (source_id, target, slot), grad in expected.items():
        read = grad_dtype(graph, (source_id, target, slot))
        assert is_complex(read) == grad.is_complex(), (case, source_id, target, read, grad.dtype)


def test_a_gradient_reaching_a_later_output_takes_that_outputs_dtype():
    # linalg.svd of a complex matrix: output 0 (U) complex, output 1 (S) real
    graph = nx.MultiDiGraph()
    graph.add_node("n0", kind="op", name="SumBackward0", dtype="float32")
    graph.add_node("n1", kind="op", name="LinalgSvdBackward0", dtype="complex64")
    graph.add_edge("n0", "n1", key=0, slot=0, input_nr=1)
    state = SimpleNamespace(
        saved={}, node_states={}, members=None, pass_index=0, step=1, step_count=2,
        mode="backward", retain_graph=False, leaf_grads={}, returned=None, error=None,
        edge_grads={("n0", "n1", 0): [1.0, 1.0]})
    # S's gradient is two real numbers, never the complex number 1+1j
    assert drawing_at(graph, state)[1]["edge_labels"] == {("n0", "n1", 0): "[1., 1.]"}
    assert grad_dtype(graph, ("n0", "n1", 0)) is None  # output 1's dtype not recorded
    graph.nodes["n1"]["value"] = {"dtype": "complex64", "outputs": [
        {"dtype": "complex64"}, {"dtype": "float32"}, {"dtype": "complex64"}]}
    assert grad_dtype(graph, ("n0", "n1", 0)) == "float32"
    graph.edges["n0", "n1", 0]["input_nr"] = 2
    assert grad_dtype(graph, ("n0", "n1", 0)) == "complex64"
