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


def _f(input_name, text, latex, numpy=None, *, jacobian=None, when=None, **symbols) -> MathFormula:
    """Return a MathFormula; ``g`` always stands for the arriving gradient."""
    return MathFormula(input_name, text, latex, {"g": "grad", **symbols}, numpy, jacobian, when or {})


def _mse(input_name: str, sign: str, x: str, y: str) -> list[MathFormula]:
    """Return the three reduction variants of mse_loss's gradient for one input."""
    minus = "−" if sign == "-" else ""
    numpy_sign = "-" if sign == "-" else ""
    return [
        _f(input_name, f"∂L/∂{x}ᵢ = {minus}2(xᵢ − yᵢ)/n · g",
           rf"\frac{{\partial L}}{{\partial {x}_i}} = {sign if sign == '-' else ''}\frac{{2(x_i - y_i)}}{{n}}\,g",
           f"{numpy_sign}g * 2 * (x - y) / np.size(x)", when={"reduction": MEAN}, x="self", y="target"),
        _f(input_name, f"∂L/∂{x}ᵢ = {minus}2(xᵢ − yᵢ) · g",
           rf"\frac{{\partial L}}{{\partial {x}_i}} = {sign if sign == '-' else ''}2(x_i - y_i)\,g",
           f"{numpy_sign}g * 2 * (x - y)", when={"reduction": SUM}, x="self", y="target"),
        _f(input_name, f"∂Lᵢ/∂{x}ᵢ = {minus}2(xᵢ − yᵢ) · gᵢ",
           rf"\frac{{\partial L_i}}{{\partial {x}_i}} = {sign if sign == '-' else ''}2(x_i - y_i)\,g_i",
           f"{numpy_sign}g * 2 * (x - y)", when={"reduction": NONE}, x="self", y="target"),
    ]


def _nll(reduction: int, text: str, latex: str, numpy: str) -> MathFormula:
    return _f("self", text, latex, numpy, when={"reduction": reduction}, x="self", t="target",
              w="weight", W="total_weight", ignore_index="ignore_index")


_RESHAPE = NodeMath(
    "rearranges the gradient: reshapes it back to x's shape, no arithmetic",
    (_f("self", "∂L/∂x = reshape(g, shape of x)", r"\frac{\partial L}{\partial x} = \mathrm{reshape}(g,\ \mathrm{shape}(x))",
        "np.reshape(g, x_shape)", x_shape="self_sym_sizes"),),
)

_REDUCE_ALONG = "np.broadcast_to(g if keepdim else np.expand_dims(g, tuple(dim)), x_shape)"

NODE_MATH: dict[str, NodeMath] = {
    "MseLossBackward0": NodeMath(
        "mse_loss(x, y) = mean((x − y)²) with reduction='mean' (sum for 'sum', no reduction for 'none')",
        (*_mse("self", "+", "x", "y"), *_mse("target", "-", "y", "x")),
        "n = number of elements of x",
    ),
    "SoftmaxBackward0": NodeMath(
        "p = softmax(a) along dim: pᵢ = e^aᵢ / Σₖ e^aₖ",
        (_f("self", "∂pᵢ/∂aⱼ = pᵢ(δᵢⱼ − pⱼ), so ∂L/∂aⱼ = pⱼ(gⱼ − Σᵢ gᵢpᵢ)",
            r"\frac{\partial p_i}{\partial a_j} = p_i(\delta_{ij} - p_j)",
            "p * (g - np.sum(g * p, axis=dim, keepdims=True))",
            jacobian="p[:, None] * (np.eye(np.size(p)) - p[None, :])", p="result", dim="dim"),),
        "δᵢⱼ = 1 when i = j, else 0; p is the node's saved output (result)",
    ),
    "LogSoftmaxBackward0": NodeMath(
        "out = log_softmax(a) = a − log Σₖ e^aₖ along dim",
        (_f("self", "∂outᵢ/∂aⱼ = δᵢⱼ − pⱼ with p = e^out = softmax(a), so ∂L/∂aⱼ = gⱼ − pⱼ Σᵢ gᵢ",
            r"\frac{\partial\,\mathrm{out}_i}{\partial a_j} = \delta_{ij} - p_j",
            "g - np.exp(out) * np.sum(g, axis=dim, keepdims=True)",
            jacobian="np.eye(np.size(out)) - np.exp(out)[None, :]", out="result", dim="dim"),),
        "cross_entropy(a, y) is nll_loss(log_softmax(a), y): this node, then NllLossBackward0",
    ),
    "NllLossBackward0": NodeMath(
        "nll_loss(x, t) = −x[n, tₙ] per sample, weighted by w[tₙ], then averaged over the total weight W (mean) or summed",
        (
            _nll(MEAN, "∂L/∂x[n, c] = −w_c/W · g where c = tₙ, 0 elsewhere",
                 r"\frac{\partial L}{\partial x_{n,c}} = -\frac{w_c}{W}\,g\,[c = t_n]",
                 "-g * nll_pick(t, x, w, ignore_index) / W"),
            _nll(SUM, "∂L/∂x[n, c] = −w_c · g where c = tₙ, 0 elsewhere",
                 r"\frac{\partial L}{\partial x_{n,c}} = -w_c\,g\,[c = t_n]",
                 "-g * nll_pick(t, x, w, ignore_index)"),
            _nll(NONE, "∂Lₙ/∂x[n, c] = −w_c · gₙ where c = tₙ, 0 elsewhere",
                 r"\frac{\partial L_n}{\partial x_{n,c}} = -w_c\,g_n\,[c = t_n]",
                 "-np.expand_dims(g, 1) * nll_pick(t, x, w, ignore_index)"),
        ),
        "w_c = 1 without class weights; W = Σₙ w[tₙ] (= N); targets equal to ignore_index get 0. "
        "cross_entropy = log_softmax then nll_loss; together ∂L/∂a = (softmax(a) − onehot(t))/N",
    ),
    "MeanBackward0": NodeMath(
        "mean(x) = Σᵢ xᵢ / n",
        (_f("self", "∂L/∂xᵢ = g/n for every element", r"\frac{\partial L}{\partial x_i} = \frac{g}{n}",
            "np.broadcast_to(g, x_shape) / n", x_shape="self_sym_sizes", n="self_sym_numel"),),
        "n = number of elements of x",
    ),
    "MeanBackward1": NodeMath(
        "mean of x along dim",
        (_f("self", "∂L/∂xᵢ = g/m, g repeated along the reduced dims",
            r"\frac{\partial L}{\partial x_i} = \frac{g}{m}",
            f"{_REDUCE_ALONG} / (n / np.size(g))", x_shape="self_sym_sizes", n="self_sym_numel",
            dim="dim", keepdim="keepdim"),),
        "m = number of elements averaged into each output",
    ),
    "SumBackward0": NodeMath(
        "sum(x) = Σᵢ xᵢ",
        (_f("self", "∂L/∂xᵢ = g for every element", r"\frac{\partial L}{\partial x_i} = g",
            "np.broadcast_to(g, x_shape)", x_shape="self_sym_sizes"),),
    ),
    "SumBackward1": NodeMath(
        "sum of x along dim",
        (_f("self", "∂L/∂xᵢ = g, repeated along the summed dims", r"\frac{\partial L}{\partial x_i} = g",
            _REDUCE_ALONG, x_shape="self_sym_sizes", dim="dim", keepdim="keepdim"),),
    ),
    "PowBackward0": NodeMath(
        "xⁿ with a number n",
        (_f("self", "∂(xⁿ)/∂x = n·xⁿ⁻¹", r"\frac{\partial x^n}{\partial x} = n\,x^{n-1}",
            "g * n * x ** (n - 1)", x="self", n="exponent"),),
    ),
    "PowBackward1": NodeMath(
        "aᵇ with tensors a and b",
        (_f("self", "∂(aᵇ)/∂a = b·aᵇ⁻¹", r"\frac{\partial a^b}{\partial a} = b\,a^{b-1}",
            "g * b * a ** (b - 1)", a="self", b="exponent"),
         _f("exponent", "∂(aᵇ)/∂b = aᵇ·ln a", r"\frac{\partial a^b}{\partial b} = a^b \ln a",
            "g * out * np.log(a)", a="self", out="result")),
    ),
    "PowBackward2": NodeMath(
        "sˣ with a number s",
        (_f("exponent", "∂(sˣ)/∂x = sˣ·ln s", r"\frac{\partial s^x}{\partial x} = s^x \ln s",
            "g * out * np.log(s)", s="self", out="result"),),
    ),
    "MulBackward0": NodeMath(
        "x·y elementwise",
        (_f("self", "∂(x·y)/∂x = y", r"\frac{\partial (xy)}{\partial x} = y", "g * y", y="other"),
         _f("other", "∂(x·y)/∂y = x", r"\frac{\partial (xy)}{\partial y} = x", "g * x", x="self")),
    ),
    "MulBackward1": NodeMath(
        "x·s with a number s",
        (_f("self", "∂(x·s)/∂x = s", r"\frac{\partial (xs)}{\partial x} = s", "g * s", s="other"),),
    ),
    "AddBackward0": NodeMath(
        "x + α·y (α = alpha, usually 1)",
        (_f("self", "∂(x + αy)/∂x = 1", r"\frac{\partial (x + \alpha y)}{\partial x} = 1", "g * 1"),
         _f("other", "∂(x + αy)/∂y = α", r"\frac{\partial (x + \alpha y)}{\partial y} = \alpha",
            "g * alpha", alpha="alpha")),
    ),
    "AddBackward1": NodeMath(
        "x + s with a number s",
        (_f("self", "∂(x + s)/∂x = 1", r"\frac{\partial (x + s)}{\partial x} = 1", "g * 1"),),
    ),
    "SubBackward0": NodeMath(
        "x − α·y (α = alpha, usually 1)",
        (_f("self", "∂(x − αy)/∂x = 1", r"\frac{\partial (x - \alpha y)}{\partial x} = 1", "g * 1"),
         _f("other", "∂(x − αy)/∂y = −α", r"\frac{\partial (x - \alpha y)}{\partial y} = -\alpha",
            "-g * alpha", alpha="alpha")),
    ),
    "SubBackward1": NodeMath(
        "x − s with a number s",
        (_f("self", "∂(x − s)/∂x = 1", r"\frac{\partial (x - s)}{\partial x} = 1", "g * 1"),),
    ),
    "RsubBackward0": NodeMath(
        "y − α·x (torch.rsub)",
        (_f("self", "∂(y − αx)/∂x = −α", r"\frac{\partial (y - \alpha x)}{\partial x} = -\alpha",
            "-g * alpha", alpha="alpha"),
         _f("other", "∂(y − αx)/∂y = 1", r"\frac{\partial (y - \alpha x)}{\partial y} = 1", "g * 1")),
    ),
    "RsubBackward1": NodeMath(
        "s − α·x with a number s (as in 1 - x)",
        (_f("self", "∂(s − αx)/∂x = −α", r"\frac{\partial (s - \alpha x)}{\partial x} = -\alpha",
            "-g * alpha", alpha="alpha"),),
    ),
    "DivBackward0": NodeMath(
        "x / y elementwise",
        (_f("self", "∂(x/y)/∂x = 1/y", r"\frac{\partial (x/y)}{\partial x} = \frac{1}{y}", "g / y", y="other"),
         _f("other", "∂(x/y)/∂y = −x/y²", r"\frac{\partial (x/y)}{\partial y} = -\frac{x}{y^2}",
            "-g * x / y ** 2", x="self", y="other")),
    ),
    "DivBackward1": NodeMath(
        "x / s with a number s",
        (_f("self", "∂(x/s)/∂x = 1/s", r"\frac{\partial (x/s)}{\partial x} = \frac{1}{s}", "g / s", s="other"),),
    ),
    "NegBackward0": NodeMath(
        "−x", (_f("self", "∂(−x)/∂x = −1", r"\frac{\partial (-x)}{\partial x} = -1", "-g"),),
    ),
    "ExpBackward0": NodeMath(
        "eˣ",
        (_f("self", "∂eˣ/∂x = eˣ (the output itself)", r"\frac{\partial e^x}{\partial x} = e^x",
            "g * out", out="result"),),
    ),
    "LogBackward0": NodeMath(
        "ln x",
        (_f("self", "∂ ln x/∂x = 1/x", r"\frac{\partial \ln x}{\partial x} = \frac{1}{x}", "g / x", x="self"),),
    ),
    "ReluBackward0": NodeMath(
        "relu(x) = max(x, 0)",
        (_f("self", "∂ relu(x)/∂x = 1 where the output > 0, else 0",
            r"\frac{\partial\,\mathrm{relu}(x)}{\partial x} = [\mathrm{out} > 0]",
            "g * (out > 0)", out="result"),),
    ),
    "SigmoidBackward0": NodeMath(
        "σ(x) = 1/(1 + e⁻ˣ)",
        (_f("self", "∂σ(x)/∂x = σ(x)(1 − σ(x)) = out·(1 − out)",
            r"\frac{\partial \sigma(x)}{\partial x} = \sigma(x)(1 - \sigma(x))",
            "g * out * (1 - out)", out="result"),),
    ),
    "TanhBackward0": NodeMath(
        "tanh x",
        (_f("self", "∂ tanh x/∂x = 1 − tanh²x = 1 − out²",
            r"\frac{\partial \tanh x}{\partial x} = 1 - \tanh^2 x", "g * (1 - out ** 2)", out="result"),),
    ),
    "SqrtBackward0": NodeMath(
        "√x",
        (_f("self", "∂√x/∂x = 1/(2√x) = 1/(2·out)", r"\frac{\partial \sqrt{x}}{\partial x} = \frac{1}{2\sqrt{x}}",
            "g / (2 * out)", out="result"),),
    ),
    "AbsBackward0": NodeMath(
        "|x|",
        (_f("self", "∂|x|/∂x = sign(x)", r"\frac{\partial |x|}{\partial x} = \mathrm{sign}(x)",
            "g * np.sign(x)", x="self"),),
    ),
    "MmBackward0": NodeMath(
        "A·B (matrix product; matmul of two matrices)",
        (_f("self", "∂L/∂A = G·Bᵀ", r"\frac{\partial L}{\partial A} = G B^\top", "g @ B.T", B="mat2"),
         _f("mat2", "∂L/∂B = Aᵀ·G", r"\frac{\partial L}{\partial B} = A^\top G", "A.T @ g", A="self")),
        "G = the arriving gradient g, a matrix shaped like A·B",
    ),
    "AddmmBackward0": NodeMath(
        "β·M + α·A·B (what nn.Linear computes: bias + x·Wᵀ)",
        (_f("self", "∂L/∂M = β·G (summed over rows when M was a broadcast bias)",
            r"\frac{\partial L}{\partial M} = \beta G", "beta * g", beta="beta"),
         _f("mat1", "∂L/∂A = α·G·Bᵀ", r"\frac{\partial L}{\partial A} = \alpha\,G B^\top",
            "alpha * g @ B.T", alpha="alpha", B="mat2"),
         _f("mat2", "∂L/∂B = α·Aᵀ·G", r"\frac{\partial L}{\partial B} = \alpha\,A^\top G",
            "alpha * A.T @ g", alpha="alpha", A="mat1")),
        "G = the arriving gradient g; α = alpha, β = beta (both 1 for nn.Linear)",
    ),
    "DotBackward0": NodeMath(
        "x·y = Σᵢ xᵢyᵢ (matmul of two vectors)",
        (_f("self", "∂(x·y)/∂x = y", r"\frac{\partial (x \cdot y)}{\partial x} = y", "g * y", y="tensor"),
         _f("tensor", "∂(x·y)/∂y = x", r"\frac{\partial (x \cdot y)}{\partial y} = x", "g * x", x="self")),
    ),
    "MvBackward0": NodeMath(
        "A·v (matrix times vector)",
        (_f("self", "∂L/∂A = g·vᵀ (outer product)", r"\frac{\partial L}{\partial A} = g\,v^\top",
            "np.outer(g, v)", v="vec"),
         _f("vec", "∂L/∂v = Aᵀ·g", r"\frac{\partial L}{\partial v} = A^\top g", "A.T @ g", A="self")),
    ),
    "BmmBackward0": NodeMath(
        "A·B for each matrix of a batch",
        (_f("self", "∂L/∂Aₖ = Gₖ·Bₖᵀ", r"\frac{\partial L}{\partial A_k} = G_k B_k^\top",
            "g @ np.swapaxes(B, -1, -2)", B="mat2"),
         _f("mat2", "∂L/∂Bₖ = Aₖᵀ·Gₖ", r"\frac{\partial L}{\partial B_k} = A_k^\top G_k",
            "np.swapaxes(A, -1, -2) @ g", A="self")),
    ),
    "ViewBackward0": _RESHAPE,
    "ReshapeAliasBackward0": _RESHAPE,
    "UnsafeViewBackward0": _RESHAPE,
    "ExpandBackward0": NodeMath(
        "rearranges the gradient: x repeated along new or size-1 dims",
        (_f("self", "∂L/∂x = g summed over the dims expand repeated, back to x's shape",
            r"\frac{\partial L}{\partial x} = \sum_{\text{repeated dims}} g",
            "sum_to(g, x_shape)", x_shape="self_sym_sizes"),),
    ),
    "TBackward0": NodeMath(
        "rearranges the gradient: xᵀ",
        (_f("self", "∂L/∂x = gᵀ", r"\frac{\partial L}{\partial x} = g^\top", "np.transpose(g)"),),
    ),
    "TransposeBackward0": NodeMath(
        "rearranges the gradient: x with two dims swapped",
        (_f("self", "∂L/∂x = g with dim0 and dim1 swapped back", r"\frac{\partial L}{\partial x} = g^\top",
            "np.swapaxes(g, dim0, dim1)", dim0="dim0", dim1="dim1"),),
    ),
    "PermuteBackward0": NodeMath(
        "rearranges the gradient: x with its dims reordered",
        (_f("self", "∂L/∂x = g with the dims put back in their first order",
            r"\frac{\partial L}{\partial x} = \mathrm{permute}^{-1}(g)",
            "np.transpose(g, np.argsort(dims))", dims="dims"),),
    ),
    "SelectBackward0": NodeMath(
        "x[index] along dim (as in p[1])",
        (_f("self", "∂L/∂x = g at position index along dim, 0 elsewhere",
            r"\frac{\partial L}{\partial x_k} = g\,[k = \mathrm{index}]",
            "select_backward(g, x_shape, dim, index)", x_shape="self_sym_sizes", dim="dim", index="index"),),
    ),
    "CloneBackward0": NodeMath(
        "a copy of x", (_f("self", "∂L/∂x = g", r"\frac{\partial L}{\partial x} = g", "g * 1"),),
    ),
    "ConvolutionBackward0": NodeMath(
        "convolution (nn.Conv2d): out = W ⋆ x + b",
        (_f("input", "∂L/∂x = transposed convolution of G with W", r"\frac{\partial L}{\partial x} = G \star^\top W"),
         _f("weight", "∂L/∂W = correlation of x with G, summed over the batch",
            r"\frac{\partial L}{\partial W} = \sum_n x_n \star G_n"),
         _f("bias", "∂L/∂b = G summed over the batch and all positions",
            r"\frac{\partial L}{\partial b_c} = \sum_{n,h,w} G_{n,c,h,w}")),
        "G = the arriving gradient g",
    ),
    "MaxPool2DWithIndicesBackward0": NodeMath(
        "max over each pooling window (nn.MaxPool2d)",
        (_f("self", "∂L/∂x = g of each window at the position of its maximum (the saved indices), 0 elsewhere",
            r"\frac{\partial L}{\partial x_k} = \sum_{\text{windows } w:\ \arg\max w = k} g_w"),),
    ),
}


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
    "cross_entropy": _f(
        "input", "∂L/∂a = (softmax(a) − onehot(t))/N · g  (reduction='mean', no class weights)",
        r"\frac{\partial L}{\partial a} = \frac{\mathrm{softmax}(a) - \mathrm{onehot}(t)}{N}\,g",
        "g * (np.exp(a) / np.sum(np.exp(a), axis=-1, keepdims=True) - nll_pick(t, a, None, -100)) / np.size(t)",
        a="input", t="target",
    ),
}
