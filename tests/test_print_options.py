"""A snippet's ``torch.set_printoptions``: the numbers gradstep shows read as torch's own
``print`` writes them under the same options (torch is the oracle: ``str(t)`` under each
option set), and torch's default options give the text they always gave."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
import torch

from gradstep.cli import main
from gradstep.drawing.style import as_printed, format_small_value, gradient_full_text
from gradstep.kernel.client import Kernel
from gradstep.policies.number_text import (
    DEFAULT,
    SHORT,
    PrintOptions,
    float_text,
    options_of,
    print_mode,
    printed_with,
    torch_printed,
)

# what torch.set_printoptions is given (profile "short" is precision 2, as its own test says)
OPTION_SETS = [
    {},  # torch's default
    {"precision": 2},
    {"precision": 6},
    {"precision": 0},
    {"sci_mode": True},
    {"sci_mode": False},
    {"precision": 3, "sci_mode": True},
    {"profile": "short"},
]
TENSORS = [
    [1.23456, -0.5, 2.0],
    [0.333333, 1.5, 3.14159],
    [1.0, 2.0, 3.0],
    [1e-05, 1.0],
    [123456.789, 0.5],
    [0.0, math.nan, 2.5],
    [-0.0, 0.0],
    [7.0],
    [1e9, 3.0],
    [math.inf, 0.25],
    [1.047, -0.29829, 2.7895e-05],  # the printopts lesson's w.grad: 1.05 at precision 2, not 1
    [0.99996, 1e-05, 123.4],  # round to whole-looking numbers: 1.00, 1.23e+02 at precision 2
]


@pytest.fixture
def torch_options(request):
    """Set torch's print options as the test's parameter says; put torch's default back."""
    torch.set_printoptions(**request.param)
    try:
        yield request.param
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)


def torch_numbers(data: list) -> list[str]:
    """Return each number of a float tensor as ``str(t)`` writes it now (torch's options)."""
    text = str(torch.tensor(data, dtype=torch.float64))
    inner = text[len("tensor("):text.rindex(")")]
    if ", dtype=" in inner:
        inner = inner[:inner.index(", dtype=")]
    return [word.strip() for word in inner.strip("[]").split(",")]


def options_now() -> PrintOptions:
    """torch's options now, as the kernel reads and sends them (Session.run)."""
    shown = torch._tensor_str.PRINT_OPTS
    return options_of({"precision": shown.precision, "sci_mode": shown.sci_mode})


@pytest.mark.parametrize("torch_options", OPTION_SETS, indirect=True, ids=str)
@pytest.mark.parametrize("data", TENSORS, ids=str)
def test_tooltip_numbers_are_torchs_under_its_print_options(torch_options, data):
    expected = torch_numbers(data)
    with printed_with(options_now()):
        assert torch_printed(data) == expected
        assert gradient_full_text(data) == "[" + ", ".join(expected) + "]"


@pytest.mark.parametrize("torch_options", OPTION_SETS, indirect=True, ids=str)
@pytest.mark.parametrize("data", TENSORS, ids=str)
def test_box_and_edge_numbers_are_torchs_where_torch_writes_no_exponent_by_itself(
        torch_options, data):
    """A box or an edge label writes torch's numbers, but for those torch puts in
    scientific notation by itself (``sci_mode`` None), or that have a fraction from 1e4 on:
    there a box keeps ``precision`` significant digits, to stay narrow (as with torch's
    default options, docs/window.md)."""
    expected = torch_numbers(data)
    with printed_with(options_now()):
        words = as_printed(data)
        box = format_small_value({"data": data})
        if print_mode(data) == SHORT:
            chosen_by_torch = torch_options.get("sci_mode") is None
            assert chosen_by_torch and ("e" in "".join(expected) or max(map(abs, data)) >= 1e4)
            precision = options_now().precision
            for word, x, torchs in zip(words, data, expected):
                if precision < 4:  # torch's own number, digit for digit ("1.05", not "1")
                    assert float(word) == float(torchs), (word, torchs)
                else:  # the same number, in one digit fewer than torch's (as ever)
                    assert math.isclose(float(word), x, rel_tol=10.0 ** (1 - precision))
                assert not word.isdigit() or float(word) == x  # a whole number only for one
            return
    assert words == expected
    assert box == "= [" + ", ".join(expected) + "]"


@pytest.mark.parametrize("torch_options", OPTION_SETS, indirect=True, ids=str)
def test_a_formulas_number_is_torchs(torch_options):
    data = [0.333333, 1.5, 3.14159]
    with printed_with(options_now()):
        mode = print_mode(data)
        assert [float_text(x, mode, True) for x in data] == torch_numbers(data)


def test_default_options_are_torchs_default_and_write_four_decimals():
    assert options_now() == DEFAULT  # the suite runs with torch's default print options
    assert format_small_value({"data": [0.5, 1.25]}) == "= [0.5000, 1.2500]"
    assert options_of(None) == DEFAULT
    assert options_of({"precision": "2", "sci_mode": None}) == DEFAULT  # not PRINT_OPTS's


SNIPPET = """\
import torch
torch.set_printoptions({options})
x = torch.tensor([1.23456, -0.5, 2.0], requires_grad=True)
w = torch.tensor([0.333333, 1.5, 3.14159], requires_grad=True)
y = x * w
print(x.detach())
print(w.detach())
print(y.detach())
y.retain_grad()
y.sum().backward()
print(y.grad)
"""


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def printed_numbers(line: str) -> list[str]:
    """``tensor([ 1.23, -0.50,  2.00])`` -> ``["1.23", "-0.50", "2.00"]``."""
    inner = line[len("tensor("):line.rindex(")")]
    return [w.strip() for w in inner.strip("[]").split(",")]


def box_numbers(texts: list[str]) -> list[list[str]]:
    """The numbers of each box's value line, ``= [a, b, c]``; of a cut one, ``= [a, b,…``,
    those it writes and ``…``."""
    boxes = []
    for t in texts:
        if t.startswith("= [") and t.endswith("…"):
            boxes.append(t[len("= ["):-1].rstrip(", ").split(", ") + ["…"])
        elif t.startswith("= ["):
            boxes.append(t[len("= ["):-1].split(", "))
    return boxes


def shows(box: list[str], numbers: list[str]) -> bool:
    """True when a box writes ``numbers``: all of them, or the first ones, each whole (no
    number cut inside: ``6.2…`` for 6.2832 would read as another), then ``…``."""
    if box[-1] == "…":
        return 1 <= len(box) - 1 < len(numbers) and box[:-1] == numbers[:len(box) - 1]
    return box == numbers


@pytest.mark.parametrize("options", ["precision=2", "sci_mode=True", "precision=6",
                                     "profile='short'"])
@pytest.mark.parametrize("step", [None, "2"])
def test_export_writes_the_numbers_the_snippet_printed(tmp_path, capsys, command_kernel,
                                                     options, step):
    """The kernel's SVG (the plain graph) and one drawn here (a step) write each value as
    the snippet's own ``print`` did, in the same run (one kernel process for the cases, as
    a command makes its own: ``command_kernel``; it sets torch's options back after each)."""
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET.format(options=options), encoding="utf-8")
    out = tmp_path / "g.svg"
    more = ["--step", step] if step else []
    assert main(["export", str(snippet), "-o", str(out), *more]) == 0
    printed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("tensor(")]
    assert len(printed) == 4
    gradient = printed_numbers(printed.pop())  # d sum / d y, on the edge into mul
    texts = svg_texts(out)
    boxes = box_numbers(texts)
    for line in printed:
        assert any(shows(box, printed_numbers(line)) for box in boxes), (line, boxes)
    assert all(all(word == "…" or float(word) == float(word) for word in box) for box in boxes)
    if step:  # the pass ran to the step that sent it: torch's y.grad as the snippet printed it
        edges = [t[1:-1].split(", ") for t in texts if t.startswith("[")]
        assert any(shows(edge, gradient) for edge in edges), (gradient, edges)


def test_the_kernel_sends_the_snippets_options_and_none_for_the_default():
    with Kernel(timeout=60) as kernel:
        set_two = kernel.run(SNIPPET.format(options="precision=2, sci_mode=False"))
        plain = kernel.run(SNIPPET.format(options=""))  # the kernel set the options back
    assert set_two["print_options"] == {"precision": 2, "sci_mode": False}
    assert "print_options" not in plain
    x = set_two["trace"]["nodes"]
    data = [n["value"]["data"] for n in x if n.get("label") == "x"]
    assert data == [torch.tensor([1.23456, -0.5, 2.0]).tolist()]  # JSON keeps every digit
    # the trace JSON, formulas too, is the same whatever the options (but torch's sequence
    # numbers, which go on counting in the kernel's process from one run to the next)
    assert _unsequenced(set_two["trace"]) == _unsequenced(plain["trace"])


def _unsequenced(trace: dict) -> dict:
    return {**trace, "nodes": [{k: v for k, v in n.items() if k != "seq"} for n in trace["nodes"]]}


@pytest.mark.parametrize("torch_options", [{"precision": 2}, {"sci_mode": True}],
                         indirect=True, ids=str)
def test_the_apis_picture_writes_the_numbers_as_the_callers_print(torch_options, tmp_path):
    import gradstep

    x = torch.tensor([1.23456, -0.5, 2.0], requires_grad=True)
    w = torch.tensor([0.333333, 1.5, 3.14159], requires_grad=True)
    y = x * w
    drawing = gradstep.draw(y, names={"x": x, "w": w, "y": y})
    path = drawing.save(tmp_path / "api.svg")
    boxes = box_numbers(svg_texts(path))
    for t in (x, w, y):
        assert any(shows(box, torch_numbers(t.tolist())) for box in boxes), (t, boxes)
    dot = drawing.save(tmp_path / "api.dot").read_text(encoding="utf-8")
    labels = box_numbers(re.findall(r'= \[[^"\\]*[\]…]', dot))  # a label's value line
    assert any(shows(box, torch_numbers(w.tolist())) for box in labels), labels


def test_a_formulas_result_writes_the_numbers_torch_sent_at_six_digits():
    """At precision 6 the double worked out by the readable form can differ from torch's
    float32 in the last digit (4.381714e-05 beside torch's 4.381713e-05): what agrees is
    written as torch sent it."""
    pytest.importorskip("yaml")
    from gradstep.autograd.formula_step import formulas_at
    from gradstep.autograd.graph_json import graph_from_json
    from gradstep.autograd.session import Session
    from gradstep.autograd.step_state import PassHistory

    source = SNIPPET.replace("y = x * w", "y = (x * w).tanh()").format(
        options="precision=6, sci_mode=True")
    session = Session(capture_output=True)
    try:
        result = session.run(source)
        graph = graph_from_json(result["trace"])
        index = PassHistory(graph, [result["calls"][0]["timeline"]]).index(0)
        with printed_with(session.print_options):
            for k, step in enumerate(index.steps):
                if graph.nodes[step["node"]]["name"] != "MulBackward0":
                    continue
                shown = formulas_at(graph.nodes[step["node"]], index.state(k).saved.get(step["node"]),
                                    inspected=session.inspect(step["node"]), step=step)
                results = [item["result"] for item in shown["inputs"]]
                break
        # torch's own: the gradients it sent to x and w, printed with the same options
        x = torch.tensor([1.23456, -0.5, 2.0], requires_grad=True)
        w = torch.tensor([0.333333, 1.5, 3.14159], requires_grad=True)
        grad_x, grad_w = torch.autograd.grad((x * w).tanh().sum(), [x, w])
        expected = ["[" + ", ".join(torch_numbers(g.tolist())) + "]" for g in (grad_x, grad_w)]
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)
    assert session.print_options == PrintOptions(6, True)
    assert [r["agrees"] for r in results] == [True, True]
    assert [r["formula"] for r in results] == expected
    assert [r["torch"] for r in results] == expected


@pytest.mark.parametrize("torch_options", [{}, {"precision": 6}, {"sci_mode": True}],
                         indirect=True, ids=str)
def test_a_long_box_value_is_cut_after_a_whole_number(torch_options):
    """Cut where it always was when that is a number's end (torch's default text as ever),
    else after the number before: every number written is one torch printed."""
    from gradstep.drawing.style import MAX_LINE_CHARS, shorten, value_line

    for data in ([-43.2096, 43.2096, 351.75, -35.875], [0.41152, -0.75, 6.28318],
                 [1.23456, -0.5, 2.0, 3.14159], [-12.3456, 12.3456, 100.5, -10.25]):
        numbers = torch_numbers(data)
        with printed_with(options_now()):
            text = format_small_value({"data": data})
        line = value_line(text).text
        assert len(line) <= MAX_LINE_CHARS
        (box,) = box_numbers([line])
        assert shows(box, numbers), (line, numbers)
        cut = text[:MAX_LINE_CHARS - 1]
        if len(text) <= MAX_LINE_CHARS or cut.endswith((",", ", ")) or text[len(cut)] == ",":
            assert line == shorten(text)  # as the box always wrote it


def test_a_formulas_result_further_from_torchs_than_rounding_keeps_its_own_numbers():
    """Torch's numbers stand in for the formula's only where the two are float32 rounding
    apart (torch's float32 product beside the double one); a difference that _close lets
    agree (5e-5 here), but is not rounding, is written as the formula's own, beside torch's."""
    from gradstep.autograd.formula_step import _result

    g = torch.tensor([1.23456, -0.333333])
    w = torch.tensor([0.1, 0.7])
    formula = {"symbols": {"g": {"gradient": 0}, "w": {"saved": "other", "value": w.tolist()}},
               "numpy": "g * w"}
    sent = (g * w).tolist()  # torch's float32 product
    double = [a * b for a, b in zip(g.tolist(), w.tolist())]
    off = [sent[0] * (1 + 5e-5), sent[1]]  # not torch's rounding: a real difference
    with printed_with(PrintOptions(8, True)):
        torch_text = "[" + ", ".join(torch_printed(sent)) + "]"
        assert "[" + ", ".join(torch_printed(double)) + "]" != torch_text  # the case at all
        rounding = _result(formula, g.tolist(), sent)
        apart = _result(formula, g.tolist(), off)
        double_text = "[" + ", ".join(torch_printed(double)) + "]"
    assert rounding == {"formula": torch_text, "torch": torch_text, "shape": [2], "agrees": True}
    assert apart["agrees"] is True
    assert apart["formula"] == double_text != apart["torch"]
