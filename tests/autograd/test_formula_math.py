"""The readable formulas against torch: each formula's numpy form, with its letters
bound to what the real node saved and a random arriving gradient g, must give the
gradient torch.autograd.grad gives for that input. So the Unicode text beside it is
checked by the numbers, not by what anyone believes the gradient to be."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gradstep.autograd.formula_math import COMPOSITE_MATH, NODE_MATH, MathFormula, matching
from gradstep.autograd.gradient_numpy import evaluate

pytest.importorskip("yaml")
aten = torch.ops.aten


def leaf(*shape, low=0.5, high=1.5, values=None):
    """A float64 leaf that requires grad: given ``values``, else uniform in [low, high)."""
    if values is not None:
        return torch.tensor(values, dtype=torch.float64, requires_grad=True)
    return (torch.rand(shape, dtype=torch.float64) * (high - low) + low).requires_grad_()


def signed(*shape):
    """Values away from 0 on both sides (relu, abs)."""
    x = torch.rand(shape, dtype=torch.float64) + 0.2
    return (x * torch.tensor([1.0, -1.0]).repeat(shape[-1])[: shape[-1]]).requires_grad_()


def tensor(spec):
    """A leaf from a spec: a shape tuple (random), a list (these values) or a maker (called)."""
    if callable(spec):
        return spec()
    return leaf(values=spec) if isinstance(spec, list) else leaf(*spec)


def case(fn, **inputs):
    """Return a builder: make each input (keyed by its forward argument name), call ``fn`` on
    them in that order, and return (output, {argument: leaf})."""
    def build():
        made = {name: tensor(spec) for name, spec in inputs.items()}
        return fn(*made.values()), made
    return build


def nll(**options):
    return case(lambda x: F.nll_loss(x, torch.tensor([1, 0, 3]), **options), self=(3, 4))


def signed_of(*shape):
    return lambda: signed(*shape)


# node class -> builders returning (output, {forward argument: leaf tensor})
CASES = {
    "MseLossBackward0": [
        case(F.mse_loss, self=[2.0], target=[1.0]),  # the lesson's numbers
        *[case(partial(F.mse_loss, reduction=r), self=(3,), target=(3,)) for r in ("mean", "sum", "none")],
    ],
    "SoftmaxBackward0": [case(partial(F.softmax, dim=0), self=(3,)), case(partial(F.softmax, dim=1), self=(2, 3))],
    "LogSoftmaxBackward0": [case(partial(F.log_softmax, dim=1), self=(2, 3))],
    "NllLossBackward0": [
        nll(), nll(reduction="sum"), nll(reduction="none"), nll(ignore_index=0),
        nll(weight=torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)),
    ],
    "MeanBackward0": [case(torch.mean, self=(2, 3))],
    "MeanBackward1": [case(partial(torch.mean, dim=1), self=(2, 3)),
                      case(partial(torch.mean, dim=0, keepdim=True), self=(2, 3))],
    "SumBackward0": [case(torch.sum, self=(2, 3))],
    "SumBackward1": [case(partial(torch.sum, dim=1), self=(2, 3)),
                     case(partial(torch.sum, dim=(0, 2), keepdim=True), self=(2, 3, 2))],
    "PowBackward0": [case(lambda x: x**2, self=(3,)), case(partial(torch.pow, exponent=3.5), self=(3,))],
    "PowBackward1": [case(torch.pow, self=(3,), exponent=(3,))],
    "PowBackward2": [case(lambda x: 2**x, exponent=(3,))],
    "MulBackward0": [case(torch.mul, self=(2, 3), other=(2, 3))],
    "MulBackward1": [case(lambda x: aten.mul.Scalar(x, 3.0), self=(3,))],
    "AddBackward0": [case(partial(torch.add, alpha=2), self=(3,), other=(3,))],
    "AddBackward1": [case(lambda x: aten.add.Scalar(x, 2.0), self=(3,))],
    "SubBackward0": [case(partial(torch.sub, alpha=3), self=(3,), other=(3,))],
    "SubBackward1": [case(lambda x: aten.sub.Scalar(x, 1.0), self=(3,))],
    "RsubBackward0": [case(partial(torch.rsub, alpha=2), self=(3,), other=(3,))],
    "RsubBackward1": [case(lambda x: 1 - x, self=(3,))],
    "DivBackward0": [case(torch.div, self=(3,), other=(3,))],
    "DivBackward1": [case(lambda x: aten.div.Scalar(x, 4.0), self=(3,))],
    "NegBackward0": [case(torch.neg, self=(3,))],
    "ExpBackward0": [case(torch.exp, self=(3,))],
    "LogBackward0": [case(torch.log, self=(3,))],
    "ReluBackward0": [case(F.relu, self=signed_of(4))],
    "SigmoidBackward0": [case(torch.sigmoid, self=signed_of(3))],
    "TanhBackward0": [case(torch.tanh, self=signed_of(3))],
    "SqrtBackward0": [case(torch.sqrt, self=(3,))],
    "AbsBackward0": [case(torch.abs, self=signed_of(4))],
    "GeluBackward0": [case(F.gelu, self=signed_of(4))],
    "MmBackward0": [case(torch.mm, self=(2, 3), mat2=(3, 4))],
    "AddmmBackward0": [case(partial(torch.addmm, beta=0.5, alpha=2), self=(2, 4), mat1=(2, 3), mat2=(3, 4))],
    "DotBackward0": [case(torch.dot, self=(3,), tensor=(3,))],
    "MvBackward0": [case(torch.mv, self=(2, 3), vec=(3,))],
    "BmmBackward0": [case(torch.bmm, self=(2, 2, 3), mat2=(2, 3, 4))],
    "ViewBackward0": [case(lambda x: x.view(6), self=(2, 3))],
    "ReshapeAliasBackward0": [case(lambda x: aten._reshape_alias(x, [3, 2], [2, 1]), self=(2, 3))],
    "UnsafeViewBackward0": [case(lambda x: aten._unsafe_view(x, [6]), self=(2, 3))],
    "ExpandBackward0": [case(lambda x: x.expand(2, 3, 4), self=(3, 1))],
    "TBackward0": [case(torch.t, self=(2, 3))],
    "TransposeBackward0": [case(lambda x: x.transpose(0, 2), self=(2, 3, 4))],
    "PermuteBackward0": [case(lambda x: x.permute(2, 0, 1), self=(2, 3, 4))],
    "SelectBackward0": [case(lambda p: p[1], self=(3,)), case(lambda x: x[:, 2], self=(2, 3))],
    "CloneBackward0": [case(torch.clone, self=(3,))],
    "SafeSoftmaxBackward0": [case(lambda a: aten._safe_softmax(a, 1), self=(2, 3))],
    "SqueezeBackward0": [case(torch.squeeze, self=(1, 3, 1))],
    "SqueezeBackward1": [case(lambda x: x.squeeze(0), self=(1, 3))],
    "SqueezeBackward2": [case(lambda x: x.squeeze((0, 2)), self=(1, 3, 1))],
    "UnsqueezeBackward0": [case(lambda x: x.unsqueeze(1), self=(2, 3))],
    "EmbeddingBackward0": [
        case(lambda w: F.embedding(torch.tensor([[1, 4, 1], [0, 2, 4]]), w, padding_idx=0), weight=(5, 3))],
    "NativeLayerNormBackward0": [
        case(lambda x, w, b: F.layer_norm(x, (4,), w, b), input=(2, 3, 4), weight=(4,), bias=(4,)),
        case(lambda x: F.layer_norm(x, (3, 4)), input=(2, 3, 4)),
    ],
    "NativeBatchNormBackward0": [
        case(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
             input=(4, 3, 2, 2), weight=(3,), bias=(3,)),
    ],
    "MaxPool2DWithIndicesBackward0": [case(partial(F.max_pool2d, kernel_size=2), self=(1, 2, 4, 4))],
    "ConvolutionBackward0": [
        case(partial(F.conv2d, padding=1), input=(2, 2, 4, 4), weight=(3, 2, 3, 3), bias=(3,))],
}


def plain(value):
    """A saved value as the plain data a trace carries: tensors as numpy, sizes as lists."""
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, tuple):
        return list(value)
    return value


def bind(fn, formula: MathFormula, grad: torch.Tensor) -> dict:
    """Bind each letter of ``formula`` to what node ``fn`` really saved (or the gradient g)."""
    values = {}
    for letter, source in formula.symbols.items():
        values[letter] = grad.numpy() if source == "grad" else plain(getattr(fn, f"_saved_{source}"))
    return values


def saved_plain(fn) -> dict:
    """The node's plain saved values (reduction, dim, ...), as a trace would give them."""
    names = [a.removeprefix("_saved_") for a in dir(type(fn)) if a.startswith("_saved_")]
    return {n: getattr(fn, f"_saved_{n}") for n in names
            if isinstance(getattr(fn, f"_saved_{n}"), (int, float, bool, str))}


def checked_formulas(node_name, build):
    """Check every readable formula that fits one case; return (input, when) of those checked."""
    out, inputs = build()
    fn = out.grad_fn
    assert fn.name() == node_name
    grad = torch.randn(out.shape, dtype=out.dtype)
    done = []
    for name, tensor in inputs.items():
        (expected,) = torch.autograd.grad(out, tensor, grad, retain_graph=True)
        fitting = matching(NODE_MATH[node_name], name, saved_plain(fn))
        assert fitting, f"{node_name} has no readable formula for {name}"
        for formula in (f for f in fitting if f.numpy):  # text-only ones have no numbers to check
            got = evaluate(formula.numpy, bind(fn, formula, grad))
            np.testing.assert_allclose(got, expected.numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=f"{node_name} {name}: {formula.text}")
            done.append((name, tuple(sorted(formula.when.items()))))
    return done


@pytest.mark.parametrize("node_name", sorted(CASES))
def test_readable_formula_gives_torchs_gradient(node_name):
    for build in CASES[node_name]:
        assert checked_formulas(node_name, build)


def test_every_numpy_form_is_checked_against_torch():
    """No readable formula with a numpy form goes untested (text-only ones say no numbers)."""
    checked = set()
    for node_name, builds in CASES.items():
        for build in builds:
            checked |= {(node_name, *done) for done in checked_formulas(node_name, build)}
    written = {(node, f.input, tuple(sorted(f.when.items())))
               for node, math in NODE_MATH.items() for f in math.formulas if f.numpy}
    assert written - checked == set()


def test_mse_lesson_numbers():
    """The lesson: x = [2.], y = [1.]: 2(x − y)/n = 2.0, which is what autograd.grad gives."""
    x, y = leaf(values=[2.0]), torch.tensor([1.0], dtype=torch.float64)
    loss = F.mse_loss(x, y)
    (formula,) = matching(NODE_MATH["MseLossBackward0"], "self", {"reduction": 1})
    got = evaluate(formula.numpy, {"g": 1.0, "x": [2.0], "y": [1.0]})
    (torch_grad,) = torch.autograd.grad(loss, x)
    assert got.tolist() == torch_grad.tolist()
    assert "2(xᵢ − yᵢ)/n" in formula.text


def test_softmax_jacobian_rows_are_p_i_delta_minus_p_j():
    """The lesson's a = [0.1440, 0.5349, 0.7022]: row i of p_i(δ_ij − p_j) is autograd.grad(p[i], a)."""
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    formula = NODE_MATH["SoftmaxBackward0"].formulas[0]
    assert "pᵢ(δᵢⱼ − pⱼ)" in formula.text
    jacobian = evaluate(formula.jacobian, {"p": p.detach().numpy().tolist()})
    for i in range(3):
        (row,) = torch.autograd.grad(p[i], a, retain_graph=True)
        np.testing.assert_allclose(jacobian[i], row.numpy(), atol=1e-6)


def test_log_softmax_jacobian():
    a = leaf(4)
    out = F.log_softmax(a, dim=0)
    formula = NODE_MATH["LogSoftmaxBackward0"].formulas[0]
    jacobian = evaluate(formula.jacobian, {"out": out.detach().numpy()})
    for i in range(4):
        (row,) = torch.autograd.grad(out[i], a, retain_graph=True)
        np.testing.assert_allclose(jacobian[i], row.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_cross_entropy_is_log_softmax_then_nll(shape):
    """The lesson's x = [0.1, 0.2, 0.3], target 1 (and a batch): (softmax(a) − onehot)/N."""
    a = leaf(values=[0.1, 0.2, 0.3]) if shape == (3,) else leaf(*shape)
    target = torch.tensor(1) if shape == (3,) else torch.tensor([1, 0])
    loss = F.cross_entropy(a, target)
    nodes = [loss.grad_fn.name(), loss.grad_fn.next_functions[0][0].name()]
    assert nodes == ["NllLossBackward0", "LogSoftmaxBackward0"]
    formula = COMPOSITE_MATH["cross_entropy"]
    got = evaluate(formula.numpy, {"g": 1.0, "a": a.detach().numpy(), "t": target.numpy()})
    (torch_grad,) = torch.autograd.grad(loss, a)
    np.testing.assert_allclose(got, torch_grad.numpy(), atol=1e-12)


def test_variants_follow_the_saved_values():
    """gelu's tanh approximation and mse's reductions pick their own formula from what the node saved."""
    fn = F.gelu(leaf(3), approximate="tanh").grad_fn
    (tanh_form,) = matching(NODE_MATH["GeluBackward0"], "self", saved_plain(fn))
    assert "tanh" in tanh_form.text and tanh_form.numpy is None
    fn = F.mse_loss(leaf(3), leaf(3), reduction="sum").grad_fn
    (sum_form,) = matching(NODE_MATH["MseLossBackward0"], "self", saved_plain(fn))
    assert sum_form.when == {"reduction": 2} and "/n" not in sum_form.text
    assert len(matching(NODE_MATH["MseLossBackward0"], "self", {})) == 3  # unknown: every variant


def test_every_formula_is_well_formed():
    """Each has text and LaTeX with balanced braces, and its letters bound to the gradient or
    a value the node class saves (so a UI can show their numbers)."""
    from gradstep.autograd.derivatives import load_table

    for node_name, math in NODE_MATH.items():
        entry = load_table().entry(node_name)
        saved = {s.name for s in entry.saved}
        inputs = {i.name for i in entry.inputs}
        for formula in math.formulas:
            assert formula.input in inputs, (node_name, formula.input)
            assert formula.text and formula.latex.count("{") == formula.latex.count("}"), formula.latex
            assert "{{" not in formula.latex, formula.latex
            for letter, source in formula.symbols.items():
                assert source == "grad" or source in saved, (node_name, letter, source)
