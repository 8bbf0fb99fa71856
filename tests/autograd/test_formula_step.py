"""A node's formulas at a step (gradstep.autograd.formula_step), against torch.

The window shows, for the ▶ or selected node, torch's expression with the small saved
numbers written in and the readable form with each letter's value. Here the lessons run
through gradstep's Session, each step's node is inspected as the window does, and
wherever the readable form can be evaluated on those numbers and the gradient that
arrived, it must give what torch sent through that slot (the step's ``grad_inputs``,
recorded from torch's own hooks). Numbers of buffers a pass freed come from what the
kernel read before the pass (``saved_memory``).
"""

from __future__ import annotations

import json

import pytest

from gradstep.autograd.formula_step import formulas_at
from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.autograd.step_state import PassHistory, drawn_calls
from gradstep.examples import EXAMPLES_DIR

pytest.importorskip("yaml")

LESSONS = ["mse_backward", "mse_autograd_grad", "softmax_jacobian", "grad_fn_chain",
           "losses_reduction", "retain_graph_fixed", "no_grad", "stale_graph_fixed", "cifar_cnn"]


def stepped(source: str, filename: str = "<snippet>"):
    """Run ``source``; yield (attrs, formulas at that step) for every step of every
    pass the window would step (the snippet's own calls, else one gradstep runs)."""
    session = Session()
    result = session.run(source, filename=filename)
    graph = graph_from_json(result["trace"])
    calls = drawn_calls(result["calls"], graph)
    timelines = [c["timeline"] for c in calls] or [session.backward()]
    history = PassHistory(graph, timelines)
    for p in range(len(timelines)):
        index = history.index(p)
        for k, step in enumerate(index.steps):
            node = step["node"]
            state = index.state(k)
            targets = {slot: graph.nodes[v].get("label") for _, v, slot in index.edges_from(node)}
            shown = formulas_at(graph.nodes[node], state.saved.get(node),
                                inspected=session.inspect(node), step=step, targets=targets)
            yield graph.nodes[node], shown


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_formulas_give_torchs_gradients(lesson):
    path = EXAMPLES_DIR / f"{lesson}.py"
    evaluated = 0
    for attrs, shown in stepped(path.read_text(encoding="utf-8"), str(path)):
        json.dumps(shown, allow_nan=False)
        assert shown["available"] or shown["reason"], attrs["name"]
        if attrs["kind"] == "op":
            assert shown["available"], f"{attrs['name']}: {shown['reason']}"
        for item in shown["inputs"]:
            result = item["result"]
            if result is None:
                continue
            evaluated += 1
            assert result["agrees"], (lesson, attrs["name"], item["input"], item["math"], result)
    if lesson != "cifar_cnn":  # the CNN's tensors are too large to write out
        assert evaluated, f"{lesson}: no formula could be evaluated on its numbers"


def test_mse_lesson_shows_its_numbers_although_backward_freed_them():
    """mse.backward() frees the buffers; the formula still shows x = [1.], y = [2.] (torch
    prints tensor([1.]))."""
    path = EXAMPLES_DIR / "mse_backward.py"
    session = Session()
    session.run(path.read_text(encoding="utf-8"), filename=str(path))
    inspected = session.inspect("n0")
    saved = {item["name"]: item for item in inspected["saved"]}
    assert saved["self"]["freed"] and saved["self"]["remembered"]
    assert saved["self"]["value"]["data"] == [1.0] and saved["target"]["value"]["data"] == [2.0]
    graph = graph_from_json(session.state and _trace(session))
    shown = formulas_at(graph.nodes["n0"], inspected["saved"], inspected=inspected,
                        step={"grad_outputs": [1.0], "grad_inputs": [None, [2.0]]})
    target = shown["inputs"][1]
    assert target["math"] == "∂L/∂yᵢ = −2(xᵢ − yᵢ)/n · g"
    assert target["substituted"] == "mse_loss_backward(grad, [2.], [1.], 1)"
    letters = {letter["letter"]: letter for letter in target["letters"]}
    assert (letters["x"]["value"], letters["x"]["state"]) == ("[1.]", "remembered")
    assert target["result"] == {"formula": "[2.]", "torch": "[2.]", "shape": [1], "agrees": True}
    assert not shown["inputs"][0]["flows"]  # torch.ones(1) needs no gradient


def test_softmax_lesson_numbers_read_as_the_lesson_prints_them():
    """print(a.grad) shows tensor([-0.0828, 0.2274, -0.1447]); the formula's result and
    torch's numbers beside it are written the same way (4 significant digits: -0.08278)."""
    import re

    import torch
    import torch.nn.functional as F

    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    p[1].backward()
    printed = re.findall(r"-?\d+\.\d+", str(a.grad))
    path = EXAMPLES_DIR / "softmax_jacobian.py"
    for attrs, shown in stepped(path.read_text(encoding="utf-8"), str(path)):
        if attrs["name"] == "SoftmaxBackward0":
            result = shown["inputs"][0]["result"]
            assert re.findall(r"-?\d+\.\d+", result["formula"]) == printed
            assert re.findall(r"-?\d+\.\d+", result["torch"]) == printed
            letters = {letter["letter"]: letter for letter in shown["inputs"][0]["letters"]}
            assert letters["p"]["value"] == "[0.2366, 0.3498, 0.4135]"  # print(p) shows these
            return
    raise AssertionError("no SoftmaxBackward0 step")


def _trace(session):
    from gradstep.autograd.serialize import graph_to_json

    return graph_to_json(session.state.trace)


def test_formulas_without_inspected_values_keep_plain_ones():
    """Before the kernel answers, the trace's plain values (dim, reduction) are known and
    tensors show their shape; a leaf says why it has no formula."""
    attrs = {"name": "SoftmaxBackward0", "kind": "op", "slots": 1,
             "saved": [{"name": "result", "shape": [3], "dtype": "float32", "freed": False},
                       {"name": "dim", "value": 0}]}
    (item,) = formulas_at(attrs)["inputs"]
    letters = {letter["letter"]: letter for letter in item["letters"]}
    assert letters["p"] == {"letter": "p", "means": "result", "value": None, "shape": [3],
                            "state": "unknown"}
    assert letters["dim"]["value"] == "0" and item["result"] is None
    leaf = formulas_at({"name": "AccumulateGrad", "kind": "leaf"})
    assert not leaf["available"] and ".grad" in leaf["reason"]


CUSTOM = '''
import torch

class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g

x = torch.tensor([2.0], requires_grad=True)
y = Cube.apply(x).sum()
'''


def test_custom_function_shows_its_backward_source():
    session = Session()
    session.run(CUSTOM)
    graph = graph_from_json(_trace(session))
    node = next(n for n, a in graph.nodes(data=True) if a["name"] == "CubeBackward")
    inspected = session.inspect(node)
    shown = formulas_at(graph.nodes[node], inspected=inspected)
    assert not shown["available"] and "custom torch.autograd.Function" in shown["reason"]
    assert shown["custom"]["function"] == "Cube"
    assert "return 3 * x ** 2 * g" in shown["custom"]["source"]


def test_whole_numbers_in_a_four_decimal_tensor_read_as_torch_prints_them():
    """torch decides its format per tensor: tensor([1.0000, 2.5000]) and
    tensor([0.0000, 0.2500]), not 1.0 and 0.0 beside four decimals."""
    from gradstep.autograd.formula_step import _text
    from gradstep.autograd.formula_values import _short

    for written in (_text, _short):
        assert written([1.0, 2.5]) == "[1.0000, 2.5000]"
        assert written([0.0, 0.25]) == "[0.0000, 0.2500]"
        assert written([-0.0, 0.5]) == "[-0.0000, 0.5000]"
        assert written([1.0, 2.0]) == "[1., 2.]"  # whole numbers alone: tensor([1., 2.])
        assert written([4.0, "NaN", -0.0, "-Infinity"]) == "[4., nan, -0., -inf]"
        assert written(2.0) == "2.0"  # a lone number: a scalar prints 2.0


def test_a_word_is_quoted_only_in_the_substituted_source():
    """One writing serves both (``value_text``): in torch's expression a saved string is
    Python source (reduce='mean'), beside a letter it is the word; each keeps its limit."""
    from gradstep.autograd.formula_step import _text
    from gradstep.autograd.formula_values import _short

    assert _short("mean") == "'mean'" and _text("mean") == "mean"
    assert _short(["none", 2.5]) == "['none', 2.5000]" and _text(["none", 2.5]) == "[none, 2.5000]"
    assert _short([1.0] * 6) == "[1., 1., 1., 1., 1., 1.]" and _short([1.0] * 7) is None
    assert _text([1] * 8) == "[1, 1, 1, 1, 1, 1, 1, 1]" and _text([1] * 9) is None


def test_ints_and_big_whole_numbers_read_as_torch_prints_them():
    """An int tensor's numbers are written whole (torch prints tensor([100000002]), not
    1e+08), and a float torch prints without an exponent (up to 1e8) keeps its digits."""
    from gradstep.autograd.formula_step import _text
    from gradstep.autograd.formula_values import _short

    for written in (_text, _short):
        assert written([100000002, 3]) == "[100000002, 3]"
        assert written(2147483647) == "2147483647"
        assert written(5e7) == "50000000.0"  # a scalar prints 50000000.0; not 5e+07
        assert written([5e7, 1e5]) == "[50000000., 100000.]"


def test_a_saved_tuple_reads_in_the_formula_as_torch_holds_it():
    """The Values panel's "also saved: kernel_size = (2, 2)": max_pool2d's saved sizes are
    tuples in torch (``fn._saved_kernel_size``), written as their repr, not the JSON's
    list [2, 2]; a one-element tuple keeps its comma (``(2,)``)."""
    import torch
    import torch.nn.functional as F

    from gradstep.autograd.saved import saved_items

    x = torch.rand(1, 1, 4, 4, requires_grad=True)
    fn = F.max_pool2d(x, 2).grad_fn
    shown = formulas_at({"name": fn.name(), "kind": "op", "slots": 1}, saved_items(fn))
    names = {n["saved"]: n["value"] for item in shown["inputs"] for n in item["names"]}
    for name in ("kernel_size", "stride", "padding", "dilation"):
        assert names[name] == repr(getattr(fn, "_saved_" + name)), (name, names)
    sizes = torch.ones(2, requires_grad=True).expand(3, 2).grad_fn
    shown = formulas_at({"name": sizes.name(), "kind": "op", "slots": 1}, saved_items(sizes))
    named = {n["saved"]: n["value"] for item in shown["inputs"] for n in item["names"]}
    assert named.get("self_sym_sizes") == repr(sizes._saved_self_sym_sizes) == "(2,)", named


def test_a_saved_tuple_of_floats_reads_in_the_formula_as_python_writes_it():
    """``_foreach_pow``'s exponents are the tuple ``(2.5, 3.0)`` in torch: the Values
    panel's name reads as its repr, not as a tensor's print (``[2.5000, 3.0000]``)."""
    import torch

    from gradstep.autograd.saved import saved_items

    a, b = torch.rand(2, requires_grad=True), torch.rand(3, requires_grad=True)
    fn = torch._foreach_pow([a, b], [2.5, 3.0])[0].grad_fn
    shown = formulas_at({"name": fn.name(), "kind": "op", "slots": 2}, saved_items(fn))
    names = {n["saved"]: n["value"] for item in shown["inputs"] for n in item["names"]}
    assert names["exponent"] == repr(fn._saved_exponent) == "(2.5, 3.0)", names
