"""Strict JSON: how gradstep writes numbers JSON has no words for, in every file and message.

JSON has no NaN or infinity. gradstep writes them as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (so ``json.dumps(..., allow_nan=False)`` and every
strict parser accept the text) and reads them back with ``number``. Everything here is
plain Python: printing JSON never loads torch (``autograd.values.to_jsonable`` adds
tensors on top of ``plain``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

NAN, INFINITY, MINUS_INFINITY = "NaN", "Infinity", "-Infinity"
NONFINITE_TEXT: tuple[str, ...] = (NAN, INFINITY, MINUS_INFINITY)
_READ = {NAN: math.nan, INFINITY: math.inf, MINUS_INFINITY: -math.inf}

# ``plain``'s hook for objects it does not know: return their plain form, or NOT_MINE.
NOT_MINE = object()


def json_float(x: float) -> float | str:
    """Return ``x``, or ``"NaN"``/``"Infinity"``/``"-Infinity"`` when it is not finite."""
    if math.isnan(x):
        return NAN
    if math.isinf(x):
        return INFINITY if x > 0 else MINUS_INFINITY
    return x


def number(x: Any) -> float:
    """Return ``x`` as a float, reading the JSON spellings of NaN and the infinities
    (any other text is NaN)."""
    if isinstance(x, str):
        return _READ.get(x, math.nan)
    return float(x)


def is_nonfinite(x: Any) -> bool:
    """Return True for one element that is NaN or infinite (a float or its JSON text)."""
    if isinstance(x, str):
        return x in NONFINITE_TEXT
    return isinstance(x, float) and not math.isfinite(x)


def plain(x: Any, convert: Callable[[Any], Any] | None = None) -> Any:
    """Return ``x`` as strict-JSON data: dicts (string keys), lists, str, int, float, bool and
    None, non-finite floats as text, a complex number as ``[real, imag]``, numpy scalars and
    arrays through ``item``/``tolist``. ``convert(obj)`` is asked first about anything
    else (return ``NOT_MINE`` to decline); what nobody knows becomes its ``repr``."""
    if x is None or isinstance(x, (bool, str, int)):
        return x
    if isinstance(x, float):
        return json_float(x)
    if isinstance(x, dict):
        return {str(k): plain(v, convert) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [plain(v, convert) for v in x]
    if isinstance(x, complex):
        return [json_float(x.real), json_float(x.imag)]
    if convert is not None:
        done = convert(x)
        if done is not NOT_MINE:
            return done
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        try:
            return plain(x.item(), convert)
        except (TypeError, ValueError):
            pass
    if hasattr(x, "tolist") and callable(x.tolist):  # numpy arrays
        return plain(x.tolist(), convert)
    return repr(x)


def dumps(data: Any, *, ascii_only: bool = False, indent: int | None = None) -> str:
    """Return strict JSON text for plain data (no NaN/Infinity literals); ``ascii_only``
    escapes every non-ASCII character (``\\uXXXX``).

    Data that is JSON already (string keys, finite floats: everything read back from
    the kernel's pipe without a NaN) is written straight by ``json``'s C encoder (a
    100,000-node trace: seconds less); anything else goes through ``plain`` first.
    Both give the same text: ``json`` refuses what ``plain`` would change (a
    non-finite float, a set, an unknown object), and ``plain`` then converts it. Keys
    are strings or numbers in every record gradstep writes (a ``True`` or ``None``
    key would be spelled ``true``/``null`` here, ``True``/``None`` by ``plain``).
    """
    options = {"ensure_ascii": ascii_only, "indent": indent}
    try:
        return json.dumps(data, allow_nan=False, default=_refuse, **options)
    except (ValueError, TypeError):  # NaN, infinity or an object plain() must convert
        pass
    return json.dumps(plain(data), allow_nan=False, **options)


def _refuse(obj: Any) -> Any:
    raise TypeError(f"not JSON: {type(obj).__name__}")
