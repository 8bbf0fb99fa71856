"""The edges of a drawing cut into pieces, as arrays: each bend of a route is one piece.

``edge_geometry`` draws a route as a light spline, one quadratic curve per bend (a
two-point route is one line), and an arrowhead at its end. Here the same pieces are
made for every route at once, in numpy, with each piece's bounding box, so a view
strokes only the pieces it shows: in a wide random DAG a single edge can cross the
whole drawing, and stroking whole edges (or groups of them) meant stroking most of the
graph's ~300,000 pieces in every frame. ``elements`` returns the path elements of a
set of pieces (Qt's ``QPainterPath`` elements: the quadratic curves as the cubic ones
``quadTo`` itself makes), for ``qt_paint.path_from_elements``.

    pieces = EdgePieces(routes)                 # {(u, v, key): [(x, y), ...]}
    shown = pieces.in_rect(x0, y0, x1, y1)      # piece indices, in drawing order
    types, points = pieces.elements(shown)      # the lines
    types, points = pieces.heads(shown)         # the arrowheads of the edges ending there
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from gradstep.drawing.edge_geometry import ARROW_HALF, ARROW_LEN

MOVE, LINE, CURVE, CURVE_DATA = 0, 1, 2, 3  # QPainterPath.ElementType
PAD = 12.0  # pen width and arrowheads reach past a piece's points (qt_scene._route_rect)


class EdgePieces:
    """Every piece of every route: ``start``, ``control`` and ``end`` points (a line's
    control is its start), the edge it belongs to, whether it is a curve and whether it
    ends its edge (and so carries the arrowhead), and its bounding box."""

    def __init__(self, routes: dict):
        self.keys = [k for k, r in routes.items() if r and len(r) >= 2]
        drawn = list(map(routes.__getitem__, self.keys))
        if not self.keys:  # a graph without edges (one node, or everything folded into one)
            self.edge = np.zeros(0, np.int64)
            self.curve, self.last = np.zeros(0, bool), np.zeros(0, bool)
            self.start = self.control = self.end = self.edge_tail = self.edge_tip = np.zeros((0, 2))
            self.lo = self.hi = np.zeros((0, 2))
            return
        counts, points = route_points(drawn)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        per_edge = np.maximum(counts - 2, 1)  # bends; a two-point route is one line
        self.edge = np.repeat(np.arange(len(self.keys)), per_edge)
        starts = np.concatenate([[0], np.cumsum(per_edge)[:-1]]).astype(np.int64)
        bend = np.arange(len(self.edge)) - starts[self.edge] + 1  # 1 .. m-2 within an edge
        line = counts[self.edge] == 2
        self.curve = ~line
        self.last = np.zeros(len(self.edge), bool)
        self.last[starts + per_edge - 1] = True
        at = first[self.edge] + bend  # the bend's own point (a line: its end)
        here, after = points[np.minimum(at, len(points) - 1)], points[np.minimum(at + 1, len(points) - 1)]
        end = np.where(line[:, None], here, (here + after) / 2)  # rounded to the next middle
        tail = points[first + counts - 2][self.edge]  # each edge's last segment
        tip = points[first + counts - 1][self.edge]
        end = np.where(self.last[:, None], _shorten(tail, tip), end)
        start = np.empty_like(end)
        start[1:] = end[:-1]  # a bend starts where the one before it ended ...
        start[starts] = points[first]  # ... the first at the route's start
        self.start, self.end = start, end
        self.control = np.where(line[:, None], start, here)
        self.edge_tail, self.edge_tip = points[first + counts - 2], points[first + counts - 1]
        # (the least and greatest of three corners; a -0.0 or 0.0 is -12.0 either way)
        self.lo = np.minimum(np.minimum(start, self.control), end) - PAD
        self.hi = np.maximum(np.maximum(start, self.control), end) + PAD

    def __len__(self) -> int:
        return len(self.edge)

    def in_rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Return the pieces whose box meets the rectangle, in drawing order."""
        lo, hi = self.lo, self.hi
        return np.flatnonzero((hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1))

    def elements(self, shown: np.ndarray, near=None, scale: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Return (types, points) of the path that strokes pieces ``shown`` (sorted): a
        move where a run of consecutive pieces begins, then per piece a line, or a cubic
        curve (the quadratic one as ``QPainterPath.quadTo`` makes it).

        ``near`` (x0, y0, x1, y1): a piece longer than half of ``near`` (at ``scale``, in
        device pixels; ``SPLIT_PX`` at most, 32 at least) is cut into exact parts that
        long, and only the parts that meet ``near`` are kept: Qt strokes a path's whole
        length before it clips, and in a wide DAG one piece can be ~40,000 pixels long (a
        view of ~500 such pieces took ~200 ms; a step repaints small rectangles)."""
        if len(shown) == 0:
            return np.zeros(0, np.int32), np.zeros((0, 2))
        start, control, end = self.start[shown], self.control[shown], self.end[shown]
        curve = self.curve[shown]
        move = np.ones(len(shown), bool)
        move[1:] = (np.diff(shown) != 1) | (self.edge[shown[1:]] != self.edge[shown[:-1]])
        if near is not None:
            x0, y0, x1, y1 = near
            split = min(SPLIT_PX, max(32.0, max(x1 - x0, y1 - y0) * scale / 2))
            start, control, end, curve, move = _cut(start, control, end, curve, move, near,
                                                    scale / split)
        return _path_elements(start, control, end, curve, move)

    def heads(self, shown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (types, points) of the arrowheads of the edges whose last piece is in
        ``shown``: each a closed triangle (move, three lines)."""
        ends = shown[self.last[shown]]
        if len(ends) == 0:
            return np.zeros(0, np.int32), np.zeros((0, 2))
        edge = self.edge[ends]
        a, b = self.edge_tail[edge], self.edge_tip[edge]
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        length[length == 0] = 1.0
        u = d / length[:, None]
        base = b - u * ARROW_LEN
        side = np.stack([-u[:, 1], u[:, 0]], axis=1) * ARROW_HALF
        triangle = np.stack([b, base + side, base - side, b], axis=1)
        types = np.tile(np.array([MOVE, LINE, LINE, LINE], np.int32), len(ends))
        return types, triangle.reshape(-1, 2)


    def chords(self, shown: np.ndarray, transform) -> tuple[np.ndarray, np.ndarray]:
        """Return (types, points) of pieces ``shown`` drawn far out, in device pixels under
        ``transform`` ((sx, sy, dx, dy): scale and translation): each curve as two straight
        chords through its middle, each line as one, on whole pixels, every chord once
        (a graph fitted to a window puts hundreds of pieces on one pixel), no arrowheads
        (under a pixel there)."""
        sx, sy, dx, dy = transform
        scale, shift = np.array([sx, sy]), np.array([dx, dy])
        start, control, end = self.start[shown], self.control[shown], self.end[shown]
        middle = (start + 2 * control + end) / 4  # the curve's point halfway
        curve = self.curve[shown]
        a = np.concatenate([start[~curve], start[curve], middle[curve]])
        b = np.concatenate([end[~curve], middle[curve], end[curve]])
        ends = np.rint(np.concatenate([a, b], axis=1).reshape(-1, 2) * scale + shift)
        ends = np.clip(ends, -_CHORD_FAR + 1, _CHORD_FAR - 1).reshape(-1, 4)
        packed = (ends + _CHORD_FAR).astype(np.uint64)  # four 16-bit coordinates
        key = (packed[:, 0] << np.uint64(48)) | (packed[:, 1] << np.uint64(32)) | (
            packed[:, 2] << np.uint64(16)) | packed[:, 3]
        _, first = np.unique(key, return_index=True)
        chords = ends[np.sort(first)].reshape(-1, 2)
        types = np.tile(np.array([MOVE, LINE], np.int32), len(chords) // 2)
        return types, chords


_CHORD_FAR = 2 ** 15  # device coordinates of chords are packed in 16 bits
SPLIT_PX = 512.0


def _cut(start, control, end, curve, move, near, per_part):
    """Cut each piece into equal parameter spans, one per ``1 / per_part`` of its extent
    (each span of a quadratic curve is itself one, exactly: its control point is the
    blossom of the two ends), and keep the parts whose box meets ``near``. A part starts a
    new run (a move) where the part before it was dropped or another piece ended."""
    extent = np.maximum(np.abs(end - start).max(axis=1), np.abs(control - start).max(axis=1))
    parts = np.clip(np.ceil(extent * per_part), 1, 4096).astype(np.int64)
    if (parts == 1).all():
        return start, control, end, curve, move
    piece = np.repeat(np.arange(len(parts)), parts)
    first = np.cumsum(parts) - parts
    k = np.arange(len(piece)) - first[piece]
    a = (k / parts[piece])[:, None]
    b = ((k + 1) / parts[piece])[:, None]
    p0, c, p1 = start[piece], control[piece], end[piece]
    ends_at = b == 1.0  # the last part ends exactly where its piece did

    def at(t):
        return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t ** 2 * p1

    s, e = at(a), np.where(ends_at, p1, at(b))
    s = np.where(a == 0.0, p0, s)
    is_curve = curve[piece]
    blossom = (1 - a) * (1 - b) * p0 + ((1 - a) * b + a * (1 - b)) * c + a * b * p1
    mid = np.where(is_curve[:, None], blossom, s)  # a line's control is its start
    x0, y0, x1, y1 = near
    corners = np.stack([s, mid, e], axis=1)
    lo, hi = corners.min(axis=1) - PAD, corners.max(axis=1) + PAD
    keep = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
    new_run = np.where(k == 0, move[piece], False)
    new_run[1:] |= ~keep[:-1]  # the part before was dropped: start again with a move
    new_run = new_run[keep]
    new_run[:1] = True
    return s[keep], mid[keep], e[keep], is_curve[keep], new_run


def _path_elements(start, control, end, curve, move) -> tuple[np.ndarray, np.ndarray]:
    """Return (types, points) of pieces given by their points: a move where ``move``,
    then a line (``curve`` False) or the cubic curve of the quadratic one."""
    size = move + np.where(curve, 3, 1)
    offset = np.cumsum(size) - size
    types = np.empty(int(size.sum()), np.int32)
    points = np.empty((len(types), 2))
    at = offset[move]
    types[at], points[at] = MOVE, start[move]
    body = offset + move  # the piece's first element after its move
    lines = body[~curve]
    types[lines], points[lines] = LINE, end[~curve]
    curves = body[curve]
    s, c, e = start[curve], control[curve], end[curve]
    types[curves], points[curves] = CURVE, (s + 2 * c) / 3
    types[curves + 1], points[curves + 1] = CURVE_DATA, (e + 2 * c) / 3
    types[curves + 2], points[curves + 2] = CURVE_DATA, e
    return types, points


def route_points(routes: list) -> tuple[np.ndarray, np.ndarray]:
    """Return (how many points each route has, all their points as rows of x, y): every
    point a pair, read one float after another (the floats ``np.array`` of the pairs makes)."""
    counts = np.fromiter(map(len, routes), dtype=np.int64, count=len(routes))
    points = np.fromiter(chain.from_iterable(chain.from_iterable(routes)), dtype=float,
                         count=2 * int(counts.sum()))
    return counts, points.reshape(-1, 2)


def _shorten(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``edge_geometry.shorten`` of each row: ``b`` moved back towards ``a`` by the arrow
    length (unless the segment is shorter)."""
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    safe = np.where(length > ARROW_LEN, length, 1.0)
    moved = b - d / safe[:, None] * ARROW_LEN * 0.9
    return np.where((length > ARROW_LEN)[:, None], moved, b)
