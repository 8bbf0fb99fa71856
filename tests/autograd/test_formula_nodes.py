"""node_formula on real nodes: the names of torch's expression bound to the values the
trace reads from the node (gradstep.autograd.saved), the nodes without a formula, and
custom autograd.Functions, whose backward is shown as source and never run."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from gradstep.autograd.derivatives import load_table
from gradstep.autograd.formula_values import saved_lookup
from gradstep.autograd.formulas import (
    custom_function_source,
    input_slots,
    no_formula_reason,
    node_formula,
    trace_formula_fields,
)
from gradstep.autograd.saved import saved_items
from gradstep.autograd.session import Session
from tests.step_oracle import printed

pytest.importorskip("yaml")


def test_mul_names_carry_the_saved_numbers():
    a = torch.tensor([3.0], requires_grad=True)
    b = torch.tensor([2.0], requires_grad=True)
    fn = (a * b).grad_fn
    described = node_formula(fn.name(), saved_items(fn, values=True))
    json.dumps(described, allow_nan=False)
    self_input, other_input = described["inputs"]
    assert (self_input["input"], self_input["slot"], other_input["slot"]) == ("self", 0, 1)
    assert self_input["expression"] == "mul_tensor_backward(grad, other, self.scalar_type())"
    assert self_input["names"]["other"]["saved"] == "other"
    assert self_input["names"]["other"]["value"] == fn._saved_other.tolist()
    assert self_input["names"]["self.scalar_type()"] == {"saved": "self_scalar_type", "exposed": False}
    saved = printed(fn._saved_other)  # [2.]: as torch prints it
    assert self_input["substituted"] == f"mul_tensor_backward(grad, {saved}, self.scalar_type())"
    (readable,) = self_input["math"]
    assert readable["text"] == "∂(x·y)/∂x = y" and readable["symbols"]["y"]["value"] == b.tolist()
    assert readable["symbols"]["g"] == {"gradient": "grad"}


def test_derived_saved_values_and_freed_ones():
    """``self.sym_sizes()`` is the saved ``self_sym_sizes``; after backward a freed tensor says so."""
    x = torch.rand(2, 3, requires_grad=True)
    y = x.view(6)
    fn = y.grad_fn
    (item,) = node_formula(fn.name(), saved_items(fn, values=True))["inputs"]
    assert item["names"]["self.sym_sizes()"] == {"saved": "self_sym_sizes", "value": [2, 3],
                                                 "tuple": True}  # (2, 3) in torch
    assert item["substituted"] == "grad.reshape_symint([2, 3])"
    w = torch.rand(3, requires_grad=True)
    loss = (w * w).sum()
    mul = loss.grad_fn.next_functions[0][0]
    loss.backward()
    (first, _) = node_formula(mul.name(), saved_items(mul))["inputs"]
    assert first["names"]["other"] == {"saved": "other", "freed": True}


def test_mse_variant_follows_the_saved_reduction():
    x = torch.tensor([2.0], requires_grad=True)
    fn = F.mse_loss(x, torch.tensor([1.0]), reduction="sum").grad_fn
    fields = trace_formula_fields({"name": fn.name(), "saved": saved_items(fn)})
    assert fields["formula"]["self"] == "mse_loss_backward(grad, self, target, reduction)"
    assert fields["formula_math"]["inputs"]["self"]["text"] == "∂L/∂xᵢ = 2(xᵢ − yᵢ) · g"


def test_one_call_for_several_gradients():
    x = torch.rand(2, 3, requires_grad=True)
    fn = F.layer_norm(x, (3,)).grad_fn
    described = node_formula(fn.name(), saved_items(fn, values=True))
    assert [i["input"] for i in described["inputs"]] == ["input", "weight", "bias"]
    assert all(i["computed_with"] == ["input", "weight", "bias"] for i in described["inputs"])
    names = described["inputs"][0]["names"]
    assert names["result1"]["saved"] == "result1" and names["result2"]["value"] == fn._saved_result2.tolist()
    assert "weight" in names and "value" not in names["weight"]  # no weight given: saved as undefined


def test_not_implemented_gradients_say_so():
    entry = next(e for e in load_table().entries.values()
                 if any(not d.implemented for d in e.derivatives))
    described = node_formula(entry.node_name)
    assert any(i["implemented"] is False for i in described["inputs"])


@pytest.mark.parametrize("name", ["AccumulateGrad", "torch::autograd::AccumulateGrad", "CopySlices",
                                  "GraphRoot", "Error", "DelayedError", "NoSuchOpBackward0"])
def test_nodes_without_a_formula_say_why(name):
    described = node_formula(name)
    assert described["available"] is False and described["inputs"] == []
    assert described["reason"] == no_formula_reason(name) and len(described["reason"]) > 20


def test_copy_slices_from_an_in_place_op_on_a_view():
    x = torch.rand(3, requires_grad=True).clone()
    x[0].mul_(2)
    assert x.grad_fn.name() == "torch::autograd::CopySlices"
    assert "view" in trace_formula_fields({"name": "CopySlices"})["formula_note"]


class Cube(torch.autograd.Function):
    backward_calls = 0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        Cube.backward_calls += 1
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


def test_custom_function_shows_its_backward_source_without_running_it():
    y = Cube.apply(torch.rand(3, requires_grad=True))
    fn = y.grad_fn
    assert type(fn).__name__ == "CubeBackward" and isinstance(fn, torch.autograd.function.BackwardCFunction)
    assert "custom torch.autograd.Function" in no_formula_reason(fn.name())
    assert input_slots(fn.name()) is None
    found = custom_function_source(type(fn))
    assert found["function"] == "Cube" and found["source"].startswith("@staticmethod\ndef backward(ctx, grad):")
    assert "grad * 3 * x**2" in found["source"] and found["file"] == __file__
    assert Cube.backward_calls == 0
    assert custom_function_source(type((y * 2).grad_fn)) is None  # a generated node is not custom


SNIPPET_FUNCTION = """
class Twice(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2

y = Twice.apply(torch.ones(2, requires_grad=True))
"""


def test_custom_function_defined_in_a_snippet():
    session = Session()
    result = session.run(SNIPPET_FUNCTION)
    assert result["ok"], result["error"]
    root = result["trace"]["nodes"][0]
    assert root["name"] == "TwiceBackward"
    assert "custom" in trace_formula_fields(root)["formula_note"]
    found = custom_function_source(type(session.state.trace.node_of["n0"]))
    assert "return grad * 2" in found["source"] and found["file"] == "<snippet>"


def test_custom_function_without_readable_source():
    namespace = {"torch": torch}
    exec(compile(SNIPPET_FUNCTION, "<nowhere>", "exec"), namespace)  # no linecache entry
    found = custom_function_source(type(namespace["y"].grad_fn))
    assert found["source"] is None and "cannot be read" in found["reason"]


def test_saved_items_as_plain_data_of_every_kind():
    """Freed, hooked, unreadable (value None with a note), large (a summary), list items."""
    saved = [
        {"name": "self", "shape": [2], "dtype": "float32", "freed": False, "value": None,
         "note": "a tensor subclass"},
        {"name": "other", "freed": False, "hooked": True},
        {"name": "self_sym_sizes", "value": [2]},
    ]
    (first, second) = node_formula("MulBackward0", saved)["inputs"]
    assert second["names"]["self"] == {"saved": "self", "shape": [2], "note": "a tensor subclass"}
    assert first["names"]["other"] == {"saved": "other", "hooked": True}
    assert first["substituted"] is None and second["substituted"] is None
    big = {"shape": [100], "min": 0.0, "max": 1.0, "mean": 0.5}
    listed = [{"name": "tensors[0]", "shape": [1], "dtype": "float32", "freed": False,
               "value": {"shape": [1], "data": [1.5]}},
              {"name": "tensors[1]", "shape": [100], "dtype": "float32", "freed": False, "value": big}]
    (item,) = node_formula("StackBackward0", [*listed, {"name": "dim", "value": 0}], slot_count=2)["inputs"]
    assert item["slot"] == [0, 1] and item["names"]["dim"] == {"saved": "dim", "value": 0}
    assert saved_lookup(listed)["tensors"] == {"value": [[1.5], None]}  # the list gathered back
    view = node_formula("ViewBackward0", [{"name": "self", "shape": [100], "dtype": "float32",
                                           "freed": False, "value": big}])
    assert view["inputs"][0]["names"] == {"self.sym_sizes()": {"saved": "self_sym_sizes"}}
