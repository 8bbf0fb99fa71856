"""The window's short texts and plots of a complex tensor: ``a+bj`` as torch prints it, and
no plot of the JSON's ``[real, imag]`` pairs as a real tensor torch never had."""

from __future__ import annotations

from gradstep.ui.qt_tensor_plot import plot_kind, without_complex_data
from gradstep.ui.tensor_text import short

Z_GRAD = [[1.0, 2.0], [2.1213204860687256, -0.7071068286895752]]


def test_a_complex_grad_reads_as_torch_prints_it():
    # the Leaf gradients panel, z.grad in the Values panel and a leaf's tooltip
    assert short(Z_GRAD, dtype="complex64") == "[1.0000+2.0000j, 2.1213-0.7071j]"
    assert short([3.0, 4.0], dtype="complex64") == "3.+4.j"  # torch: tensor(3.+4.j)
    value = {"shape": [2], "dtype": "complex64", "data": [[1.0, 2.0], [3.0, -1.0]]}
    assert short(value) == "[1.+2.j, 3.-1.j]"  # a value dict says its own dtype (torch prints so)
    assert short(Z_GRAD) == "[[1.0000, 2.0000], [2.1213, -0.7071]]"  # dtype unknown: the rows of its data


def test_a_complex_tensor_is_summarised_not_plotted():
    gradient = without_complex_data({"shape": [2, 2], "data": Z_GRAD}, "complex64")
    assert gradient == {"shape": [2], "dtype": "complex64"}
    assert plot_kind(gradient) == "stats"
    value = {"shape": [2], "dtype": "complex64", "min": 2.2, "data": [[1.0, 2.0], [3.0, -1.0]]}
    assert without_complex_data(value) == {"shape": [2], "dtype": "complex64", "min": 2.2}
    real = {"shape": [2], "dtype": "float32", "data": [1.0, 2.0]}
    assert without_complex_data(real) is real


def test_values_panel_reads_each_slot_by_the_output_its_gradient_reaches(qtbot):
    # linalg.svd of a complex matrix: output 0 (U) complex, output 1 (S) real; a node's
    # slot to S sends two real numbers, never the complex number 1+1j
    import networkx as nx

    from gradstep.ui.qt_session_model import QtSessionModel
    from gradstep.ui.qt_values_panel import QtValuesPanel

    model = QtSessionModel()
    graph = nx.MultiDiGraph()
    graph.add_node("n0", kind="op", name="AddBackward0", dtype="float32")
    graph.add_node("n1", kind="op", name="LinalgSvdBackward0", dtype="complex64",
                   value={"dtype": "complex64", "outputs": [
                       {"dtype": "complex64"}, {"dtype": "float32"}, {"dtype": "complex64"}]})
    graph.add_edge("n0", "n1", key=0, slot=0, input_nr=1)
    graph.add_edge("n0", "n1", key=1, slot=1, input_nr=2)
    model.graph = graph
    panel = QtValuesPanel(model)
    qtbot.addWidget(panel)
    panel.node_id = "n0"
    assert panel._slot_dtypes() == {0: "float32", 1: "complex64"}


def test_a_complex_tensors_statistics_say_they_are_of_magnitudes():
    """The Values panel wrote ``mean 3.`` for a complex tensor whose ``t.mean()`` torch
    prints ``tensor(1.5000+2.5000j)``: the summary's numbers are of ``t.abs()``, and the
    panel now says so (``|z| mean``), as the one-line summary does."""
    import torch

    from gradstep.autograd.values import tensor_value
    from gradstep.policies.number_text import torch_printed
    from gradstep.ui.tensor_text import stats

    for t in (torch.tensor([3 + 4j, 1j]), torch.tensor([3 + 4j, 1j] * 40)):
        lines = stats(tensor_value(t)).split("\n")[1:]
        magnitude = t.abs()
        assert lines == [f"|z| {word} {torch_printed([getattr(magnitude, word)().item()])[0]}"
                         for word in ("min", "max", "mean", "std")], lines
    assert "|z|" not in stats(tensor_value(torch.tensor([1.0, 2.0])))
