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
import re
from collections.abc import Callable
from typing import Any

from gradstep.policies.whole_file import replacing

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


def write_json_line(data: Any, path, *, batch: int = 1000, shared: tuple[str, ...] = (),
                    templates: Callable[[], Any] | None = None) -> None:
    """Write ``json_line(data)`` to the file ``path``, a piece at a time.

    The same text as ``json_line``, but the long lists of a top-level dict (a trace's
    nodes and edges) are encoded ``batch`` items at a time: encoding a 100,000-node
    trace in one go holds its ~99 MB text and, before that, millions of pieces of it
    (~0.35 GB more memory). ``shared``: keys of those lists' dict items whose dict
    values are mostly a few objects used over and over (a trace's formula fields, one
    per op class: half of its text); each such object is encoded once per write
    (``_SharedValues``), the text unchanged. ``templates``: makes, once per write, an
    object whose ``text(item)`` returns one such item's text, or raises ``ValueError`` or
    ``TypeError`` where it cannot vouch for it (that item's batch is then encoded as
    above); used for UTF-8 text only (``kernel.trace_text``).
    """
    with replacing(path) as into:  # whole or not at all (a full disk leaves the old file)
        try:
            with open(into, "w", encoding="utf-8", newline="\n") as stream:
                _write_pieces(data, stream, batch, ascii_only=False, shared=shared,
                              templates=templates)
        except UnicodeEncodeError:  # a lone surrogate somewhere: JSON can escape it
            with open(into, "w", encoding="ascii", newline="\n") as stream:
                _write_pieces(data, stream, batch, ascii_only=True, shared=shared)


def _write_pieces(data: Any, stream, batch: int, *, ascii_only: bool, shared: tuple,
                  templates: Callable[[], Any] | None = None) -> None:
    if not isinstance(data, dict):
        stream.write(dumps(data, ascii_only=ascii_only) + "\n")
        return
    values = _SharedValues(shared, ascii_only)
    texts = templates() if templates is not None and not ascii_only else None
    stream.write("{")
    for index, (key, value) in enumerate(data.items()):
        key = key if isinstance(key, str) else str(key)  # as json and plain spell a number
        stream.write((", " if index else "") + dumps(key, ascii_only=ascii_only) + ": ")
        if not isinstance(value, list) or len(value) <= batch:
            stream.write(dumps(value, ascii_only=ascii_only))
            continue
        stream.write("[")
        for start in range(0, len(value), batch):
            piece = _piece_text(value[start:start + batch], texts) or values.dumps(
                value[start:start + batch])[1:-1]
            stream.write((", " if start else "") + piece)
        stream.write("]")
    stream.write("}\n")


def _piece_text(items: list, texts) -> str | None:
    """Return the items' texts joined as ``json`` joins a list's items, or None when
    ``texts`` (``write_json_line``'s templates) cannot write one of them."""
    if texts is None or not items:
        return None
    try:
        return ", ".join(map(texts.text, items))
    except (ValueError, TypeError):
        return None


_MARK = "\x00gradstep-shared:"  # JSON writes it "\u0000gradstep-shared:"
_MARKED = re.compile(r'"\\u0000gradstep-shared:(\d+)"')


class _SharedValues:
    """``dumps`` for a list of dicts whose ``keys`` hold a few dicts many times over.

    Each such dict is replaced by a marker string, the list encoded, and each marker
    replaced by its dict's text, made once. A marker is a string no JSON text has
    unless some string of the data is exactly a marker too: then more markers than
    were put are found, and that list is encoded as it is instead. JSON's text is
    made of its parts' texts (no indent), so the result is the same text either way.
    """

    def __init__(self, keys: tuple, ascii_only: bool):
        self.keys, self.ascii_only = keys, ascii_only
        self.objects: dict = {}  # id as text -> the dict (held, so that its id stays its own)
        self.texts: dict = {}  # id as text -> the dict's JSON text

    def dumps(self, items: list) -> str:
        if not self.keys:
            return dumps(items, ascii_only=self.ascii_only)
        marked, count = [], 0
        for item in items:
            copy = None
            if type(item) is dict:
                for key in self.keys:
                    value = item.get(key)
                    marker = self._mark(value) if type(value) is dict else None
                    if marker is not None:
                        if copy is None:
                            copy = item.copy()
                        copy[key] = marker
                        count += 1
            marked.append(item if copy is None else copy)
        if not count:
            return dumps(items, ascii_only=self.ascii_only)
        text = dumps(marked, ascii_only=self.ascii_only)
        if len(_MARKED.findall(text)) != count:  # the data has a string like a marker
            return dumps(items, ascii_only=self.ascii_only)
        return _MARKED.sub(self._text, text)

    def _mark(self, value: dict) -> str | None:
        """Return the marker of ``value``, or None to leave it in place: a dict whose text
        depends on the list around it (``dumps`` spells a ``True`` or ``None`` key one way
        when the list takes ``json``'s own path, another when a NaN sends it through
        ``plain``)."""
        ident = str(id(value))
        if ident not in self.texts:
            self.objects[ident] = value
            text = dumps(value, ascii_only=self.ascii_only)
            both = text == json.dumps(plain(value), allow_nan=False, ensure_ascii=self.ascii_only)
            self.texts[ident] = text if both else None
        return None if self.texts[ident] is None else _MARK + ident

    def _text(self, match: re.Match) -> str:
        return self.texts[match.group(1)]


def _refuse(obj: Any) -> Any:
    raise TypeError(f"not JSON: {type(obj).__name__}")
