"""A complex gradient is written as torch prints it (``a+bj``), not as the ``[real, imag]``
pairs of the JSON read as a real matrix torch never had (``z = [1+2j, 3-1j]``)."""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx

from gradstep.drawing import style
from gradstep.policies.complex_text import complex_elements
from gradstep.step_drawing import drawing_at

# z.grad of ``y = (z * (2+1j)).abs().sum()`` for z = [1+2j, 3-1j], as the JSON has it
Z_GRAD = [[1.0, 2.0], [2.1213204860687256, -0.7071068286895752]]


def test_an_edge_label_writes_complex_numbers_as_torch_prints_them():
    # torch: tensor([1.0000+2.0000j, 2.1213-0.7071j]) (cut to fit the edge, as a real one)
    assert style.gradient_text(Z_GRAD, dtype="complex64") == "[1.0000+2.0000j, …]"
    assert style.gradient_text(Z_GRAD, limit=80, dtype="complex64").startswith("[1.0000+2.0000j")
    assert style.gradient_text([1.5, 2.0], dtype="complex64") == "1.5000+2.j"  # one number, as torch prints it
    assert style.gradient_text([[0.5, -0.25]], dtype="torch.complex128") == "[0.5000-0.2500j]"
    assert style.gradient_text([3.0, 4.0], dtype="complex64") == "3.+4.j"
    assert style.gradient_text([[1.0, "NaN"]], dtype="complex64") == "[1.+nanj]"  # torch: tensor([1.+nanj])
    # three complex numbers are six numbers: too many for an edge
    assert style.gradient_text([[1.0, 2.0]] * 3, dtype="complex64") == ""
    # data that are not pairs all through are not a complex tensor's: nothing written
    assert style.gradient_text([[1.0, 2.0, 3.0]], dtype="complex64") == ""
    # a real gradient is as before
    assert style.gradient_text([1.0, 1.0], dtype="float32") == "[1., 1.]"


def test_an_edge_tooltip_writes_every_complex_number():
    # as torch prints them: tensor([1.0000+2.0000j, 2.1213-0.7071j]), tensor(1.5000+2.j)
    assert style.gradient_full_text(Z_GRAD, dtype="complex64") == "[1.0000+2.0000j, 2.1213-0.7071j]"
    assert style.gradient_full_text([1.5, 2.0], dtype="complex64") == "1.5000+2.j"
    summary = {"shape": [100], "dtype": "complex64", "min": 0.5, "max": 2, "mean": 1}
    assert style.gradient_full_text(summary) == ""  # the window words it (summary_words)


def test_complex_pairs_are_read_back_with_their_nesting():
    nested, pairs = complex_elements([[[1.0, 2.0]], [[3.0, -1.0]]])
    assert nested == [[(1.0, 2.0)], [(3.0, -1.0)]]
    assert pairs == [(1.0, 2.0), (3.0, -1.0)]
    assert complex_elements(1.0) is None
    assert complex_elements([1.0, 2.0, 3.0]) is None


def test_a_picture_writes_a_complex_gradient_by_its_target_dtype():
    # the export's labels (SVG, DOT, GraphML, PNG): a gradient has its target's dtype
    graph = nx.MultiDiGraph()
    graph.add_node("n0", kind="op", name="AbsBackward0", dtype="float32")
    graph.add_node("n1", kind="op", name="MulBackward0", dtype="complex64")
    graph.add_node("n2", kind="leaf", name="AccumulateGrad", label="z", dtype="complex64")
    graph.add_edge("n0", "n1", key=0, slot=0)
    graph.add_edge("n1", "n2", key=0, slot=0)
    state = SimpleNamespace(
        saved={}, node_states={}, members=None, pass_index=0, step=3, step_count=3,
        mode="backward", retain_graph=False, leaf_grads={}, returned=None, error=None,
        edge_grads={("n0", "n1", 0): [[0.0, 1.0], [0.98995, 0.14142]],
                    ("n1", "n2", 0): [1.5, 2.0]})
    _, kwargs = drawing_at(graph, state)
    assert kwargs["edge_labels"] == {("n0", "n1", 0): "[0.0000+1.0000j, …]",
                                     ("n1", "n2", 0): "1.5000+2.j"}
