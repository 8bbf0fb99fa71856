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
from typing import NamedTuple

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
            self._index_along_layers()
            self._chords = self._chord_range = self._made = None
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
        self._index_along_layers()
        self._chords = None  # each piece's chords far out: _chord_table
        self._chord_range = None  # their least and greatest x and y: _device_bounds
        self._made = None  # the table in the making: far_step

    def _index_along_layers(self) -> None:
        """Sort the pieces by where their boxes start along the axis they are short on: a
        bend spans one gap between layers that way (its other extent can be the whole
        drawing), so a view's pieces are found by two binary searches, not a scan of all."""
        extent = self.hi - self.lo
        self._axis = int(np.argmin(extent.max(axis=0))) if len(self.edge) else 0
        self._reach = float(extent[:, self._axis].max()) if len(self.edge) else 0.0
        self._order = np.argsort(self.lo[:, self._axis], kind="stable")
        # in that order, as four rows (x0, y0, x1, y1): a run of them is four slices
        self._boxes = np.ascontiguousarray(np.concatenate([self.lo, self.hi], axis=1)[self._order].T)
        self._sorted_lo = self._boxes[self._axis]
        self._corners = np.ascontiguousarray(np.concatenate([self.lo, self.hi], axis=1).T)
        # the box around every piece's box (NaN where a corner is: no comparison holds then)
        self._least = self.lo.min(axis=0) if len(self.edge) else np.full(2, np.nan)
        self._most = self.hi.max(axis=0) if len(self.edge) else np.full(2, np.nan)

    def __len__(self) -> int:
        return len(self.edge)

    def in_rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Return the pieces whose box meets the rectangle, in drawing order."""
        low, high = (x0, x1) if self._axis == 0 else (y0, y1)
        begin = np.searchsorted(self._sorted_lo, low - self._reach, side="left")
        end = np.searchsorted(self._sorted_lo, high, side="right")
        # a part of the drawing: the sorted run (not where a point is NaN or infinite: no
        # reach is known then, and the scan below leaves out only those pieces)
        if 2 * (end - begin) < len(self.edge) and np.isfinite(self._reach):
            box = self._boxes[:, begin:end]
            hit = (box[2] >= x0) & (box[0] <= x1) & (box[3] >= y0) & (box[1] <= y1)
            return np.sort(self._order[begin:end][hit])
        lo_x, lo_y, hi_x, hi_y = self._corners  # most of it (far out): a scan, in drawing order
        if x0 <= self._least[0] and y0 <= self._least[1] and x1 >= self._most[0] and y1 >= self._most[1]:
            return np.arange(len(self.edge))  # around every box (the whole graph in view)
        return np.flatnonzero((hi_x >= x0) & (lo_x <= x1) & (hi_y >= y0) & (lo_y <= y1))

    def elements(self, shown: np.ndarray, near=None, scale: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Return (types, points) of the path that strokes pieces ``shown`` (sorted): a
        move where a run of consecutive pieces begins, then per piece a line, or a cubic
        curve (the quadratic one as ``QPainterPath.quadTo`` makes it). ``near`` and
        ``scale``: as ``cut``."""
        return self.cut(shown, near, scale).elements()

    def cut(self, shown: np.ndarray, near=None, scale: float = 1.0) -> Cut:
        """Return pieces ``shown`` (sorted) as the parts a view strokes.

        ``near`` (x0, y0, x1, y1): a piece longer than half of ``near`` (at ``scale``, in
        device pixels; ``SPLIT_PX`` at most, 32 at least) is cut into exact parts that
        long, and only the parts that meet ``near`` are kept: Qt strokes a path's whole
        length before it clips, and in a wide DAG one piece can be ~40,000 pixels long (a
        view of ~500 such pieces took ~200 ms; a step repaints small rectangles)."""
        start, control, end = self.start[shown], self.control[shown], self.end[shown]
        curve = self.curve[shown]
        move = np.ones(len(shown), bool)
        move[1:] = (np.diff(shown) != 1) | (self.edge[shown[1:]] != self.edge[shown[:-1]])
        piece = np.arange(len(shown))
        if near is not None and len(shown):
            x0, y0, x1, y1 = near
            split = min(SPLIT_PX, max(32.0, max(x1 - x0, y1 - y0) * scale / 2))
            start, control, end, curve, move, piece = _cut(start, control, end, curve, move,
                                                           near, scale / split)
        return Cut(start, control, end, curve, move, piece)

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


    def chords(self, shown: np.ndarray, transform) -> np.ndarray:
        """Return the lines of pieces ``shown`` drawn far out, rows ``[x0, y0, x1, y1]`` in
        device pixels under ``transform`` ((sx, sy, dx, dy): scale and translation): each
        curve as two straight chords through its middle, each line as one (``_chord_table``,
        made once), on whole pixels, every chord once
        (a graph fitted to a window puts hundreds of pieces on one pixel), no arrowheads
        (under a pixel there). The chords come in the order of their packed coordinates:
        they are one colour, one pixel wide, without antialiasing, so the pixels they
        cover do not depend on the order."""
        return each_once(self.chord_ends(shown, transform))

    def chord_ends(self, shown: np.ndarray, transform) -> np.ndarray:
        """Return the chords of pieces ``shown`` (ascending, each once: as many as there are
        pieces is read as every piece) as ``chords`` does, before each is kept once: in
        piece order, repeats included, as four rows ``x0, y0, x1, y1`` of whole device
        pixels (int32: a row of each coordinate is read faster than rows of four)."""
        table, first, count = self._chord_table()
        sx, sy, dx, dy = transform
        bounds = self._device_bounds(transform)
        clipped = not (-_CHORD_FAR + 1 <= bounds).all() or not (bounds <= _CHORD_FAR - 1).all()
        if len(shown) == len(self.edge) and not clipped:  # every piece: row by row, in place
            ends = np.empty(table.shape, np.int32)
            row = np.empty(table.shape[1])
            for at, scale, shift in ((0, sx, dx), (1, sy, dy), (2, sx, dx), (3, sy, dy)):
                np.multiply(table[at], scale, out=row)
                row += shift  # the same floats as table * scale + shift
                np.rint(row, out=ends[at], casting="unsafe")
            return ends
        scale = np.array([[sx], [sy], [sx], [sy]])
        if len(shown) < len(self.edge):  # the columns of the pieces shown
            per = count[shown]
            begins = np.repeat(first[shown] - (np.cumsum(per) - per), per)
            ends = table.take(begins + np.arange(len(begins)), axis=1)
            ends *= scale
        else:
            ends = table * scale
        ends += np.array([[dx], [dy], [dx], [dy]])  # the same floats as table * scale + shift
        if clipped:
            np.clip(ends, -_CHORD_FAR + 1, _CHORD_FAR - 1, out=ends)  # (then rounded: the same)
        return np.rint(ends, out=np.empty(ends.shape, np.int32), casting="unsafe")

    def chord_box(self, transform) -> tuple[int, int, int, int] | None:
        """Return the device pixels every chord's ends lie on under ``transform``, as
        ``chord_ends`` gives them: ``(x0, y0, x1, y1)``, the least and greatest of each, or
        None where one is not a number or would be clipped. From the table's least and
        greatest of each row: ``v * scale + shift``, then rounded, keeps their order."""
        bounds = self._device_bounds(transform)
        if not (-_CHORD_FAR + 1 <= bounds).all() or not (bounds <= _CHORD_FAR - 1).all():
            return None  # (a NaN fails both)
        least, most = np.rint(bounds.min(axis=1)), np.rint(bounds.max(axis=1))
        return int(least[0]), int(least[1]), int(most[0]), int(most[1])

    def _device_bounds(self, transform) -> np.ndarray:
        """Return the table's least and greatest of each row (x, y) scaled and shifted as
        ``chord_ends`` does, before rounding: two rows of two (x, y) a row, [least, most]
        in either order (a scale below 0 swaps them)."""
        while not self.far_step():  # (the table's bounds: made once)
            pass
        sx, sy, dx, dy = transform
        bounds = self._chord_range * np.array([[sx], [sy]])
        bounds += np.array([[dx], [dy]])
        return bounds

    def _chord_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return every piece's chords in scene coordinates, four rows ``x0, y0, x1, y1``
        with a column a chord in piece order (a line's ends; a curve's start to its halfway
        point, then on to its end), with each piece's first column and count: made in parts
        between frames (``far_step``), what is left of it when first drawn far out."""
        while self._chords is None:
            self.far_step()
        return self._chords

    def far_step(self) -> bool:
        """Make the next part of what a frame far out reads: the chords of the next
        ``CHORD_PART`` pieces into the chord table, or, the table made, its least and
        greatest x and y; return whether all is made. A window calls it between frames
        (``qt_graph_view``), so its first frame far out does not make the table (0.1-0.2 s
        for the 100,000-node DAG's 510,796 chords); a paint before then makes the rest.
        Each part's columns are the same floats as the table made at once (each column its
        own piece's, the same sums)."""
        if self._chord_range is not None:
            return True
        if self._chords is None:
            if self._made is None:  # the table to fill, each piece's first column and count
                count = np.where(self.curve, 2, 1)
                self._made = (np.empty((4, int(count.sum()))), np.cumsum(count) - count, count, 0)
            table, first, count, begin = self._made
            at = slice(begin, begin + CHORD_PART)
            start, control, end, curve = self.start[at], self.control[at], self.end[at], self.curve[at]
            middle = (start + 2 * control + end) / 4  # the curve's halfway point
            columns, second = first[at], first[at][curve] + 1
            to = np.where(curve[:, None], middle, end)
            for row in (0, 1):
                table[row, columns] = start[:, row]
                table[row + 2, columns] = to[:, row]
                table[row, second] = middle[curve, row]
                table[row + 2, second] = end[curve, row]
            if begin + CHORD_PART < len(self.edge):
                self._made = (table, first, count, begin + CHORD_PART)
            else:
                self._chords, self._made = (table, first, count), None
            return False
        table = self._chords[0]
        if table.shape[1] == 0:
            self._chord_range = np.full((2, 2), np.nan)
        else:  # each row's least and greatest, x from rows 0 and 2, y from 1 and 3
            self._chord_range = np.array(
                [[min(table[0].min(), table[2].min()), max(table[0].max(), table[2].max())],
                 [min(table[1].min(), table[3].min()), max(table[1].max(), table[3].max())]])
        return True


CHORD_PART = 16384  # pieces whose chords one step between frames makes (~1-3 ms)
_CHORD_FAR = 2 ** 15  # device coordinates of chords are packed in 16 bits
SPLIT_PX = 512.0


def each_once(ends: np.ndarray) -> np.ndarray:
    """Return chords ``ends`` (``EdgePieces.chord_ends``: four rows of ints) each once, in
    the order of their packed coordinates, as rows ``[x0, y0, x1, y1]`` (floats)."""
    x0, y0, x1, y1 = (ends + _CHORD_FAR).astype(np.uint64)  # four 16-bit coordinates
    key = (x0 << np.uint64(48)) | (y0 << np.uint64(32)) | (x1 << np.uint64(16)) | y1
    key.sort()  # each chord once: numpy's sort, then its runs (np.unique is ~5x slower)
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if len(key) else key
    chords = np.empty((len(key), 4))
    for column, shift in enumerate((48, 32, 16, 0)):
        chords[:, column] = (key >> np.uint64(shift)) & np.uint64(0xFFFF)
    chords -= _CHORD_FAR
    return chords


def _cut(start, control, end, curve, move, near, per_part):
    """Cut each piece into equal parameter spans, one per ``1 / per_part`` of its extent
    (each span of a quadratic curve is itself one, exactly: its control point is the
    blossom of the two ends), and keep the parts whose box meets ``near``. A part starts a
    new run (a move) where the part before it was dropped or another piece ended. Only the
    parts that can meet ``near`` are made (``_part_range``): a long edge through a view
    would otherwise be cut into hundreds of parts to keep one or two."""
    extent = np.maximum(np.abs(end - start).max(axis=1), np.abs(control - start).max(axis=1))
    parts = np.clip(np.ceil(extent * per_part), 1, 4096).astype(np.int64)
    if (parts == 1).all():
        return start, control, end, curve, move, np.arange(len(start))
    low, high = _part_range(start, control, end, curve, parts, near)
    made = high - low
    piece = np.repeat(np.arange(len(parts)), made)
    first = np.cumsum(made) - made
    k = np.arange(len(piece)) - first[piece] + low[piece]
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
    lo = np.minimum(np.minimum(s, mid), e) - PAD  # elementwise: min(axis=1) of stacked
    hi = np.maximum(np.maximum(s, mid), e) + PAD  # corners took ~3 ms per 30,000 parts
    keep = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
    # a run starts again where the part before was dropped; a part that was not made
    # (before its piece's range, or the last part of the piece before) counts as dropped
    before_made = np.zeros(len(piece), bool)
    last_made = (high == parts) & (low < high)  # each piece's last part was made
    before_made[1:] = np.where(k[1:] > low[piece[1:]], True,
                               (k[1:] == 0) & (piece[1:] > 0) & last_made[piece[1:] - 1])
    dropped = np.ones(len(piece), bool)
    dropped[1:] = ~before_made[1:] | ~keep[:-1]
    new_run = np.where(k == 0, move[piece], False) | dropped
    new_run = new_run[keep]
    new_run[:1] = True
    return s[keep], mid[keep], e[keep], is_curve[keep], new_run, piece[keep]


def _part_range(start, control, end, curve, parts, near):
    """Return, per piece, the range ``[low, high)`` of its parts (``parts`` equal spans of
    its parameter) that can meet ``near`` with their padded boxes: every part outside it
    would be dropped by ``_cut``'s own test, so none is made.

    On each axis a piece is ``x(t) = p0 + 2t (c - p0) + t**2 (p0 - 2c + p1)`` (a line's
    control is its start), and the ``t`` where it lies in the grown rectangle are found
    from the roots of ``x(t) = edge``: only the span from the first to the last of them
    can hold a part that meets it. A part's control point (the blossom of its ends) strays
    from its own curve by a quarter of ``|2c - p0 - p1| / parts**2`` at most, so the
    rectangle is grown by that, the padding, and a pixel for rounding; one part more on
    each side as well."""
    x0, y0, x1, y1 = near
    stray = np.abs(2 * control - start - end) / (4.0 * parts[:, None] ** 2)
    stray[~curve] = 0.0  # a line's parts have no control point of their own
    low, high = np.zeros(len(start), np.int64), parts.copy()
    for axis, (edge_lo, edge_hi) in enumerate(((x0, x1), (y0, y1))):
        p0, c, p1 = start[:, axis], control[:, axis], end[:, axis]
        a, b = p0 - 2 * c + p1, 2 * (c - p0)
        lo = edge_lo - PAD - 1.0 - stray[:, axis]
        hi = edge_hi + PAD + 1.0 + stray[:, axis]
        # the first and last t in [0, 1] where the piece is between lo and hi: among the
        # ends (if inside) and the roots of x(t) = lo, x(t) = hi
        first, last = np.full(len(p0), 2.0), np.full(len(p0), -1.0)
        for t, ok in ((0.0, (p0 >= lo) & (p0 <= hi)), (1.0, (p1 >= lo) & (p1 <= hi))):
            first, last = np.where(ok, np.minimum(first, t), first), np.where(ok, np.maximum(last, t), last)
        for value in (lo, hi):
            for root in _roots(a, b, p0 - value):
                ok = (root >= 0.0) & (root <= 1.0)
                first = np.where(ok, np.minimum(first, root), first)
                last = np.where(ok, np.maximum(last, root), last)
        empty = first > last
        k_lo = np.clip(np.ceil(first * parts) - 2, 0, parts).astype(np.int64)
        k_hi = np.clip(np.floor(last * parts) + 2, 0, parts).astype(np.int64)
        low = np.maximum(low, np.where(empty, parts, k_lo))
        high = np.minimum(high, np.where(empty, 0, k_hi))
    return low, np.maximum(high, low)


def _roots(a, b, c):
    """Return the two real roots of ``a t**2 + b t + c`` per row (NaN where there are
    none), in the form that keeps its precision when ``a`` is tiny (a nearly straight
    curve): ``q = -(b + sign(b) sqrt(b**2 - 4ac)) / 2``, roots ``q / a`` and ``c / q``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = np.sqrt(b * b - 4 * a * c)  # NaN below zero: no root
        q = -0.5 * (b + np.where(b >= 0, disc, -disc))
        r1 = np.where(a != 0, q / a, np.nan)
        r2 = np.where(q != 0, c / q, np.where(b != 0, -c / np.where(b != 0, b, 1.0), np.nan))
    return r1, r2


class Cut(NamedTuple):
    """Parts of pieces to stroke (``EdgePieces.cut``): each part's points, whether it is a
    curve, whether a run starts with it (a move), and which of the pieces asked for it is
    part of (an index into them)."""

    start: np.ndarray
    control: np.ndarray
    end: np.ndarray
    curve: np.ndarray
    move: np.ndarray
    piece: np.ndarray

    def elements(self, which: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (types, points) of the path of the parts, or of those of the pieces where
        mask ``which`` (over the pieces asked for) is true: the same path as cutting just
        those pieces (a run also starts after a part left out)."""
        if which is None:
            return _path_elements(*self[:5])
        at = np.flatnonzero(which[self.piece])
        move = self.move[at]
        move[1:] |= np.diff(at) != 1
        move[:1] = True
        return _path_elements(self.start[at], self.control[at], self.end[at], self.curve[at], move)


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
