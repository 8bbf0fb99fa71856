"""Many SVG elements of one shape written at once: a row of bytes per element.

Elements of one shape (the boxes of one size, kind and state with the same kinds of
lines; the edges with the same number of points) differ only in their numbers and
texts. ``Rows`` collects their pieces: fixed text, numbers (float arrays, one number per
element, computed by the caller in numpy with the same operations, in the same order,
as the plain Python code: the same IEEE doubles) and texts (one per element). ``write``
turns every number of every shape into text in one ``svg_numbers.many_two_decimals``
call and returns each shape's rows, NUL bytes in them (``drop_nul`` before writing).
"""

from __future__ import annotations

import numpy as np

from gradstep.drawing.svg_numbers import many_two_decimals

ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                         **{chr(c): " " for c in range(32) if c not in (9, 10, 13)}})


def escaped(text: str) -> str:
    """``text`` safe inside an element or attribute (no control character but tab and newlines)."""
    return text.translate(ESCAPES)


class Rows:
    """The pieces of several shapes of elements; ``write`` makes their rows."""

    def __init__(self) -> None:
        self._numbers: list[np.ndarray] = []
        self._count = 0
        self._shapes: list[tuple[int, list]] = []

    def number(self, values: np.ndarray) -> tuple:
        """A piece: one number per element, written as ``svg_numbers.two_decimals`` does."""
        self._numbers.append(values)
        self._count += len(values)
        return ("number", self._count - len(values), self._count)

    @staticmethod
    def text(texts: list[bytes]) -> tuple:
        """A piece: one text per element, escaped and encoded already."""
        return ("text", texts)

    def shape(self, count: int, pieces: list) -> int:
        """Add a shape of ``count`` elements made of ``pieces`` (str for the same text in every
        element, or what ``number`` and ``text`` return); return its index for ``write``."""
        self._shapes.append((count, pieces))
        return len(self._shapes) - 1

    def write(self) -> list[list[bytes]]:
        """Return the rows of every shape (in ``shape``'s order): a list of bytes per shape."""
        numbers = many_two_decimals(np.concatenate(self._numbers)) if self._numbers else None
        return [_rows(count, pieces, numbers) for count, pieces in self._shapes]


def _rows(count: int, pieces: list, numbers) -> list[bytes]:
    columns, fixed = [], []
    for piece in pieces + [None]:
        if isinstance(piece, str):
            fixed.append(piece)
            continue
        if fixed:
            same = np.frombuffer("".join(fixed).encode("utf-8"), np.uint8)
            columns.append(np.broadcast_to(same, (count, len(same))))
            fixed = []
        if piece is None:
            break
        if piece[0] == "number":
            columns.append(numbers[piece[1]:piece[2]])
        else:
            texts = np.array(piece[1], dtype=bytes)
            columns.append(texts.view(np.uint8).reshape(count, texts.dtype.itemsize))
    if count == 0 or not columns:
        return [b""] * count
    matrix = np.ascontiguousarray(np.concatenate(columns, axis=1))
    return matrix.view(f"S{matrix.shape[1]}").ravel().tolist()


def scatter(count: int, parts) -> list:
    """Return a list of ``count`` items from ``parts``, pairs of (positions, items there)."""
    everything = np.empty(count, dtype=object)
    for order, items in parts:
        everything[np.asarray(order, dtype=np.intp)] = np.array(items, dtype=object)
    return everything.tolist()


def drop_nul(rows) -> bytes:
    """Join rows and drop the NUL bytes that pad their numbers and texts."""
    return b"".join(rows).replace(b"\0", b"")
