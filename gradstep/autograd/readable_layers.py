"""Readable formulas of nn layers: convolution, pooling, normalisation, embedding, RNN
(see ``formula_math``). Where a layer's full formula is long, the text says it in words
and the numpy form uses a helper from ``gradient_numpy`` that spells it out."""

from __future__ import annotations

from gradstep.autograd.formula_words import RNN_INPUT
from gradstep.autograd.readable import NodeMath, grad_of
from gradstep.i18n import N_

_BATCH = "tuple(range(np.ndim(g) - len(shape)))"  # the dims layer_norm does not normalise over
_NOT_CHANNEL = "(0, *range(2, np.ndim(g)))"  # batch and positions: every dim but the channel

LAYER_MATH: dict[str, NodeMath] = {
    "ConvolutionBackward0": NodeMath(
        N_("convolution (nn.Conv2d): out = W ⋆ x + b"),
        (grad_of("input", N_("∂L/∂x = transposed convolution of G with W"),
                 r"\frac{\partial L}{\partial x} = G \star^\top W"),
         grad_of("weight", N_("∂L/∂W = correlation of x with G, summed over the batch"),
                 r"\frac{\partial L}{\partial W} = \sum_n x_n \star G_n"),
         grad_of("bias", N_("∂L/∂b = G summed over the batch and all positions"),
                 r"\frac{\partial L}{\partial b_c} = \sum_{n,h,w} G_{n,c,h,w}", f"np.sum(g, axis={_NOT_CHANNEL})")),
        N_("G = the arriving gradient g"),
    ),
    "MaxPool2DWithIndicesBackward0": NodeMath(
        N_("max over each pooling window (nn.MaxPool2d)"),
        (grad_of("self", N_("∂L/∂x = g of each window at the position of its maximum (the saved indices), 0 elsewhere"),
                 r"\frac{\partial L}{\partial x_k} = \sum_{\text{windows } w:\ \arg\max w = k} g_w",
                 "max_pool_backward(g, indices, np.shape(x))", indices="result1", x="self"),),
    ),
    "NativeLayerNormBackward0": NodeMath(
        N_("layer_norm: x̂ = (x − μ)·rstd over the last dims (normalized_shape), out = γ·x̂ + β"),
        (grad_of("input", N_("∂L/∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = γ·g, means over the normalised dims"),
                 r"\frac{\partial L}{\partial x} = \mathrm{rstd}\,\big(\hat g - \overline{\hat g} - \hat x\,\overline{\hat g \hat x}\big)",
                 "layer_norm_input(g, x, mu, rstd, w, shape)",
                 x="input", mu="result1", rstd="result2", w="weight", shape="normalized_shape"),
         grad_of("weight", N_("∂L/∂γ = Σ g·x̂ over the batch dims"), r"\frac{\partial L}{\partial \gamma} = \sum g\,\hat x",
                 f"np.sum(g * (x - mu) * rstd, axis={_BATCH})",
                 x="input", mu="result1", rstd="result2", shape="normalized_shape"),
         grad_of("bias", N_("∂L/∂β = Σ g over the batch dims"), r"\frac{\partial L}{\partial \beta} = \sum g",
                 f"np.sum(g, axis={_BATCH})", shape="normalized_shape")),
        N_("μ and rstd = 1/√(var + eps) are the node's saved result1 and result2"),
    ),
    "NativeBatchNormBackward0": NodeMath(
        N_("batch_norm in training: x̂ = (x − μ)·invstd per channel over the batch and positions, out = γ·x̂ + β"),
        (grad_of("input", N_("∂L/∂x = γ·invstd·(g − mean(g) − x̂·mean(g·x̂)), means per channel"),
                 r"\frac{\partial L}{\partial x} = \gamma\,\sigma^{-1}\big(g - \overline{g} - \hat x\,\overline{g \hat x}\big)",
                 "batch_norm_input(g, x, mu, invstd, w)", when={"training": True},
                 x="input", mu="result1", invstd="result2", w="weight"),
         grad_of("weight", N_("∂L/∂γ = Σ g·x̂ per channel"), r"\frac{\partial L}{\partial \gamma_c} = \sum g\,\hat x",
                 f"np.sum(g * (x - per_channel(mu, x)) * per_channel(invstd, x), axis={_NOT_CHANNEL})",
                 when={"training": True}, x="input", mu="result1", invstd="result2"),
         grad_of("bias", N_("∂L/∂β = Σ g per channel"), r"\frac{\partial L}{\partial \beta_c} = \sum g",
                 f"np.sum(g, axis={_NOT_CHANNEL})")),
        N_("μ and invstd = 1/√(var + eps) of this batch are the node's saved result1 and result2"),
    ),
    "EmbeddingBackward0": NodeMath(
        N_("embedding: row indices[k] of the weight for each position k"),
        (grad_of("weight", N_("∂L/∂W[r] = Σ of g over the positions whose index is r (0 for padding_idx)"),
                 r"\frac{\partial L}{\partial W_r} = \sum_{k:\ \mathrm{idx}_k = r} g_k",
                 "embedding_backward(g, indices, rows, padding_idx)",
                 when={"scale_grad_by_freq": False}, indices="indices", rows="weight_sym_argsize_0",
                 padding_idx="padding_idx"),),
    ),
    "MkldnnRnnLayerBackward0": NodeMath(
        N_("one LSTM/GRU layer over the whole sequence, in one oneDNN kernel"),
        tuple(grad_of(name, RNN_INPUT.format(input=name),
                      r"\text{backpropagation through time}")
              for name in ("input", "weight0", "weight1", "weight2", "weight3", "hx_", "cx_")),
        N_("weight0..3: input-hidden and hidden-hidden weights and biases; hx_, cx_: the first hidden and cell state"),
    ),
}
