"""Single elements of the plain tensor data gradstep records (pure; no torch).

A recorded tensor is either its data (a number, or nested lists like ``tolist()``,
with non-finite numbers written ``"NaN"``, ``"Infinity"``, ``"-Infinity"``) or a
summary dict (``values.tensor_value``: ``shape``, ``nan``, ``inf``, ``data`` when
small, ``nonfinite_at`` when some element is not finite). These helpers answer:
does it hold NaN/Inf, where, and what is the element at an index.

An element is written (``text``) in the JSON's words, ``NaN``, ``Infinity``, ``-Infinity``,
the contract of ``check --json``; within ``torch_words()`` as torch prints them, ``nan``,
``inf``, ``-inf``, and a finite one as torch prints it (``-1.``, ``0.5000``), for text a
learner reads beside the snippet's own prints.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar

from gradstep.policies.number_text import TORCH_WORDS, torch_printed
from gradstep.policies.strict_json import NAN, NONFINITE_TEXT, is_nonfinite, json_float

UNKNOWN = None
_AS_PRINTED: ContextVar[bool] = ContextVar("gradstep_torch_words", default=False)


@contextmanager
def torch_words():
    """Within, ``text`` and ``word`` write NaN and the infinities as torch prints them."""
    token = _AS_PRINTED.set(True)
    try:
        yield
    finally:
        _AS_PRINTED.reset(token)


def printing_torch_words() -> bool:
    """Return True within ``torch_words()`` (a cache of worded findings keys on it)."""
    return _AS_PRINTED.get()


def word(json_text: str) -> str:
    """Return ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` as it is written now: as is, or
    within ``torch_words()`` as torch prints it (``nan``, ``inf``, ``-inf``)."""
    return TORCH_WORDS.get(json_text, json_text) if _AS_PRINTED.get() else json_text


def counts(value) -> tuple[int, int] | None:
    """Return ``(nan, inf)`` element counts of recorded data or a summary, None when unknown."""
    if value is None:
        return None
    if isinstance(value, dict):
        if "data" in value:
            return counts(value["data"])
        if "nan" not in value:
            return None  # a summary without data (the meta device): nothing known
        return int(value.get("nan") or 0), int(value.get("inf") or 0)
    if all_finite(value):
        return 0, 0
    nan = inf = 0
    for x in flatten(value):
        if x == NAN or (isinstance(x, float) and math.isnan(x)):
            nan += 1
        elif is_nonfinite(x):
            inf += 1
    return nan, inf


def all_finite(data) -> bool:
    """Return True when ``data`` (a number or a flat list of numbers) is surely all finite:
    a NaN or an infinity makes the sum NaN or infinite. False means "look element by
    element": text (``"NaN"``), nested lists, a sum that overflows."""
    try:
        total = sum(data) if isinstance(data, list) else data + 0
        return math.isfinite(total)
    except (TypeError, OverflowError):
        return False


def status(value) -> str | None:
    """Return ``"bad"`` (holds NaN or an infinity), ``"ok"`` (all finite) or None (unknown)."""
    found = counts(value)
    if found is None:
        return None
    return "bad" if found[0] or found[1] else "ok"


def numel(shape) -> int:
    """Return how many elements a tensor of ``shape`` holds (1 for ``[]``), as torch's numel."""
    n = 1
    for d in shape:
        n *= int(d)
    return n


def flatten(data) -> list:
    """Return the elements of nested lists, row-major (a number gives a list of one)."""
    if not isinstance(data, list):
        return [data]
    out, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def shape_of(value) -> list[int] | None:
    """Return the shape of recorded data or a summary (None when it cannot be told)."""
    if isinstance(value, dict):
        shape = value.get("shape")
        return list(shape) if isinstance(shape, list) else None
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def data_of(value):
    """Return the element data of a recorded tensor (None for a summary without data)."""
    if isinstance(value, dict):
        return value.get("data")
    return value


def bad_indices(value, limit: int = 8) -> list[list[int]]:
    """Return the indices of the first ``limit`` NaN/infinite elements (row-major)."""
    data = data_of(value)
    if data is None:
        where = value.get("nonfinite_at") if isinstance(value, dict) else None
        return [list(i) for i in (where or [])[:limit]]
    shape = shape_of(data) or []
    found = []
    for flat, x in enumerate(flatten(data)):
        if is_nonfinite(x):
            found.append(unravel(flat, shape))
            if len(found) >= limit:
                break
    return found


def unravel(flat: int, shape: list[int]) -> list[int]:
    """Return the multi-index of row-major position ``flat`` in ``shape``."""
    index = []
    for size in reversed(shape):
        flat, rest = divmod(flat, size) if size else (flat, 0)
        index.append(rest)
    return index[::-1]


def element(value, index: list[int]):
    """Return the element of recorded data at ``index`` (None when the data is not known)."""
    data = data_of(value)
    if data is None:
        return UNKNOWN
    for i in index:
        if not isinstance(data, list) or i >= len(data):
            return UNKNOWN
        data = data[i]
    return UNKNOWN if isinstance(data, list) else data


def broadcast_index(index: list[int], in_shape: list[int] | None,
                    out_shape: list[int] | None) -> list[int] | None:
    """Return the index of the input element that output element ``index`` came from under
    broadcasting (``[2, 3]`` for a ``[3]`` input → ``[3]``), or None when the input shape
    does not broadcast to the output's."""
    if in_shape is None or out_shape is None or len(in_shape) > len(out_shape):
        return None
    offset = len(out_shape) - len(in_shape)
    out = []
    for size, out_size, i in zip(in_shape, out_shape[offset:], index[offset:]):
        if size == out_size:
            out.append(i)
        elif size == 1:
            out.append(0)
        else:
            return None
    return out


def text(x, plain: bool = False) -> str:
    """Return one element as short text: ``-0.5``, ``NaN``, ``?`` for an unknown one;
    within ``torch_words()`` as torch prints it alone (``a[1]``: ``-1.``, ``-0.5000``,
    ``nan``), or a ``plain`` Python number the node saved (pow's exponent) as Python does
    (``0.5``)."""
    if x is None:
        return "?"
    if isinstance(x, str):
        return word(x) if x in NONFINITE_TEXT else x
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return word(json_float(x))
    if _AS_PRINTED.get():
        return repr(x) if plain else torch_printed([x])[0]
    return f"{x:.6g}"


def figure_text(x) -> str:
    """Return a number gradstep worked out (a norm, a ratio: no tensor's element) in 6
    significant digits, NaN and the infinities as ``text`` writes them; ``?`` for None."""
    if isinstance(x, float) and math.isfinite(x):
        return f"{x:.6g}"
    return text(x)
