"""The record types of the readable formulas (``formula_math``), and how to write one.

A ``MathFormula`` is the gradient one node class sends to one forward input, in
three forms: Unicode text, LaTeX, and a numpy expression (``g`` is the gradient
arriving at the node). ``symbols`` says where each letter's value comes from:
``"grad"`` or the name of a value the node saves (``self``, ``result``,
``self_sym_sizes``), so a UI can show the numbers and the tests can bind the
letters to what a real node saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# torch's Reduction enum, as saved in a loss node's ``reduction``
NONE, MEAN, SUM = 0, 1, 2


@dataclass(frozen=True)
class MathFormula:
    """The readable gradient of one input of one node class."""

    input: str  # forward argument name: "self", "other", "mat2"
    text: str  # Unicode math
    latex: str
    symbols: dict[str, str] = field(default_factory=dict)  # letter -> "grad" or a saved name
    numpy: str | None = None  # the gradient sent to ``input``, as a numpy expression
    jacobian: str | None = None  # d output[i] / d input[j] (1-D input), where it helps
    when: dict[str, object] = field(default_factory=dict)  # saved values this variant is for


@dataclass(frozen=True)
class NodeMath:
    """What a node computes, in words, and its readable formulas."""

    about: str
    formulas: tuple[MathFormula, ...]
    where: str = ""  # what the letters mean


def grad_of(input_name, text, latex, numpy=None, *, jacobian=None, when=None, **symbols) -> MathFormula:
    """Return the MathFormula of the gradient sent to ``input_name``; the letter ``g`` is always
    the arriving gradient, ``symbols`` bind other letters to saved names (``y="other"``)."""
    return MathFormula(input_name, text, latex, {"g": "grad", **symbols}, numpy, jacobian, when or {})

