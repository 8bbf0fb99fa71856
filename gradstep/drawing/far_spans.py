"""Far-out edge chords set as pixels in numpy where Qt's own pixels are known exactly.

Far out (``qt_scene.EdgesItem._paint_far``) every edge is drawn as chords on whole device
pixels with a one-pixel pen and no antialiasing. A view of a whole wide graph hands Qt
~400,000 of them a frame, and most are flat: a piece spans one gap between layers, under
a pixel there, so its chord is one pixel row (or column), or steps by one. For those Qt's
raster engine sets pixels by a plain rule (tested against it in
``tests/drawing/test_far_spans.py``, every length and direction, and across the clip):

* a chord along a row or a column: every pixel from one end to the other, both included;
* a chord that moves one pixel across while it goes up to ``SPAN_PX`` along: the end
  further down (right, for one going mostly down) alone in its row (column), every other
  pixel of the chord in the other end's row (column).

Such chords become runs of pixels in rows and columns, set in a mask in a few numpy
calls, one image for all of them; the other chords are left to Qt (``QPainter.drawLines``).
A stepping chord that leaves the clip is left to Qt too: Qt cuts a line at the clip
before it steps along it, which can move where the step falls.

Of the chords left, those Qt steps along x (no steeper than 45 degrees: nearly all of a
wide graph's far out) are then set as Qt's own runs (``line_pixels``: ``line_runs`` does
what ``QCosmeticStroker::drawLine`` does, where the paint engine's device is known);
the rest are Qt's.

    mask, corner, rest = chord_pixels(ends, (x0, y0, x1, y1))  # the clip: x0 <= x < x1 ...
    mask, corner, rest = line_pixels(ends, clip, ((width, height), (dx, dy)))  # or None
"""

from __future__ import annotations

import numpy as np

SPAN_PX = 64  # a chord that steps one pixel across is set here up to this long (Qt's
# fixed-point slope puts the step elsewhere past ~190 pixels)


def chord_pixels(ends: np.ndarray, clip: tuple[int, int, int, int], inside: bool = False
                 ) -> tuple[np.ndarray, tuple[int, int], np.ndarray]:
    """Return (mask, corner, rest): ``mask`` holds the pixels Qt's aliased one-pixel pen
    sets in the clip (pixels ``x0 <= x < x1``, ``y0 <= y < y1``) for the chords of ``ends``
    (four rows ``x0, y0, x1, y1`` of whole device pixels, ints: ``EdgePieces.chord_ends``)
    it sets by the rule above, its first pixel at device pixel ``corner`` (the box around
    them); ``rest`` are the other chords (the same four rows), for Qt to draw. Where a
    mask is not worth it (``worth_it``: too few such chords, too small a share of all, or
    spread too wide) all are left to Qt. ``inside``: the caller knows every chord's ends
    lie in the clip (a whole graph in view), so nothing is cut to it."""
    cx0, cy0, cx1, cy1 = clip
    none = np.zeros((0, 0), bool), (cx0, cy0), ends
    x0, y0, x1, y1 = ends
    dx, dy = np.abs(x1 - x0), np.abs(y1 - y0)
    if not inside and not worth_it(np.count_nonzero(np.minimum(dx, dy) <= 1), len(x0), 0):
        return none  # a quick look first: too few (a middle zoom; its count is no less)
    # along a row, or a one-pixel step across it; along a column, or a step across it
    flat, upright = dy == 0, (dx == 0) & (dy != 0)
    across = (dy == 1) & (dx >= 1) & (dx <= SPAN_PX)
    down = (dx == 1) & (dy >= 2) & (dy <= SPAN_PX)
    if not inside:  # a chord that steps is set only inside the clip
        steps = np.flatnonzero(across | down)
        sx0, sy0, sx1, sy1 = ends.take(steps, axis=1)
        outside = steps[~((sx0 >= cx0) & (sx1 >= cx0) & (sx0 < cx1) & (sx1 < cx1)
                          & (sy0 >= cy0) & (sy1 >= cy0) & (sy0 < cy1) & (sy1 < cy1))]
        across[outside] = down[outside] = False
    here = flat | upright | across | down
    count = np.count_nonzero(here)
    if not worth_it(count, len(x0), 0):
        return none
    rows = _steps(x0, y0, x1, y1, flat, across)
    cols = _steps(y0, x0, y1, x1, upright, down)
    if not inside:
        rows = [_cut(*run, (cy0, cy1), (cx0, cx1)) for run in rows]
        cols = [_cut(*run, (cx0, cx1), (cy0, cy1)) for run in cols]
    rows = [run for run in rows if len(run[0])]
    cols = [run for run in cols if len(run[0])]
    rest = ends.take(np.flatnonzero(~here), axis=1)
    if not rows and not cols:
        return np.zeros((0, 0), bool), (cx0, cy0), rest
    xs = [part for line, first, last in rows for part in (first, last)] + [r[0] for r in cols]
    ys = [r[0] for r in rows] + [part for line, first, last in cols for part in (first, last)]
    left, top = min(int(x.min()) for x in xs), min(int(y.min()) for y in ys)
    shape = (max(int(y.max()) for y in ys) - top + 1, max(int(x.max()) for x in xs) - left + 1)
    if not worth_it(count, len(x0), shape[0] * shape[1]):
        return none
    mask = _runs(rows, (top, left), shape)
    if cols:
        mask |= _runs(cols, (left, top), shape[::-1]).T
    return mask, (left, top), rest


def worth_it(here: int, chords: int, area: int) -> bool:
    """Return whether ``here`` of ``chords`` chords are worth setting in a mask of ``area``
    pixels (0: not known yet) rather than drawn by Qt: at least ``FEW`` of them, at least
    half of all (else the sorting and drawing of the rest is most of the cost anyway), and a
    mask no larger than ``AREA_PER_CHORD`` pixels each (filling and painting a mask costs
    by its area: a few thousand chords spread over a 4K screen are cheaper drawn by Qt)."""
    return here >= FEW and 2 * here >= chords and area <= AREA_PER_CHORD * here


FEW = 2048  # fewer chords to set than this: Qt draws them all (less than a mask and image)
AREA_PER_CHORD = 256  # a mask larger than this many pixels a chord set: Qt draws them


def _cut(line, first, last, lines: tuple[int, int], along: tuple[int, int]) -> tuple:
    """Return the runs ``(line, first, last)`` cut to ``lines`` and ``along`` (from, to:
    the clip's range across and along them), those left empty dropped. Runs of one pixel
    each (``first is last``) stay so."""
    single = first is last
    first, last = np.maximum(first, along[0]), np.minimum(last, along[1] - 1)
    keep = np.flatnonzero((line >= lines[0]) & (line < lines[1]) & (first <= last))
    first = first.take(keep)  # (faster than a mask's)
    return line.take(keep), first, first if single else last.take(keep)


def _steps(x0, y0, x1, y1, flat, step) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Return the runs ``(line, first, last)`` along rows of the chords where ``flat``
    (along a row: all of it) and where ``step`` (one row down or up, and not along a
    column: the lower end alone in its row, every other pixel in the upper end's row), in
    three groups; the lower ends' group is of one pixel each (its ``first is last``).
    Called with x and y swapped for columns."""
    flat, step = np.flatnonzero(flat), np.flatnonzero(step)  # (take: ~3x a mask's speed)
    fx0, fx1 = x0.take(flat), x1.take(flat)
    runs = [(y0.take(flat), np.minimum(fx0, fx1), np.maximum(fx0, fx1))]
    if len(step):
        x0, y0, x1, y1 = x0.take(step), y0.take(step), x1.take(step), y1.take(step)
        lo, hi = np.minimum(x0, x1), np.maximum(x0, x1)
        right = (y1 > y0) == (x1 > x0)  # the lower end is the one further along (x0 != x1)
        upper = np.minimum(y0, y1)  # the lower end's row is the next: one row across
        lower_x = np.where(right, hi, lo)
        runs.append((upper + 1, lower_x, lower_x))
        runs.append((upper, lo + ~right, hi - right))  # all but the lower end's place
    return runs


def _runs(runs: list, corner: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Return a ``shape`` mask, its first pixel at (line, place) ``corner``, with ``runs``
    (groups ``(line, first, last)``, both ends included, all within it; a group of one
    pixel each has ``first is last``) set, at a cost by the pixels of the runs or by the
    mask's area, the lesser: each pixel of each run set by its place in the flat mask where
    the runs hold fewer pixels than the mask (a middle zoom: a few short runs spread wide),
    else each run's start counted +1 and the pixel after its end -1 along its line (one
    spare column per line), summed along the lines (far out: many long runs over each
    other)."""
    lines, length = shape
    top, left = corner
    total = sum(len(line) if first is last else
                int(last.sum(dtype=np.int64)) - int(first.sum(dtype=np.int64)) + len(line)
                for line, first, last in runs)
    if total < lines * length:
        mask = np.zeros(shape, bool)
        for line, first, last in runs:
            start = (line - top).astype(np.int64) * length + (first - left)
            if first is last:
                mask.ravel()[start] = True
                continue
            count = (last - first + 1).astype(np.int64)
            along = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
            mask.ravel()[np.repeat(start, count) + along] = True
        return mask
    width = length + 1
    size = lines * width
    step = np.zeros(size, np.int64)
    for line, first, last in runs:
        base = np.multiply(line, width, dtype=np.int64)  # each run's line's place
        base -= top * width + left
        starts = np.bincount(base + first, minlength=size)
        step += starts
        ends = starts if first is last else np.bincount(base + last, minlength=size)
        step[1:] -= ends[:-1]  # -1 at the pixel after each run's last
    return (np.cumsum(step) > 0).reshape(lines, width)[:, :length]


def line_runs(ends: np.ndarray, device: tuple[int, int], offset: tuple[int, int]
              ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Return ``(runs, rest)``: the pixels Qt's aliased one-pixel pen sets for the chords
    ``ends`` (four rows ``x0, y0, x1, y1`` of whole pixels, the painter's; ``offset``
    added gives the paint engine's device pixels) that Qt steps along x, as runs along
    rows ``(row, first, last)`` in the painter's pixels (both ends included, not cut to
    any clip), and the indices of the other chords (steeper than 45 degrees, or a point),
    for Qt to draw.

    The runs are Qt's own (``QCosmeticStroker::drawLine``, tested against Qt in
    ``tests/drawing/test_far_spans.py``): the chord cut in floats to the engine's whole
    device grown by a pixel and two (``device``: its width and height; a pixel set in view
    depends on where the chord was cut, not on the view), its ends in 26.6 fixed point,
    half a pixel added at each end (the pen's square cap), then one pixel a column with a
    16.16 fixed-point slope. A view far out steps Qt's pen over ~4 times the pixels it
    sets, and each run holds ~30 of them (the wide DAG: 1.17 M pixels, ~36,000 runs)."""
    x1, y1, x2, y2 = (np.asarray(row, dtype=np.float64) + shift
                      for row, shift in zip(ends, offset * 2))
    width, height = device
    point = (x1 == x2) & (y1 == y2)
    gone = point.copy()
    with np.errstate(divide="ignore", invalid="ignore"):  # (a row cut away: not read)
        x1, y1, x2, y2 = _clip_line(x1, y1, x2, y2, (-1.0, width + 1.0), gone)
        y1, x1, y2, x2 = _clip_line(y1, x1, y2, x2, (-1.0, height + 1.0), gone)
    kept = ~gone
    fixed = [np.trunc(np.where(kept, row, 0.0) * 64.0).astype(np.int64) for row in (x1, y1, x2, y2)]
    fx1, fy1, fx2, fy2 = fixed
    steep = np.abs(fx2 - fx1) < np.abs(fy2 - fy1)
    across = np.flatnonzero(kept & ~steep & (fx1 != fx2))
    rest = np.flatnonzero(point | (kept & steep))
    fx1, fy1, fx2, fy2 = (row.take(across) for row in fixed)
    swap = fx1 > fx2
    fx1, fx2 = np.where(swap, fx2, fx1), np.where(swap, fx1, fx2)
    fy1, fy2 = np.where(swap, fy2, fy1), np.where(swap, fy1, fy2)
    rise = (fy2 - fy1) << 16
    yinc = np.abs(rise) // (fx2 - fx1)  # C's division: toward zero
    yinc = np.where(rise < 0, -yinc, yinc)
    fx1 -= 32  # the caps: half a pixel more at each end
    fx2 += 32
    y = (fy1 << 10) - (yinc >> 1)
    x, xs = (fx1 + 32) >> 6, (fx2 + 32) >> 6
    y += (((x << 6) + np.where(yinc > 0, 32, 0) - fx1) * yinc) >> 6
    drawn = np.flatnonzero(x != xs)
    x, xs, y, yinc = x.take(drawn), xs.take(drawn), y.take(drawn), yinc.take(drawn)
    count = xs - x  # pixel k at (x + k, (y + k * yinc) >> 16), k < count
    first_row = y >> 16
    rows = np.abs(((y + (count - 1) * yinc) >> 16) - first_row) + 1
    chord = np.repeat(np.arange(len(x)), rows)
    j = np.arange(len(chord)) - np.repeat(np.cumsum(rows) - rows, rows)
    inc, chord_x = yinc.take(chord), x.take(chord)  # (each taken once: per paint)
    up = inc < 0
    row = first_row.take(chord) + np.where(up, -j, j)
    # each row's first k: going down the least k with y + k * inc >= row << 16, going up
    # the least with y + k * inc <= (row << 16) + 0xFFFF; both are ceil(target / inc)
    target = np.where(up, (row << 16) + 0xFFFF, row << 16) - y.take(chord)
    start = np.where(j == 0, 0, -(-target // np.where(inc == 0, 1, inc)))
    stop = np.empty_like(start)  # a row's run ends where the next one's starts
    stop[:-1] = start[1:]
    ends_here = np.ones(len(j), bool)
    ends_here[:-1] = j[1:] == 0
    stop[ends_here] = count.take(chord)[ends_here]
    first = chord_x + start
    return (row - offset[1], first - offset[0], chord_x + stop - 1 - offset[0]), rest


def line_pixels(ends: np.ndarray, clip: tuple[int, int, int, int],
                engine: tuple[tuple[int, int], tuple[int, int]]
                ) -> tuple[np.ndarray, tuple[int, int], np.ndarray] | None:
    """Return ``(mask, corner, rest)`` for chords ``ends`` (four rows of whole pixels):
    the pixels of the clip (``chord_pixels``' clip) that Qt's aliased one-pixel pen sets
    for those it steps along x (``line_runs``; ``engine``: its device's size and the
    painter's offset in it), the mask's first pixel at device pixel ``corner``, and the
    indices of the other chords, for Qt; None where Qt is cheaper (fewer than
    ``LINES_FEW`` chords, or runs holding fewer pixels than ``MASK_SHARE`` of the clip's:
    a mask is made and painted at a cost by its area)."""
    if len(ends[0]) < LINES_FEW:
        return None
    (row, first, last), rest = line_runs(ends, *engine)
    cx0, cy0, cx1, cy1 = clip
    row, first, last = _cut(row, first, last, (cy0, cy1), (cx0, cx1))
    shape = (cy1 - cy0, cx1 - cx0)
    if int(last.sum(dtype=np.int64)) - int(first.sum(dtype=np.int64)) + len(row) < \
            MASK_SHARE * shape[0] * shape[1]:
        return None
    return _runs([(row, first, last)], (cy0, cx0), shape), (cx0, cy0), rest


LINES_FEW = 512  # fewer chords than this left by chord_pixels: Qt draws them all
MASK_SHARE = 0.5  # runs holding fewer pixels than this share of the clip's: Qt draws them


def _clip_line(a1, b1, a2, b2, bounds: tuple[float, float], gone: np.ndarray) -> tuple:
    """Return lines ``a1, b1, a2, b2`` cut in floats to ``lo <= a <= hi`` along ``a`` as
    ``QCosmeticStroker::clipLine`` cuts them (the same operations in the same order), and
    mark in ``gone`` those it drops."""
    lo, hi = bounds
    low, high = a1 < lo, a1 > hi
    gone |= (low & (a2 <= lo)) | (high & (a2 >= hi))
    edge = np.where(low, lo, hi)
    cut = low | high
    b1 = np.where(cut, b1 + (b2 - b1) / (a2 - a1) * (edge - a1), b1)
    a1 = np.where(cut, edge, a1)
    low, high = a2 < lo, a2 > hi
    edge = np.where(low, lo, hi)
    cut = low | high
    b2 = np.where(cut, b2 + (b2 - b1) / (a2 - a1) * (edge - a2), b2)
    a2 = np.where(cut, edge, a2)
    return a1, b1, a2, b2
