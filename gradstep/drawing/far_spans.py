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

    mask, rest = chord_pixels(ends, (x0, y0, x1, y1))   # the clip: pixels x0 <= x < x1 ...
"""

from __future__ import annotations

import numpy as np

SPAN_PX = 64  # a chord that steps one pixel across is set here up to this long (Qt's
# fixed-point slope puts the step elsewhere past ~190 pixels)


def chord_pixels(ends: np.ndarray, clip: tuple[int, int, int, int]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return (mask, rest): ``mask`` (rows ``y0 .. y1 - 1`` of the clip, columns
    ``x0 .. x1 - 1``) holds the pixels Qt's aliased one-pixel pen sets for the chords of
    ``ends`` (rows ``[x0, y0, x1, y1]``, whole device pixels) it sets by the rule above;
    ``rest`` are the other chords, for Qt to draw."""
    cx0, cy0, cx1, cy1 = clip
    width, height = max(cx1 - cx0, 0), max(cy1 - cy0, 0)
    x0, y0, x1, y1 = (ends[:, k].astype(np.int32) for k in range(4))
    dx, dy = np.abs(x1 - x0), np.abs(y1 - y0)
    inside = ((x0 >= cx0) & (x1 >= cx0) & (x0 < cx1) & (x1 < cx1)
              & (y0 >= cy0) & (y1 >= cy0) & (y0 < cy1) & (y1 < cy1))
    # along a row, or a one-pixel step across it; along a column, or a step across it
    flat, upright = dy == 0, (dx == 0) & (dy != 0)
    across = (dy == 1) & (dx >= 1) & (dx <= SPAN_PX) & inside
    down = (dx == 1) & (dy >= 2) & (dy <= SPAN_PX) & inside
    rest = ends[~(flat | upright | across | down)]
    mask = _runs(*_steps(x0, y0, x1, y1, flat, across), (cy0, cx0), (height, width))
    mask |= _runs(*_steps(y0, x0, y1, x1, upright, down), (cx0, cy0), (width, height)).T
    return mask, rest


def _steps(x0, y0, x1, y1, flat, step) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the runs ``(line, first, last)`` along rows of the chords where ``flat``
    (along a row: all of it) and where ``step`` (one row down or up: the lower end alone
    in its row, every other pixel in the upper end's row). Called with x and y swapped
    for columns."""
    fy, fx0, fx1 = y0[flat], x0[flat], x1[flat]
    x0, y0, x1, y1 = x0[step], y0[step], x1[step], y1[step]
    lower = y1 > y0
    xl, xu = np.where(lower, x1, x0), np.where(lower, x0, x1)
    back = xl - np.sign(xl - xu)
    return (np.concatenate([fy, np.maximum(y0, y1), np.minimum(y0, y1)]),
            np.concatenate([np.minimum(fx0, fx1), xl, np.minimum(xu, back)]),
            np.concatenate([np.maximum(fx0, fx1), xl, np.maximum(xu, back)]))


def _runs(line, first, last, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Return a ``shape`` mask with runs ``(line, first, last)`` (both ends included) set,
    cut to the mask: each run's start counted +1 and the pixel after its end -1 along its
    line (one spare column per line), summed along the lines."""
    lines, length = shape
    line = line - origin[0]
    first = np.maximum(first - origin[1], 0)
    last = np.minimum(last - origin[1], length - 1)
    keep = (line >= 0) & (line < lines) & (first <= last)
    at = line[keep].astype(np.int64) * (length + 1)
    size = lines * (length + 1)
    count = (np.bincount(at + first[keep], minlength=size).astype(np.int32)
             - np.bincount(at + last[keep] + 1, minlength=size).astype(np.int32))
    return (np.cumsum(count) > 0).reshape(lines, length + 1)[:, :length]
