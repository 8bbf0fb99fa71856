"""Where an edge's line, arrowhead and label go: plain numbers, shared by the Qt painting
(``qt_paint``) and the SVG writer (``svg_picture``), so both draw the same picture."""

from __future__ import annotations

import math

from gradstep.drawing import style

ARROW_LEN, ARROW_HALF = 8.0, 3.5


def shorten(a, b) -> tuple:
    """Return ``b`` moved back towards ``a`` by the arrow length (the arrowhead fills the gap)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length <= ARROW_LEN:
        return b
    return (b[0] - dx / length * ARROW_LEN * 0.9, b[1] - dy / length * ARROW_LEN * 0.9)


def smooth_segments(route: list) -> list[tuple]:
    """Return the pieces of a route drawn as a light spline: ``("L", end)`` for a
    two-point route, else ``("Q", bend, end)`` per bend, each bend rounded to the middle
    of the next segment (the last one ends where the arrowhead begins)."""
    if len(route) == 2:
        return [("L", shorten(route[0], route[1]))]
    pieces = []
    for i in range(1, len(route) - 1):
        mid = ((route[i][0] + route[i + 1][0]) / 2, (route[i][1] + route[i + 1][1]) / 2)
        if i == len(route) - 2:
            mid = shorten(route[i], route[i + 1])
        pieces.append(("Q", tuple(route[i]), mid))
    return pieces


def arrowhead(a, b) -> tuple[tuple, tuple, tuple]:
    """Return the three corners of the arrowhead of a segment ending at ``b``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    bx, by = b[0] - ux * ARROW_LEN, b[1] - uy * ARROW_LEN
    return ((b[0], b[1]), (bx - uy * ARROW_HALF, by + ux * ARROW_HALF),
            (bx + uy * ARROW_HALF, by - ux * ARROW_HALF))


def route_middle(route: list) -> tuple:
    """Return the point halfway along a polyline and the direction of its segment there."""
    lengths = [math.dist(a, b) for a, b in zip(route, route[1:])]
    half = sum(lengths) / 2
    for (a, b), seg in zip(zip(route, route[1:]), lengths):
        if half <= seg and seg > 0:
            t = half / seg
            return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t), (b[0] - a[0], b[1] - a[1])
        half -= seg
    return route[len(route) // 2], (0.0, 1.0)


def edge_label_box(route: list, text: str, side: int = 0) -> tuple[float, float, float, float]:
    """Return ``(x, y, width, height)`` of the pill an edge label is written on, beside the
    middle of the route: to its right where the edge runs up or down, above it where it
    runs sideways (a left-to-right layout), so the pill never covers the line or slides
    under the next box. For one of parallel edges ``side`` is the way it bows
    (``Layout.label_sides``): -1 puts the pill left of (or above) the line, 1 right of
    (or below) it, so the pills of two edges stay apart. A slanted line passes a corner
    of a pill centred on its middle, so the pill moves off it: out by the line's run
    over half the pill's height (up or down), along the line the way it falls away from
    the pill (sideways); a straight edge's pill is where it was."""
    return label_box_at(*route_middle(route), text, side)


def label_box_at(middle: tuple, direction: tuple, text: str, side: int = 0) -> tuple:
    """Return ``edge_label_box`` of a route whose middle is ``middle``, running there in
    ``direction`` (``route_middle``'s two)."""
    (x, y), (dx, dy) = middle, direction
    width = style.text_width(text, style.DETAIL_PX) + 8
    height = style.line_height(style.DETAIL_PX) + 2
    if abs(dx) > abs(dy):  # sideways: above the line, slid along it clear of the line
        slope = dy / dx
        slide = max(0.0, width / 2 - 3 / abs(slope)) if slope else 0.0
        slide = slide if (slope > 0) == (side <= 0) else -slide
        return (x - width / 2 + slide, y + 3 if side > 0 else y - height - 3, width, height)
    gap = 4 + (abs(dx / dy) * height / 2 if dy else 0.0)
    return (x - gap - width if side < 0 else x + gap, y - height / 2, width, height)


def parallel_sides(routes: dict, tb: bool) -> dict:
    """Return ``{(u, v, key): -1 or 1}`` for edges that join the same two nodes as others,
    by where each route's middle lies across the layout (x top-down, y left to right):
    the first half -1, the second 1, a middle one of an odd count none (its label keeps
    the usual side). ``routes`` may hold only the parallel edges (the layered layout
    knows them); Graphviz's ``dot`` routes are all looked at."""
    groups: dict = {}
    for key in routes:
        if key[0] != key[1] and routes[key]:
            groups.setdefault(key[:2], []).append(key)
    sides = {}
    for keys in groups.values():
        if len(keys) < 2:
            continue
        keys.sort(key=lambda k: route_middle(routes[k])[0][0 if tb else 1])
        half = (len(keys) - 1) / 2
        sides.update({k: -1 if i < half else 1 for i, k in enumerate(keys) if i != half})
    return sides
