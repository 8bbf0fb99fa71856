"""Evaluate the numpy form of a readable formula (``formula_math``) on plain numbers.

Only the expressions written in ``formula_math`` are meant to go through here:
they are our own constants, evaluated with numpy, the helpers below (each spells
out one layer's gradient) and no builtins beyond ``tuple``, ``range`` and ``len``. Values come in as plain data (nested lists, numbers,
None); nothing here touches torch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def sum_to(grad, shape) -> np.ndarray:
    """Return ``grad`` summed down to ``shape``: over leading dims, then over dims of size 1
    in ``shape`` (what torch does to the gradient of a broadcast or expanded input)."""
    grad = np.asarray(grad)
    shape = tuple(int(s) for s in shape)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    repeated = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=repeated, keepdims=True) if repeated else grad


def select_backward(grad, shape, dim: int, index: int) -> np.ndarray:
    """Return zeros of ``shape`` with ``grad`` written at ``index`` along ``dim``."""
    out = np.zeros([int(s) for s in shape])
    where: list[Any] = [slice(None)] * out.ndim
    where[int(dim)] = int(index)
    out[tuple(where)] = grad
    return out


def nll_pick(target, x, weight, ignore_index) -> np.ndarray:
    """Return an array shaped like ``x`` holding ``weight[t]`` (1 without weights) at each
    sample's target class and 0 elsewhere; targets equal to ``ignore_index`` pick nothing.
    The class dim is 1 for batched input, 0 for a single sample."""
    x = np.asarray(x)
    target = np.asarray(target).astype(np.int64)
    class_axis = 1 if x.ndim >= 2 else 0
    kept = target != int(ignore_index)
    safe = np.where(kept, target, 0)
    weights = np.ones(x.shape[class_axis]) if weight is None else np.asarray(weight, dtype=float)
    values = np.where(kept, weights[safe], 0.0)
    out = np.zeros(x.shape)
    np.put_along_axis(out, np.expand_dims(safe, class_axis), np.expand_dims(values, class_axis), class_axis)
    return out


def max_pool_backward(grad, indices, shape) -> np.ndarray:
    """Return zeros of ``shape`` (N, C, H, W) with each window's gradient added at the flat
    position (within its H×W plane) that max pooling saved as that window's maximum."""
    shape = [int(s) for s in shape]
    planes = int(np.prod(shape[:-2]))
    out = np.zeros((planes, shape[-2] * shape[-1]))
    rows = np.arange(planes)[:, None]
    np.add.at(out, (rows, np.asarray(indices).reshape(planes, -1)), np.asarray(grad).reshape(planes, -1))
    return out.reshape(shape)


def layer_norm_input(grad, x, mean, rstd, weight, normalized_shape) -> np.ndarray:
    """Return layer_norm's input gradient rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = γ·g, the
    means taken over the last ``len(normalized_shape)`` dims."""
    x, grad = np.asarray(x), np.asarray(grad)
    dims = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    scaled = grad * (1.0 if weight is None else np.asarray(weight))
    normalised = (x - mean) * rstd
    return rstd * (scaled - scaled.mean(dims, keepdims=True)
                   - normalised * (scaled * normalised).mean(dims, keepdims=True))


def per_channel(values, x) -> np.ndarray:
    """Return per-channel ``values`` (C,) shaped to broadcast against ``x`` (N, C, ...)."""
    return np.asarray(values).reshape(1, -1, *[1] * (np.ndim(x) - 2))


def batch_norm_input(grad, x, mean, invstd, weight) -> np.ndarray:
    """Return batch_norm's training-mode input gradient γ·invstd·(g − mean(g) − x̂·mean(g·x̂)),
    the means per channel over the batch and positions."""
    x, grad = np.asarray(x), np.asarray(grad)
    dims = (0, *range(2, x.ndim))
    gamma = 1.0 if weight is None else per_channel(weight, x)
    normalised = (x - per_channel(mean, x)) * per_channel(invstd, x)
    return gamma * per_channel(invstd, x) * (
        grad - grad.mean(dims, keepdims=True) - normalised * (grad * normalised).mean(dims, keepdims=True))


def embedding_backward(grad, indices, rows, padding_idx) -> np.ndarray:
    """Return the weight gradient of an embedding: row r sums g over the positions holding
    index r; the padding row gets none."""
    grad = np.asarray(grad)
    out = np.zeros((int(rows), grad.shape[-1]))
    np.add.at(out, np.asarray(indices).reshape(-1), grad.reshape(-1, grad.shape[-1]))
    if int(padding_idx) >= 0:
        out[int(padding_idx)] = 0.0
    return out


erf = np.vectorize(math.erf, otypes=[float])

_NAMES = {
    "np": np, "erf": erf, "sum_to": sum_to, "select_backward": select_backward, "nll_pick": nll_pick,
    "max_pool_backward": max_pool_backward, "layer_norm_input": layer_norm_input,
    "per_channel": per_channel, "batch_norm_input": batch_norm_input,
    "embedding_backward": embedding_backward,
}
_BUILTINS = {"tuple": tuple, "range": range, "len": len}


def evaluate(expression: str, values: dict[str, Any]) -> np.ndarray:
    """Return ``expression`` (a ``MathFormula.numpy``) evaluated with ``values`` bound to its
    letters; lists become numpy arrays, numbers and None stay as they are."""
    bound = {name: np.asarray(v) if isinstance(v, list) else v for name, v in values.items()}
    return np.asarray(eval(expression, {"__builtins__": _BUILTINS, **_NAMES}, bound))  # noqa: S307
