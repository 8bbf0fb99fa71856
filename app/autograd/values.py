"""Tensors and Python values as plain, strict-JSON data.

``tensor_value(t)`` summarises a tensor (shape, dtype, min, max, mean, std,
NaN/Inf counts, and the data itself when it is small). ``to_jsonable(x)``
turns any nested structure into lists, dicts, str, int, float and None, with
non-finite floats written as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` so that ``json.dumps(..., allow_nan=False)`` accepts it.
"""

from __future__ import annotations

import math
from typing import Any

import torch

SMALL = 64  # tensors with at most this many elements keep their data


def dtype_name(dtype: torch.dtype) -> str:
    """Return ``"float32"`` for ``torch.float32`` (the name without ``torch.``)."""
    return str(dtype).removeprefix("torch.")


def json_float(x: float) -> float | str:
    """Return ``x``, or ``"NaN"``/``"Infinity"``/``"-Infinity"`` when it is not finite."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def to_jsonable(x: Any) -> Any:
    """Return ``x`` as plain JSON data (tensors become ``tensor_value`` dicts)."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        return json_float(x)
    if isinstance(x, complex):
        return [json_float(x.real), json_float(x.imag)]
    if isinstance(x, torch.Tensor):
        return tensor_value(x)
    if isinstance(x, (torch.dtype, torch.device)):
        return str(x).removeprefix("torch.")
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in x]
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        try:
            return to_jsonable(x.item())
        except (TypeError, ValueError):
            pass
    if hasattr(x, "tolist") and callable(x.tolist):  # numpy arrays
        return to_jsonable(x.tolist())
    return repr(x)


def tensor_data(t: torch.Tensor) -> Any:
    """Return the tensor's values nested like ``tolist()``, JSON-safe (small tensors only)."""
    t = _plain(t).detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype == torch.bfloat16 or t.dtype == torch.float16:
        t = t.float()
    return to_jsonable(t.tolist())


def compact(t: torch.Tensor | None) -> Any:
    """Return ``tolist()`` data for a small tensor, the ``tensor_value`` summary otherwise."""
    if t is None:
        return None
    if has_data(t) and t.numel() <= SMALL:
        return tensor_data(t)
    return tensor_value(t)


def has_data(t: torch.Tensor) -> bool:
    """Return False for tensors without storage to read (meta, fake, nested, sparse)."""
    if t.device.type == "meta" or t.is_sparse or getattr(t, "is_nested", False):
        return False
    return True


def tensor_value(t: torch.Tensor) -> dict:
    """Return ``{shape, dtype, device, min, max, mean, std, nan, inf}`` plus ``data`` when small.

    Statistics are over the finite elements (so one NaN does not hide the
    range); complex tensors are summarised by magnitude. A tensor with no data
    (the meta device) gets only its shape, dtype and device.
    """
    t = _plain(t).detach()
    out: dict = {"shape": list(t.shape), "dtype": dtype_name(t.dtype), "device": str(t.device)}
    if not has_data(t):
        return out
    out.update(_stats(t))
    if t.numel() <= SMALL:
        out["data"] = tensor_data(t)
    return out


def _plain(t: torch.Tensor) -> torch.Tensor:
    """Return ``t`` as a plain tensor (subclasses would re-enter their own torch functions)."""
    if type(t) is not torch.Tensor and isinstance(t, torch.Tensor):
        return t.as_subclass(torch.Tensor)
    return t


def _stats(t: torch.Tensor) -> dict:
    """Return min/max/mean/std and NaN/Inf counts of ``t`` (None where undefined)."""
    with torch.no_grad():
        if t.is_complex():
            t = t.abs()
        if t.dtype == torch.bool:
            t = t.to(torch.uint8)
        n = t.numel()
        if n == 0:
            return {"min": None, "max": None, "mean": None, "std": None, "nan": 0, "inf": 0}
        if not t.is_floating_point():
            return _finite_stats(t.double(), nan=0, inf=0)
        finite = torch.isfinite(t)
        bad = n - int(finite.sum())
        if bad == 0:
            return _finite_stats(t.double(), nan=0, inf=0)
        nan = int(torch.isnan(t).sum())
        return _finite_stats(t[finite].double(), nan=nan, inf=bad - nan)


def _finite_stats(t: torch.Tensor, *, nan: int, inf: int) -> dict:
    """Return the statistics of an all-finite float64 tensor with the given counts."""
    if t.numel() == 0:
        return {"min": None, "max": None, "mean": None, "std": None, "nan": nan, "inf": inf}
    std = t.std() if t.numel() > 1 else torch.zeros((), dtype=t.dtype, device=t.device)
    lo, hi = torch.aminmax(t)
    stats = torch.stack([lo, hi, t.mean(), std]).tolist()
    return {
        "min": json_float(stats[0]), "max": json_float(stats[1]),
        "mean": json_float(stats[2]), "std": json_float(stats[3]),
        "nan": nan, "inf": inf,
    }
