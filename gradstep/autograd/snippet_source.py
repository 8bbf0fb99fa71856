"""Where gradstep keeps a snippet's text, to name its lines in its own reports.

A file's snippet (and the window's ``<snippet>``) is put in ``linecache``, as python's
import of a module puts its file there. ``python -c`` and ``python -`` keep nothing: a
warning shows no source line, a traceback no code, and ``inspect.getsource`` of a
function they define raises OSError. For those (``<string>``, ``<stdin>``) the text is
kept here instead, where ``getlines`` finds it and nothing of the snippet's own does;
``readable_by_inspect`` lends it to ``linecache`` while gradstep itself asks ``inspect``
(a custom Function's ``backward`` source).
"""

from __future__ import annotations

import contextlib
import linecache
from collections.abc import Iterator

_KEPT_APART = ("<string>", "<stdin>")  # python -c and python -: no source anywhere
_lines: dict[str, list[str]] = {}


def remember(source: str, filename: str) -> None:
    """Keep ``source`` as the text of ``filename``."""
    lines = source.splitlines(True)
    if filename in _KEPT_APART:
        _lines[filename] = lines
    else:
        linecache.cache[filename] = (len(source), None, lines, filename)


def getlines(filename: str) -> list[str]:
    """Return the lines of ``filename``: a snippet's kept text, else ``linecache``'s."""
    kept = _lines.get(filename)
    return list(kept) if kept is not None else linecache.getlines(filename)


def getline(filename: str, line: int) -> str:
    """Return line ``line`` (1-based) of ``filename``, or ``""``."""
    lines = getlines(filename)
    return lines[line - 1] if 1 <= line <= len(lines) else ""


@contextlib.contextmanager
def readable_by_inspect() -> Iterator[None]:
    """Put the kept texts in ``linecache`` inside the block (gradstep's own reads)."""
    lent = [name for name in _lines if name not in linecache.cache]
    for name in lent:
        text = "".join(_lines[name])
        linecache.cache[name] = (len(text), None, list(_lines[name]), name)
    try:
        yield
    finally:
        for name in lent:
            linecache.cache.pop(name, None)
