"""The boxes that meet a rectangle, found by binary search rather than a test of every box."""

from __future__ import annotations

import numpy as np


class BoxIndex:
    """Axis-aligned boxes (rows of ``lo`` and ``hi`` corners) sorted by where they start on
    each axis, so the boxes that can meet a rectangle are one run of each order.

    A 100,000-node graph's view meets a few dozen boxes; testing all of them took ~0.5 ms
    a paint (every paint, however small its rectangle). The answer is the scan's: the same
    indices, ascending (the order the boxes are painted in).
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        self.lo, self.hi = lo, hi
        extent = hi - lo
        # the widest box along each axis: a box meeting [low, high] starts past low - reach
        self._reach = extent.max(axis=0) if len(lo) else np.zeros(2)
        self._order = [np.argsort(lo[:, axis], kind="stable") for axis in (0, 1)]
        # the corners in each order as four rows (lo x, lo y, hi x, hi y): a run of them is
        # four slices, not a gather of rows whose columns are then read strided
        self._sorted = [np.ascontiguousarray(np.concatenate([lo, hi], axis=1)[order].T)
                        for order in self._order]
        self._sorted_lo = [rows[axis] for axis, rows in enumerate(self._sorted)]
        self._corners = np.ascontiguousarray(np.concatenate([lo, hi], axis=1).T)
        # every box meets a rectangle reaching these (NaN where a corner is: none holds)
        self._all = (self._corners[2].min(), self._corners[3].min(),
                     self._corners[0].max(), self._corners[1].max()) if len(lo) else None

    @property
    def corners(self) -> np.ndarray:
        """The boxes' corners as four rows: lo x, lo y, hi x, hi y (not to be changed)."""
        return self._corners

    def meeting(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Return the indices (ascending) of the boxes that meet [x0, x1] x [y0, y1], edges
        included: ``hi >= (x0, y0)`` and ``lo <= (x1, y1)``."""
        every = self._all
        if every is not None and x0 <= every[0] and y0 <= every[1] and x1 >= every[2] and y1 >= every[3]:
            return np.arange(len(self.lo))  # the whole graph in view: the scan's answer
        runs = []
        for axis, (low, high) in enumerate(((x0, x1), (y0, y1))):
            # a few rounding steps below: hi - lo can round down (lo < 0 < hi), and a box
            # whose hi only touches low must still be in the run
            reach = self._reach[axis]
            start = low - reach - 4 * np.finfo(float).eps * (abs(low) + reach)
            begin = np.searchsorted(self._sorted_lo[axis], start, side="left")
            end = np.searchsorted(self._sorted_lo[axis], high, side="right")
            runs.append((end - begin, axis, begin, end))
        size, axis, begin, end = min(runs)
        # a part of the drawing: the shorter sorted run (not where a corner is NaN or
        # infinite: no reach is known then, and the scan below finds the same boxes)
        if 2 * size < len(self.lo) and np.isfinite(self._reach).all():
            run = self._order[axis][begin:end]
            lo_x, lo_y, hi_x, hi_y = self._sorted[axis][:, begin:end]
            hit = (hi_x >= x0) & (lo_x <= x1) & (hi_y >= y0) & (lo_y <= y1)
            return np.sort(run[hit])
        lo_x, lo_y, hi_x, hi_y = self._corners
        return np.flatnonzero((hi_x >= x0) & (lo_x <= x1) & (hi_y >= y0) & (lo_y <= y1))

    def meets(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Return ``len(meeting(x0, y0, x1, y1)) > 0``, sooner (a label's place, asked for
        each of a search's places: the boxes of the shorter run tested, nothing sorted)."""
        reach = self._reach
        if not len(self.lo) or not (reach[0] < np.inf and reach[1] < np.inf):
            return len(self.meeting(x0, y0, x1, y1)) > 0  # (none, or no reach known)
        eps = 4 * np.finfo(float).eps
        sorted_lo = self._sorted_lo
        bx = sorted_lo[0].searchsorted(x0 - reach[0] - eps * (abs(x0) + reach[0]), "left")
        ex = sorted_lo[0].searchsorted(x1, "right")
        by = sorted_lo[1].searchsorted(y0 - reach[1] - eps * (abs(y0) + reach[1]), "left")
        ey = sorted_lo[1].searchsorted(y1, "right")
        axis, begin, end = (0, bx, ex) if ex - bx <= ey - by else (1, by, ey)
        if end <= begin:
            return False
        lo_x, lo_y, hi_x, hi_y = self._sorted[axis][:, begin:end]
        return bool(((hi_x >= x0) & (lo_x <= x1) & (hi_y >= y0) & (lo_y <= y1)).any())

    def meet_any(self, rects: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Return, for each rectangle ``(x0, y0, x1, y1)`` (rows of ``rects``), True where some
        box meets it as ``meeting`` says (edges included): ``len(meeting(*rect)) > 0`` for
        each, in bulk (a 100,000-label jump asks once, not 100,000 times)."""
        rects = np.asarray(rects, float).reshape(-1, 4)
        found = np.zeros(len(rects), bool)
        if not len(self.lo) or not len(rects):
            return found
        if not np.isfinite(self._reach).all():  # (no reach known: each alone, as the scan)
            return np.array([len(self.meeting(*r)) > 0 for r in rects.tolist()], bool)
        for start in range(0, len(rects), chunk):
            part = rects[start:start + chunk]
            found[start:start + chunk] = self._meet_any_run(part)
        return found

    def _meet_any_run(self, rects: np.ndarray) -> np.ndarray:
        """``meet_any`` of a few thousand rectangles: each one's run of the boxes sorted on
        the axis whose runs are shorter in all, tested at once."""
        best = None
        for axis in (0, 1):
            low, high = rects[:, axis], rects[:, axis + 2]
            reach = self._reach[axis]
            start = low - reach - 4 * np.finfo(float).eps * (np.abs(low) + reach)
            begin = np.searchsorted(self._sorted_lo[axis], start, side="left")
            end = np.searchsorted(self._sorted_lo[axis], high, side="right")
            lengths = np.maximum(end - begin, 0)
            if best is None or lengths.sum() < best[0]:
                best = (lengths.sum(), axis, begin, lengths)
        total, axis, begin, lengths = best
        owner = np.repeat(np.arange(len(rects)), lengths)
        firsts = np.cumsum(lengths) - lengths
        at = np.arange(total) - np.repeat(firsts, lengths) + np.repeat(begin, lengths)
        lo_x, lo_y, hi_x, hi_y = self._sorted[axis][:, at]
        x0, y0, x1, y1 = rects[owner].T
        hit = (hi_x >= x0) & (lo_x <= x1) & (hi_y >= y0) & (lo_y <= y1)
        return np.bincount(owner[hit], minlength=len(rects)) > 0
