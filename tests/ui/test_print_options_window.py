"""The window writes a graph's numbers as the program's ``torch.set_printoptions`` has
torch print them (the options travel with the data, as with a run's reply), and as torch's
default once a graph comes without them."""

from __future__ import annotations

import torch

import gradstep
from gradstep.drawing.style import format_small_value
from gradstep.policies.number_text import DEFAULT, use_print_options
from gradstep.ui.shown_data import ShownDataBackend, show_data
from gradstep.window_data import shown_data
from tests.step_oracle import printed


def _data(**options):
    torch.set_printoptions(**options)
    try:
        x = torch.tensor([1.23456, -0.5, 2.0], requires_grad=True)
        w = torch.tensor([0.333333, 1.5, 3.14159], requires_grad=True)
        y = x * w
        graph = gradstep.to_json(gradstep.trace(y, names={"x": x, "w": w, "y": y}))
        timeline = gradstep.backward(y, gradient=torch.full([3], 0.123456))
        shown = {"precision": torch._tensor_str.PRINT_OPTS.precision,
                 "sci_mode": torch._tensor_str.PRINT_OPTS.sci_mode} if options else None
        grad_w = x.detach() * 0.123456  # d (x*w) / dw applied to the gradient sent
        return (shown_data(graph, [timeline], title="y", print_options=shown),
                printed(w), printed(grad_w))
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)


def test_the_windows_numbers_follow_the_programs_print_options(make_window):
    data, w_text, grad_text = _data(precision=2)  # printed as torch printed them then
    window = make_window(ShownDataBackend)
    show_data(window, data)
    model = window.model
    w_node = next(n for n, a in model.graph.nodes(data=True) if a.get("label") == "w")
    assert format_small_value(model.graph.nodes[w_node]["value"]) == f"= {w_text}"
    model.run_to_end()
    assert grad_text in window.graph_view._labels.values(), window.graph_view._labels
    assert grad_text.startswith("[0.15, ")  # two decimals, not four

    plain, w_plain, grad_plain = _data()  # torch's default: four decimals, as ever
    show_data(window, plain)
    model.run_to_end()
    assert format_small_value(window.model.graph.nodes[w_node]["value"]) == f"= {w_plain}"
    assert grad_plain in window.graph_view._labels.values()
    assert grad_plain.startswith("[0.1524, ")


def test_a_run_without_options_after_one_with_them_writes_torchs_default(qtbot, make_window):
    """Through the kernel, as the window runs snippets: the second snippet's numbers are
    written as its own print writes them (torch's default, the kernel having set the
    first's options back), not with the first's precision."""
    from gradstep.kernel.client import Kernel
    from tests.ui.test_window_flows import run_and_wait

    window = make_window(Kernel)
    source = ("import torch\n{options}\nx = torch.tensor([1.23456, -0.5, 2.0], "
              "requires_grad=True)\ny = (x * 3).sum()\ny.backward()\n")
    x = torch.tensor([1.23456, -0.5, 2.0])
    shown = []
    for options in ({"precision": 2}, {}):
        window.editor.setPlainText(source.format(options=f"torch.set_printoptions(**{options})"
                                                 if options else ""))
        run_and_wait(qtbot, window, window.sigRunFinished)  # the snippet's own pass
        model = window.model
        x_node = next(n for n, a in model.graph.nodes(data=True) if a.get("label") == "x")
        shown.append(format_small_value(model.graph.nodes[x_node]["value"]))
        torch.set_printoptions(**options)
        try:
            assert shown[-1] == f"= {printed(x)}"
        finally:
            torch.set_printoptions(profile="default", sci_mode=None)
    assert shown == ["= [1.23, -0.50, 2.00]", "= [1.2346, -0.5000, 2.0000]"]


def test_an_edge_writes_torchs_numbers_at_its_precision(make_window):
    """The printopts lesson (``precision=2``): torch prints ``w.grad`` in scientific notation
    by itself (``[1.05e+00, -2.98e-01, 2.79e-05]``). The Leaf gradients panel and the edge's
    tooltip write torch's words; the edge into ``w`` writes torch's numbers, digit for digit,
    without the exponent where the number needs none (``1.05``, not ``1``: docs/window.md,
    "Numbers as the snippet prints them"), so three fit between two layers."""
    torch.set_printoptions(precision=2)
    try:
        x = torch.tensor([1.23456, -0.5, 2.0], requires_grad=True)
        w = torch.tensor([0.333333, 1.5, 3.14159], requires_grad=True)
        y = (x * w).tanh()
        loss = y.sum()
        graph = gradstep.to_json(gradstep.trace(loss, names={"x": x, "w": w, "y": y}))
        timeline = gradstep.backward(loss)
        data = shown_data(graph, [timeline], title="loss", print_options={
            "precision": 2, "sci_mode": None})
        w_oracle = w.detach().clone().requires_grad_()  # torch alone, as the snippet runs it
        (x.detach() * w_oracle).tanh().sum().backward()
        words = printed(w_oracle.grad)
        exact = w_oracle.grad.tolist()
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)
    assert "e-0" in words  # torch chose scientific notation
    window = make_window(ShownDataBackend)
    try:
        show_data(window, data)
        _edge_and_panels(window, words, exact)
    finally:  # the model wrote numbers with precision 2 on this thread: the default again
        use_print_options(DEFAULT)


def _edge_and_panels(window, words: str, exact: list[float]) -> None:
    model = window.model
    _slot_list_as_the_edge(window)
    model.run_to_end()
    w_node = next(n for n, a in model.graph.nodes(data=True) if a.get("label") == "w")
    edge = next(e for e in model.graph.in_edges(w_node, keys=True))
    assert window.follower.edge_tooltip(edge).endswith(words), window.follower.edge_tooltip(edge)
    assert window.leaf_panel.cell("w", 0) == words
    label = window.graph_view._labels[edge]
    numbers = label.strip("[]").split(", ")
    torchs = words.strip("[]").split(", ")
    assert len(numbers) == 3 and label != words
    assert [float(n) for n in numbers] == [float(t) for t in torchs]  # the same decimals
    for number, torch_word, x in zip(numbers, torchs, exact):
        assert f"{float(number):.2e}" == torch_word  # ... that torch wrote, none dropped
        assert ("." in number or "e" in number) and not float(x).is_integer()  # not "1"


def _slot_list_as_the_edge(window) -> None:
    """The Values panel's "Sent along slot" list writes each gradient as the edge it goes
    along writes it (it wrote torch's whole-tensor ``[2.83e-01, 8.95e-01, ...]`` beside the
    edge's ``[0.283, 0.895, 4.38e-05]``): one gradient, one text."""
    from PySide6 import QtCore

    from tests.ui.test_window_flows import step_to

    model, panel = window.model, window.values_panel
    window.docks["values"].raise_()
    mul = step_to(window, "MulBackward0")
    window.step_bar.act_forward.trigger()  # MulBackward0 has run: what it sent is drawn
    model.select(mul)  # the Values panel describes it
    for _ in range(3):
        QtCore.QCoreApplication.processEvents()
    assert panel.node_id == mul
    labels = window.graph_view._labels
    sent = 0
    for i in range(panel.slot_choice.count()):
        item = panel.slot_choice.itemText(i)
        edge = next(e for e in model.graph.out_edges(mul, keys=True)
                    if model.graph.edges[e].get("slot", 0) == i)
        if labels.get(edge):
            assert item.endswith(": " + labels[edge]), (item, labels[edge])
            sent += 1
    assert sent == 2  # to x and to w
