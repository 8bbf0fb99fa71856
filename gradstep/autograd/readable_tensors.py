"""Readable formulas of reductions, matrix products, shape ops and layers (see ``formula_math``)."""

from __future__ import annotations

from gradstep.autograd.readable import NodeMath, grad_of
from gradstep.i18n import N_

_RESHAPE = NodeMath(
    N_("rearranges the gradient: reshapes it back to x's shape, no arithmetic"),
    (grad_of("self", N_("∂L/∂x = reshape(g, shape of x)"), r"\frac{\partial L}{\partial x} = \mathrm{reshape}(g,\ \mathrm{shape}(x))",
             "np.reshape(g, x_shape)", x_shape="self_sym_sizes"),),
)

_UNSQUEEZE = NodeMath(
    N_("rearranges the gradient: x without its size-1 dims"),
    (grad_of("self", N_("∂L/∂x = g with the removed size-1 dims put back"),
             r"\frac{\partial L}{\partial x} = \mathrm{reshape}(g,\ \mathrm{shape}(x))",
             "np.reshape(g, x_shape)", x_shape="self_sym_sizes"),),
)

_REDUCE_ALONG = "np.broadcast_to(g if keepdim else np.expand_dims(g, tuple(dim)), x_shape)"

TENSOR_MATH: dict[str, NodeMath] = {
    "MeanBackward0": NodeMath(
        "mean(x) = Σᵢ xᵢ / n",
        (grad_of("self", N_("∂L/∂xᵢ = g/n for every element"), r"\frac{\partial L}{\partial x_i} = \frac{g}{n}",
                 "np.broadcast_to(g, x_shape) / n", x_shape="self_sym_sizes", n="self_sym_numel"),),
        N_("n = number of elements of x"),
    ),
    "MeanBackward1": NodeMath(
        N_("mean of x along dim"),
        (grad_of("self", N_("∂L/∂xᵢ = g/m, g repeated along the reduced dims"),
                 r"\frac{\partial L}{\partial x_i} = \frac{g}{m}",
                 f"{_REDUCE_ALONG} / (n / np.size(g))", x_shape="self_sym_sizes", n="self_sym_numel",
                 dim="dim", keepdim="keepdim"),),
        N_("m = number of elements averaged into each output"),
    ),
    "SumBackward0": NodeMath(
        "sum(x) = Σᵢ xᵢ",
        (grad_of("self", N_("∂L/∂xᵢ = g for every element"), r"\frac{\partial L}{\partial x_i} = g",
                 "np.broadcast_to(g, x_shape)", x_shape="self_sym_sizes"),),
    ),
    "SumBackward1": NodeMath(
        N_("sum of x along dim"),
        (grad_of("self", N_("∂L/∂xᵢ = g, repeated along the summed dims"), r"\frac{\partial L}{\partial x_i} = g",
                 _REDUCE_ALONG, x_shape="self_sym_sizes", dim="dim", keepdim="keepdim"),),
    ),
    "MmBackward0": NodeMath(
        N_("A·B (matrix product; matmul of two matrices)"),
        (grad_of("self", "∂L/∂A = G·Bᵀ", r"\frac{\partial L}{\partial A} = G B^\top", "g @ B.T", B="mat2"),
         grad_of("mat2", "∂L/∂B = Aᵀ·G", r"\frac{\partial L}{\partial B} = A^\top G", "A.T @ g", A="self")),
        N_("G = the arriving gradient g, a matrix shaped like A·B"),
    ),
    "AddmmBackward0": NodeMath(
        N_("β·M + α·A·B (what nn.Linear computes: bias + x·Wᵀ)"),
        (grad_of("self", N_("∂L/∂M = β·G (summed over rows when M was a broadcast bias)"),
                 r"\frac{\partial L}{\partial M} = \beta G", "beta * g", beta="beta"),
         grad_of("mat1", "∂L/∂A = α·G·Bᵀ", r"\frac{\partial L}{\partial A} = \alpha\,G B^\top",
                 "alpha * g @ B.T", alpha="alpha", B="mat2"),
         grad_of("mat2", "∂L/∂B = α·Aᵀ·G", r"\frac{\partial L}{\partial B} = \alpha\,A^\top G",
                 "alpha * A.T @ g", alpha="alpha", A="mat1")),
        N_("G = the arriving gradient g; α = alpha, β = beta (both 1 for nn.Linear)"),
    ),
    "DotBackward0": NodeMath(
        N_("x·y = Σᵢ xᵢyᵢ (matmul of two vectors)"),
        (grad_of("self", "∂(x·y)/∂x = y", r"\frac{\partial (x \cdot y)}{\partial x} = y", "g * y", y="tensor"),
         grad_of("tensor", "∂(x·y)/∂y = x", r"\frac{\partial (x \cdot y)}{\partial y} = x", "g * x", x="self")),
    ),
    "MvBackward0": NodeMath(
        N_("A·v (matrix times vector)"),
        (grad_of("self", N_("∂L/∂A = g·vᵀ (outer product)"), r"\frac{\partial L}{\partial A} = g\,v^\top",
                 "np.outer(g, v)", v="vec"),
         grad_of("vec", "∂L/∂v = Aᵀ·g", r"\frac{\partial L}{\partial v} = A^\top g", "A.T @ g", A="self")),
    ),
    "BmmBackward0": NodeMath(
        N_("A·B for each matrix of a batch"),
        (grad_of("self", "∂L/∂Aₖ = Gₖ·Bₖᵀ", r"\frac{\partial L}{\partial A_k} = G_k B_k^\top",
                 "g @ np.swapaxes(B, -1, -2)", B="mat2"),
         grad_of("mat2", "∂L/∂Bₖ = Aₖᵀ·Gₖ", r"\frac{\partial L}{\partial B_k} = A_k^\top G_k",
                 "np.swapaxes(A, -1, -2) @ g", A="self")),
    ),
    "ViewBackward0": _RESHAPE,
    "ReshapeAliasBackward0": _RESHAPE,
    "UnsafeViewBackward0": _RESHAPE,
    "ExpandBackward0": NodeMath(
        N_("rearranges the gradient: x repeated along new or size-1 dims"),
        (grad_of("self", N_("∂L/∂x = g summed over the dims expand repeated, back to x's shape"),
                 r"\frac{\partial L}{\partial x} = \sum_{\text{repeated dims}} g",
                 "sum_to(g, x_shape)", x_shape="self_sym_sizes"),),
    ),
    "TBackward0": NodeMath(
        N_("rearranges the gradient: xᵀ"),
        (grad_of("self", "∂L/∂x = gᵀ", r"\frac{\partial L}{\partial x} = g^\top", "np.transpose(g)"),),
    ),
    "TransposeBackward0": NodeMath(
        N_("rearranges the gradient: x with two dims swapped"),
        (grad_of("self", N_("∂L/∂x = g with dim0 and dim1 swapped back"), r"\frac{\partial L}{\partial x} = g^\top",
                 "np.swapaxes(g, dim0, dim1)", dim0="dim0", dim1="dim1"),),
    ),
    "PermuteBackward0": NodeMath(
        N_("rearranges the gradient: x with its dims reordered"),
        (grad_of("self", N_("∂L/∂x = g with the dims put back in their first order"),
                 r"\frac{\partial L}{\partial x} = \mathrm{permute}^{-1}(g)",
                 "np.transpose(g, np.argsort(dims))", dims="dims"),),
    ),
    "SelectBackward0": NodeMath(
        N_("x[index] along dim (as in p[1])"),
        (grad_of("self", N_("∂L/∂x = g at position index along dim, 0 elsewhere"),
                 r"\frac{\partial L}{\partial x_k} = g\,[k = \mathrm{index}]",
                 "select_backward(g, x_shape, dim, index)", x_shape="self_sym_sizes", dim="dim", index="index"),),
    ),
    "SqueezeBackward0": _UNSQUEEZE,
    "SqueezeBackward1": _UNSQUEEZE,
    "SqueezeBackward2": _UNSQUEEZE,
    "UnsqueezeBackward0": NodeMath(
        N_("rearranges the gradient: x with a new size-1 dim"),
        (grad_of("self", N_("∂L/∂x = g with that size-1 dim removed"), r"\frac{\partial L}{\partial x} = \mathrm{squeeze}(g)",
                 "np.squeeze(g, axis=dim)", dim="dim"),),
    ),
    "CatBackward0": NodeMath(
        N_("concatenation along dim"),
        (grad_of("tensors", N_("each input gets its own slice of g along dim"),
                 r"\frac{\partial L}{\partial x_k} = g[\text{slice of } x_k]"),),
    ),
    "StackBackward0": NodeMath(
        N_("stacking along a new dim"),
        (grad_of("tensors", N_("input k gets g[k] along the new dim"),
                 r"\frac{\partial L}{\partial x_k} = g_{[k]}"),),
    ),
    "CloneBackward0": NodeMath(
        N_("a copy of x"), (grad_of("self", "∂L/∂x = g", r"\frac{\partial L}{\partial x} = g", "g * 1"),),
    ),
}
