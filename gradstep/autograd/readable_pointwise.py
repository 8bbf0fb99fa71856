"""Readable formulas of losses, softmax and elementwise ops (see ``formula_math``)."""

from __future__ import annotations

from gradstep.autograd.readable import MEAN, NONE, SUM, MathFormula, NodeMath, grad_of
from gradstep.i18n import N_


def _mse(input_name: str, sign: str, x: str) -> list[MathFormula]:
    """Return the three reduction variants of mse_loss's gradient for one input (``sign`` is
    "" for ``self``, "-" for ``target``; ``x`` the letter of that input in the text)."""
    minus = "−" if sign else ""
    variants = (
        (MEAN, "∂L/∂{x}ᵢ", "2(xᵢ − yᵢ)/n · g", r"\frac{{\partial L}}{{\partial {x}_i}}", r"\frac{2(x_i - y_i)}{n}\,g",
         "g * 2 * (x - y) / np.size(x)"),
        (SUM, "∂L/∂{x}ᵢ", "2(xᵢ − yᵢ) · g", r"\frac{{\partial L}}{{\partial {x}_i}}", r"2(x_i - y_i)\,g",
         "g * 2 * (x - y)"),
        (NONE, "∂Lᵢ/∂{x}ᵢ", "2(xᵢ − yᵢ) · gᵢ", r"\frac{{\partial L_i}}{{\partial {x}_i}}", r"2(x_i - y_i)\,g_i",
         "g * 2 * (x - y)"),
    )
    return [
        grad_of(input_name, f"{left.format(x=x)} = {minus}{right}", f"{latex_left.format(x=x)} = {sign}{latex_right}",
                sign + numpy, when={"reduction": reduction}, x="self", y="target")
        for reduction, left, right, latex_left, latex_right, numpy in variants
    ]


def _nll(reduction: int, text: str, latex: str, numpy: str) -> MathFormula:
    return grad_of("self", text, latex, numpy, when={"reduction": reduction}, x="self", t="target",
                   w="weight", W="total_weight", ignore_index="ignore_index")


POINTWISE_MATH: dict[str, NodeMath] = {
    "MseLossBackward0": NodeMath(
        N_("mse_loss(x, y) = mean((x − y)²) with reduction='mean' (sum for 'sum', no reduction for 'none')"),
        (*_mse("self", "", "x"), *_mse("target", "-", "y")),
        N_("n = number of elements of x"),
    ),
    "SoftmaxBackward0": NodeMath(
        N_("p = softmax(a) along dim: pᵢ = e^aᵢ / Σₖ e^aₖ"),
        (grad_of("self", N_("∂pᵢ/∂aⱼ = pᵢ(δᵢⱼ − pⱼ), so ∂L/∂aⱼ = pⱼ(gⱼ − Σᵢ gᵢpᵢ)"),
                 r"\frac{\partial p_i}{\partial a_j} = p_i(\delta_{ij} - p_j)",
                 "p * (g - np.sum(g * p, axis=dim, keepdims=True))",
                 jacobian="p[:, None] * (np.eye(np.size(p)) - p[None, :])", p="result", dim="dim"),),
        N_("δᵢⱼ = 1 when i = j, else 0; p is the node's saved output (result)"),
    ),
    "GeluBackward0": NodeMath(
        N_("gelu(x) = x·Φ(x), Φ the standard normal CDF"),
        (grad_of("self", "∂ gelu(x)/∂x = Φ(x) + x·φ(x)",
                 r"\frac{\partial\,\mathrm{gelu}(x)}{\partial x} = \Phi(x) + x\,\varphi(x)",
                 "g * (0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi))",
                 when={"approximate": "none"}, x="self"),
         grad_of("self", N_("∂/∂x of 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))"),
                 r"\frac{\partial}{\partial x}\,\tfrac12 x\big(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3))\big)",
                 when={"approximate": "tanh"})),
        N_("φ = the standard normal density"),
    ),
    "LogSoftmaxBackward0": NodeMath(
        N_("out = log_softmax(a) = a − log Σₖ e^aₖ along dim"),
        (grad_of("self", N_("∂outᵢ/∂aⱼ = δᵢⱼ − pⱼ with p = e^out = softmax(a), so ∂L/∂aⱼ = gⱼ − pⱼ Σᵢ gᵢ"),
                 r"\frac{\partial\,\mathrm{out}_i}{\partial a_j} = \delta_{ij} - p_j",
                 "g - np.exp(out) * np.sum(g, axis=dim, keepdims=True)",
                 jacobian="np.eye(np.size(out)) - np.exp(out)[None, :]", out="result", dim="dim"),),
        N_("cross_entropy(a, y) is nll_loss(log_softmax(a), y): this node, then NllLossBackward0"),
    ),
    "NllLossBackward0": NodeMath(
        N_("nll_loss(x, t) = −x[n, tₙ] per sample, weighted by w[tₙ], then averaged over the total weight W (mean) or summed"),
        (
            _nll(MEAN, N_("∂L/∂x[n, c] = −w_c/W · g where c = tₙ, 0 elsewhere"),
                 r"\frac{\partial L}{\partial x_{n,c}} = -\frac{w_c}{W}\,g\,[c = t_n]",
                 "-g * nll_pick(t, x, w, ignore_index) / W"),
            _nll(SUM, N_("∂L/∂x[n, c] = −w_c · g where c = tₙ, 0 elsewhere"),
                 r"\frac{\partial L}{\partial x_{n,c}} = -w_c\,g\,[c = t_n]",
                 "-g * nll_pick(t, x, w, ignore_index)"),
            _nll(NONE, N_("∂Lₙ/∂x[n, c] = −w_c · gₙ where c = tₙ, 0 elsewhere"),
                 r"\frac{\partial L_n}{\partial x_{n,c}} = -w_c\,g_n\,[c = t_n]",
                 "-np.expand_dims(g, 1) * nll_pick(t, x, w, ignore_index)"),
        ),
        N_("w_c = 1 without class weights; W = Σₙ w[tₙ] (= N); targets equal to ignore_index get 0. "
           "cross_entropy = log_softmax then nll_loss; together ∂L/∂a = (softmax(a) − onehot(t))/N"),
    ),
    "PowBackward0": NodeMath(
        N_("xⁿ with a number n"),
        (grad_of("self", "∂(xⁿ)/∂x = n·xⁿ⁻¹", r"\frac{\partial x^n}{\partial x} = n\,x^{n-1}",
                 "g * n * x ** (n - 1)", x="self", n="exponent"),),
    ),
    "PowBackward1": NodeMath(
        N_("aᵇ with tensors a and b"),
        (grad_of("self", "∂(aᵇ)/∂a = b·aᵇ⁻¹", r"\frac{\partial a^b}{\partial a} = b\,a^{b-1}",
                 "g * b * a ** (b - 1)", a="self", b="exponent"),
         grad_of("exponent", "∂(aᵇ)/∂b = aᵇ·ln a", r"\frac{\partial a^b}{\partial b} = a^b \ln a",
                 "g * out * np.log(a)", a="self", out="result")),
    ),
    "PowBackward2": NodeMath(
        N_("sˣ with a number s"),
        (grad_of("exponent", "∂(sˣ)/∂x = sˣ·ln s", r"\frac{\partial s^x}{\partial x} = s^x \ln s",
                 "g * out * np.log(s)", s="self", out="result"),),
    ),
    "MulBackward0": NodeMath(
        N_("x·y elementwise"),
        (grad_of("self", "∂(x·y)/∂x = y", r"\frac{\partial (xy)}{\partial x} = y", "g * y", y="other"),
         grad_of("other", "∂(x·y)/∂y = x", r"\frac{\partial (xy)}{\partial y} = x", "g * x", x="self")),
    ),
    "MulBackward1": NodeMath(
        N_("x·s with a number s"),
        (grad_of("self", "∂(x·s)/∂x = s", r"\frac{\partial (xs)}{\partial x} = s", "g * s", s="other"),),
    ),
    "AddBackward0": NodeMath(
        N_("x + α·y (α = alpha, usually 1)"),
        (grad_of("self", "∂(x + αy)/∂x = 1", r"\frac{\partial (x + \alpha y)}{\partial x} = 1", "g * 1"),
         grad_of("other", "∂(x + αy)/∂y = α", r"\frac{\partial (x + \alpha y)}{\partial y} = \alpha",
                 "g * alpha", alpha="alpha")),
    ),
    "AddBackward1": NodeMath(
        N_("x + s with a number s"),
        (grad_of("self", "∂(x + s)/∂x = 1", r"\frac{\partial (x + s)}{\partial x} = 1", "g * 1"),),
    ),
    "SubBackward0": NodeMath(
        N_("x − α·y (α = alpha, usually 1)"),
        (grad_of("self", "∂(x − αy)/∂x = 1", r"\frac{\partial (x - \alpha y)}{\partial x} = 1", "g * 1"),
         grad_of("other", "∂(x − αy)/∂y = −α", r"\frac{\partial (x - \alpha y)}{\partial y} = -\alpha",
                 "-g * alpha", alpha="alpha")),
    ),
    "SubBackward1": NodeMath(
        N_("x − s with a number s"),
        (grad_of("self", "∂(x − s)/∂x = 1", r"\frac{\partial (x - s)}{\partial x} = 1", "g * 1"),),
    ),
    "RsubBackward0": NodeMath(
        "y − α·x (torch.rsub)",
        (grad_of("self", "∂(y − αx)/∂x = −α", r"\frac{\partial (y - \alpha x)}{\partial x} = -\alpha",
                 "-g * alpha", alpha="alpha"),
         grad_of("other", "∂(y − αx)/∂y = 1", r"\frac{\partial (y - \alpha x)}{\partial y} = 1", "g * 1")),
    ),
    "RsubBackward1": NodeMath(
        N_("s − α·x with a number s (as in 1 - x)"),
        (grad_of("self", "∂(s − αx)/∂x = −α", r"\frac{\partial (s - \alpha x)}{\partial x} = -\alpha",
                 "-g * alpha", alpha="alpha"),),
    ),
    "DivBackward0": NodeMath(
        N_("x / y elementwise"),
        (grad_of("self", "∂(x/y)/∂x = 1/y", r"\frac{\partial (x/y)}{\partial x} = \frac{1}{y}", "g / y", y="other"),
         grad_of("other", "∂(x/y)/∂y = −x/y²", r"\frac{\partial (x/y)}{\partial y} = -\frac{x}{y^2}",
                 "-g * x / y ** 2", x="self", y="other")),
    ),
    "DivBackward1": NodeMath(
        N_("x / s with a number s"),
        (grad_of("self", "∂(x/s)/∂x = 1/s", r"\frac{\partial (x/s)}{\partial x} = \frac{1}{s}", "g / s", s="other"),),
    ),
    "NegBackward0": NodeMath(
        "−x", (grad_of("self", "∂(−x)/∂x = −1", r"\frac{\partial (-x)}{\partial x} = -1", "-g"),),
    ),
    "ExpBackward0": NodeMath(
        "eˣ",
        (grad_of("self", N_("∂eˣ/∂x = eˣ (the output itself)"), r"\frac{\partial e^x}{\partial x} = e^x",
                 "g * out", out="result"),),
    ),
    "LogBackward0": NodeMath(
        "ln x",
        (grad_of("self", "∂ ln x/∂x = 1/x", r"\frac{\partial \ln x}{\partial x} = \frac{1}{x}", "g / x", x="self"),),
    ),
    "ReluBackward0": NodeMath(
        "relu(x) = max(x, 0)",
        (grad_of("self", N_("∂ relu(x)/∂x = 1 where the output > 0, else 0"),
                 r"\frac{\partial\,\mathrm{relu}(x)}{\partial x} = [\mathrm{out} > 0]",
                 "g * (out > 0)", out="result"),),
    ),
    "SigmoidBackward0": NodeMath(
        "σ(x) = 1/(1 + e⁻ˣ)",
        (grad_of("self", "∂σ(x)/∂x = σ(x)(1 − σ(x)) = out·(1 − out)",
                 r"\frac{\partial \sigma(x)}{\partial x} = \sigma(x)(1 - \sigma(x))",
                 "g * out * (1 - out)", out="result"),),
    ),
    "TanhBackward0": NodeMath(
        "tanh x",
        (grad_of("self", "∂ tanh x/∂x = 1 − tanh²x = 1 − out²",
                 r"\frac{\partial \tanh x}{\partial x} = 1 - \tanh^2 x", "g * (1 - out ** 2)", out="result"),),
    ),
    "SqrtBackward0": NodeMath(
        "√x",
        (grad_of("self", "∂√x/∂x = 1/(2√x) = 1/(2·out)", r"\frac{\partial \sqrt{x}}{\partial x} = \frac{1}{2\sqrt{x}}",
                 "g / (2 * out)", out="result"),),
    ),
    "AbsBackward0": NodeMath(
        "|x|",
        (grad_of("self", "∂|x|/∂x = sign(x)", r"\frac{\partial |x|}{\partial x} = \mathrm{sign}(x)",
                 "g * np.sign(x)", x="self"),),
    ),
}
