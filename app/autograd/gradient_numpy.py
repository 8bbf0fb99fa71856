"""Evaluate the numpy form of a readable formula (``formula_math``) on plain numbers.

Only the expressions written in ``formula_math`` are meant to go through here:
they are our own constants, evaluated with numpy and three small helpers and no
builtins beyond ``tuple``. Values come in as plain data (nested lists, numbers,
None); nothing here touches torch.
"""

from __future__ import annotations

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


_NAMES = {"np": np, "sum_to": sum_to, "select_backward": select_backward, "nll_pick": nll_pick}


def evaluate(expression: str, values: dict[str, Any]) -> np.ndarray:
    """Return ``expression`` (a ``MathFormula.numpy``) evaluated with ``values`` bound to its
    letters; lists become numpy arrays, numbers and None stay as they are."""
    bound = {name: np.asarray(v) if isinstance(v, list) else v for name, v in values.items()}
    return np.asarray(eval(expression, {"__builtins__": {"tuple": tuple}, **_NAMES}, bound))  # noqa: S307
