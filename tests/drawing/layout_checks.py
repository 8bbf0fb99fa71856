"""Checks shared by the layout tests: boxes never overlap, routes join their boxes."""

import numpy as np

TOL = 1e-6


def assert_no_overlap(lay):
    """Every pair of boxes is disjoint (checked per rank, sorted by position: O(n log n))."""
    names = list(lay.positions)
    xy = np.asarray([lay.positions[n] for n in names])
    wh = np.asarray([lay.sizes[n] for n in names])
    order = np.lexsort((xy[:, 0], xy[:, 1]))
    for i, j in zip(order[:-1], order[1:]):
        if abs(xy[i, 1] - xy[j, 1]) < (wh[i, 1] + wh[j, 1]) / 2:
            assert abs(xy[i, 0] - xy[j, 0]) >= (wh[i, 0] + wh[j, 0]) / 2 - TOL, (names[i], names[j])
    ranks = sorted(set(np.round(xy[:, 1], 6)))
    for r0, r1 in zip(ranks, ranks[1:]):  # boxes of different ranks never overlap vertically
        top = xy[np.isclose(xy[:, 1], r0)]
        low = xy[np.isclose(xy[:, 1], r1)]
        h0 = wh[np.isclose(xy[:, 1], r0), 1].max() / 2
        h1 = wh[np.isclose(xy[:, 1], r1), 1].max() / 2
        assert top[0, 1] + h0 <= low[0, 1] - h1 + TOL


def on_border(point, centre, size):
    """True when ``point`` lies on the border of the box (within a small tolerance)."""
    dx, dy = abs(point[0] - centre[0]), abs(point[1] - centre[1])
    hw, hh = size[0] / 2, size[1] / 2
    inside = dx <= hw + 1e-6 and dy <= hh + 1e-6
    return inside and (abs(dx - hw) < 1e-6 or abs(dy - hh) < 1e-6)


def assert_routes_join_boxes(graph, lay):
    assert set(lay.routes) == set(graph.edges(keys=True))
    for (u, v, _), route in lay.routes.items():
        assert len(route) >= 2
        assert on_border(route[0], lay.positions[u], lay.sizes[u]), (u, v, route)
        assert on_border(route[-1], lay.positions[v], lay.sizes[v]), (u, v, route)
