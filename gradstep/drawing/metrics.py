"""Measures of a drawing (pure): edge crossings, counted the same way for any layout engine."""

from __future__ import annotations

import numpy as np

from gradstep.drawing.layout import count_inversions


def edge_crossings(graph, positions: dict, *, rankdir: str = "TB") -> int:
    """Return how many pairs of edges cross, each edge a straight segment between node centres.

    The centres' coordinates across the layers (y for TB) define rank lines;
    every segment is cut at each rank line it passes, and two segments cross
    exactly when, between two neighbouring rank lines, their order swaps (a
    crossing lies between exactly one pair of lines). Segments meeting at a
    node do not count. Edges within one rank line are ignored.
    """
    axis = 1 if rankdir == "TB" else 0
    ends = [(u, v) for u, v in graph.edges() if u != v]
    if len(ends) < 2:
        return 0
    pu = np.asarray([positions[u] for u, _ in ends], dtype=float)
    pv = np.asarray([positions[v] for _, v in ends], dtype=float)
    levels = np.unique(np.round(np.r_[pu[:, axis], pv[:, axis]], 1))
    ru = np.searchsorted(levels, np.round(pu[:, axis], 1))
    rv = np.searchsorted(levels, np.round(pv[:, axis], 1))
    # endpoints sit exactly on their rank line, so segments meeting at a node meet exactly
    pu[:, axis], pv[:, axis] = levels[ru], levels[rv]
    top = np.minimum(ru, rv)
    span = np.abs(rv - ru)
    keep = span > 0
    pu, pv, ru, top, span = pu[keep], pv[keep], ru[keep], top[keep], span[keep]
    edge = np.repeat(np.arange(len(span)), span)
    gap = top[edge] + (np.arange(len(edge)) - np.repeat(np.cumsum(span) - span, span))
    a = _along_at(pu[edge], pv[edge], levels[gap], axis)
    b = _along_at(pu[edge], pv[edge], levels[gap + 1], axis)
    return count_inversions(gap, a, b)


def _along_at(p, q, level, axis):
    """Return the coordinate along the rank lines where segment p-q meets rank line ``level``."""
    other = 1 - axis
    t = (level - p[:, axis]) / (q[:, axis] - p[:, axis])
    return p[:, other] + t * (q[:, other] - p[:, other])
