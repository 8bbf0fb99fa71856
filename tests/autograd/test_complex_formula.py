"""A complex node's local gradient writes in no numbers and evaluates nothing: the JSON's
``[real, imag]`` pairs read as real numbers gave a product torch never computed."""

from __future__ import annotations

from gradstep.autograd.formula_step import formulas_at


def _mul(dtype: str, other, other_dtype: str) -> dict:
    attrs = {"name": "MulBackward0", "kind": "op", "slots": 2, "dtype": dtype,
             "saved": [{"name": "other", "shape": [], "dtype": other_dtype, "value": {"shape": [], "dtype": other_dtype, "data": other}},
                       {"name": "self", "freed": False}]}
    step = {"grad_outputs": [[[0.0, 1.0], [0.98995, 0.14142]]],
            "grad_inputs": [[[1.0, 2.0], [2.12132, -0.70711]], None]}
    return formulas_at(attrs, step=step, targets={0: "z"}, dtypes={0: "complex64"})


def test_a_complex_node_shows_no_numbers_and_no_evaluation():
    shown = _mul("complex64", [2.0, 1.0], "complex64")
    assert shown["available"]
    first = shown["inputs"][0]
    assert first["result"] is None
    assert all(letter.get("value") is None for letter in first["letters"])
    assert "[2.0, 1.0]" not in str(first["substituted"])


def test_a_real_node_still_evaluates():
    attrs = {"name": "MulBackward0", "kind": "op", "slots": 2, "dtype": "float32",
             "saved": [{"name": "other", "shape": [2], "dtype": "float32",
                        "value": {"shape": [2], "dtype": "float32", "data": [2.0, 1.0]}},
                       {"name": "self", "freed": False}]}
    step = {"grad_outputs": [[1.0, 1.0]], "grad_inputs": [[2.0, 1.0], None]}
    shown = formulas_at(attrs, step=step, targets={0: "x"}, dtypes={0: "float32"})
    assert shown["inputs"][0]["result"]["agrees"]
