"""The path data of the SVG picture's edges: each edge's line and arrowhead, many at a time.

An edge's line is ``M`` at its first point, then the pieces of
``edge_geometry.smooth_segments``; its arrowhead ``edge_geometry.arrowhead``'s three
corners. Routes of one length are done together in numpy with the same operations in
the same order (the same IEEE doubles; ``math.hypot`` stays Python's own), their numbers
written by ``svg_rows``. Routes whose coordinates are not Python floats or ints are
written one by one (``_one``).
"""

from __future__ import annotations

import math
from itertools import chain
from operator import itemgetter

import numpy as np

from gradstep.drawing import edge_geometry
from gradstep.drawing.svg_numbers import two_decimals as _n
from gradstep.drawing.svg_rows import Rows, scatter

_PLAIN = {float, int}


def edge_rows(routes: dict, keys: list) -> tuple[list[bytes], list[bytes]]:
    """Return the path data of the line and of the arrowhead of each edge of ``keys``, in
    that order (bytes with NULs in them: ``svg_rows.drop_nul``)."""
    taken = list(map(routes.__getitem__, keys))
    lengths = np.fromiter(map(len, taken), np.intp, len(taken))
    rows, written, plainly = Rows(), [], []
    for length in np.flatnonzero(np.bincount(lengths)).tolist():  # routes of one length
        order = np.flatnonzero(lengths == length)
        same = [taken[order[0]]] if len(order) == 1 else list(itemgetter(*order.tolist())(taken))
        points = list(chain.from_iterable(same))
        numbers = list(chain.from_iterable(points))
        if not (set(map(type, points)) <= {tuple, list} and set(map(len, points)) == {2}
                and set(map(type, numbers)) <= _PLAIN):  # written one by one, as they are
            plainly.append((order, [tuple(text.encode("ascii") for text in _one(r)) for r in same]))
            continue
        line, head = _pieces(rows, np.array(numbers, np.float64).reshape(len(same), length, 2))
        written.append((order, rows.shape(len(order), line), rows.shape(len(order), head)))
    made = rows.write()
    lines = scatter(len(keys), [(order, made[line]) for order, line, _ in written]
                    + [(order, [one[0] for one in ones]) for order, ones in plainly])
    heads = scatter(len(keys), [(order, made[head]) for order, _, head in written]
                    + [(order, [one[1] for one in ones]) for order, ones in plainly])
    return lines, heads


def _one(route: list) -> tuple[str, str]:
    """One edge's line and arrowhead, plainly."""
    line = [f"M{_n(route[0][0])},{_n(route[0][1])}"]
    for piece in edge_geometry.smooth_segments(route):
        line.append(piece[0] + " ".join(f"{_n(x)},{_n(y)}" for x, y in piece[1:]))
    a, b, c = edge_geometry.arrowhead(route[-2], route[-1])
    return "".join(line), f"M{_n(a[0])},{_n(a[1])}L{_n(b[0])},{_n(b[1])}L{_n(c[0])},{_n(c[1])}Z"


def _pieces(rows: Rows, points: np.ndarray) -> tuple[list, list]:
    """The pieces of ``_one`` for routes of one length (``points``: routes x points x 2)."""
    n = rows.number
    xs, ys = points[:, :, 0], points[:, :, 1]
    count = points.shape[1]
    ax, ay, bx, by = xs[:, -2], ys[:, -2], xs[:, -1], ys[:, -1]
    with np.errstate(all="ignore"):  # as Python's floats: inf - inf is nan, silently
        dx, dy = bx - ax, by - ay
        length = np.array([math.hypot(u, v) for u, v in zip(dx.tolist(), dy.tolist())],
                          dtype=np.float64)
        return _path_pieces(n, xs, ys, count, bx, by, dx, dy, length)


def _path_pieces(n, xs, ys, count: int, bx, by, dx, dy, length) -> tuple[list, list]:
    arrow = edge_geometry.ARROW_LEN
    short = length <= arrow  # edge_geometry.shorten (where length is 0 the end stays)
    end_x = np.where(short, bx, bx - dx / length * arrow * 0.9)
    end_y = np.where(short, by, by - dy / length * arrow * 0.9)
    line = ["M", n(xs[:, 0]), ",", n(ys[:, 0])]
    if count == 2:
        line += ["L", n(end_x), ",", n(end_y)]
    for i in range(1, count - 1):  # edge_geometry.smooth_segments
        if i == count - 2:
            mid_x, mid_y = end_x, end_y
        else:
            mid_x, mid_y = (xs[:, i] + xs[:, i + 1]) / 2, (ys[:, i] + ys[:, i + 1]) / 2
        line += ["Q", n(xs[:, i]), ",", n(ys[:, i]), " ", n(mid_x), ",", n(mid_y)]
    norm = np.where(length == 0, 1.0, length)  # edge_geometry.arrowhead: "or 1.0"
    ux, uy = dx / norm, dy / norm
    back_x, back_y = bx - ux * arrow, by - uy * arrow
    half = edge_geometry.ARROW_HALF
    head = ["M", n(bx), ",", n(by), "L", n(back_x - uy * half), ",", n(back_y + ux * half),
            "L", n(back_x + uy * half), ",", n(back_y - ux * half), "Z"]
    return line, head
