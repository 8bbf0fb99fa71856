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


def json_line(data: Any) -> bytes:
    """Return ``data`` as one line of strict JSON in UTF-8, the newline included (what the
    command line prints); text with a lone surrogate is written with ``\\uXXXX`` escapes."""
    text = dumps(data)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: JSON can escape it
        return (dumps(data, ascii_only=True) + "\n").encode("ascii")


def write_json_line(data: Any, path, *, batch: int = 1000) -> None:
    """Write ``json_line(data)`` to the file ``path``, a piece at a time.

    The same text as ``json_line``, but the long lists of a top-level dict (a trace's
    nodes and edges) are encoded ``batch`` items at a time: encoding a 100,000-node
    trace in one go holds its ~99 MB text and, before that, millions of pieces of it
    (~0.35 GB more memory).
    """
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as stream:
            _write_pieces(data, stream, batch, ascii_only=False)
    except UnicodeEncodeError:  # a lone surrogate somewhere: JSON can escape it
        with open(path, "w", encoding="ascii", newline="\n") as stream:
            _write_pieces(data, stream, batch, ascii_only=True)


def _write_pieces(data: Any, stream, batch: int, *, ascii_only: bool) -> None:
    if not isinstance(data, dict):
        stream.write(dumps(data, ascii_only=ascii_only) + "\n")
        return
    stream.write("{")
    for index, (key, value) in enumerate(data.items()):
        key = key if isinstance(key, str) else str(key)  # as json and plain spell a number
        stream.write((", " if index else "") + dumps(key, ascii_only=ascii_only) + ": ")
        if not isinstance(value, list) or len(value) <= batch:
            stream.write(dumps(value, ascii_only=ascii_only))
            continue
        stream.write("[")
        for start in range(0, len(value), batch):
            piece = dumps(value[start:start + batch], ascii_only=ascii_only)
            stream.write((", " if start else "") + piece[1:-1])
        stream.write("]")
    stream.write("}\n")


def _refuse(obj: Any) -> Any:
    raise TypeError(f"not JSON: {type(obj).__name__}")
