"""Readable local gradients, beside torch's own formulas, for the ops the lessons use.

torch's derivatives.yaml says ``mse_loss_backward(grad, self, target, reduction)``;
a learner wants ``∂L/∂xᵢ = 2(xᵢ − yᵢ)/n · g``. Each formula here is keyed by the
backward node class and the forward argument it gives the gradient of, and comes
in three forms: Unicode text, LaTeX, and a numpy expression of the gradient the
node sends to that input (``g`` is the gradient arriving at the node). The
numpy form is what the tests evaluate on real numbers against torch, so the text
beside it cannot drift from what torch computes; a UI may evaluate it too
(``gradient_numpy.evaluate``). ``symbols`` says where each letter's value comes
from: ``"grad"`` (the arriving gradient) or the name of a value the node saves
(``self``, ``result``, ``self_sym_sizes``), so the numbers can be shown.
"""

from __future__ import annotations

from dataclasses import replace

from gradstep.autograd.readable import MathFormula, NodeMath, grad_of
from gradstep.autograd.readable_layers import LAYER_MATH
from gradstep.autograd.readable_pointwise import POINTWISE_MATH
from gradstep.autograd.readable_tensors import TENSOR_MATH
from gradstep.i18n import N_

__all__ = ["COMPOSITE_MATH", "NODE_MATH", "MathFormula", "NodeMath", "matching", "node_math"]

NODE_MATH: dict[str, NodeMath] = {**POINTWISE_MATH, **TENSOR_MATH, **LAYER_MATH}
# _safe_softmax (what attention uses) has softmax's formula; only fully masked rows differ (0, not NaN)
NODE_MATH["SafeSoftmaxBackward0"] = replace(
    NODE_MATH["SoftmaxBackward0"], about=N_("p = softmax(a) along dim, with rows of all −inf giving 0 instead of NaN"))


def node_math(node_name: str) -> NodeMath | None:
    """Return the readable formulas of a node class, or None where none is written."""
    return NODE_MATH.get(node_name)


def matching(math: NodeMath, input_name: str, saved_plain: dict) -> list[MathFormula]:
    """Return the formulas of ``input_name`` that fit the node's saved plain values.

    A variant with ``when={"reduction": 1}`` fits when the saved ``reduction`` is 1;
    when that value is unknown every variant is returned.
    """
    return [
        f for f in math.formulas
        if f.input == input_name
        and all(key not in saved_plain or saved_plain[key] == value for key, value in f.when.items())
    ]


COMPOSITE_MATH: dict[str, MathFormula] = {
    # Not a node: what the two nodes of F.cross_entropy give together (the lessons teach it)
    "cross_entropy": grad_of(
        "input", N_("∂L/∂a = (softmax(a) − onehot(t))/N · g  (reduction='mean', no class weights)"),
        r"\frac{\partial L}{\partial a} = \frac{\mathrm{softmax}(a) - \mathrm{onehot}(t)}{N}\,g",
        "g * (np.exp(a) / np.sum(np.exp(a), axis=-1, keepdims=True) - nll_pick(t, a, None, -100)) / np.size(t)",
        a="input", t="target",
    ),
}

