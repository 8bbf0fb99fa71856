"""An SVG picture of a laid-out graph, written as text (no Qt).

The same drawing as the Qt painting (``qt_paint``, ``qt_scene``): boxes filled and bordered
by kind and backward state, the state glyph left of the title, text lines centred,
saved-tensor and device pills, edges as light splines with arrowheads (edges whose
source is done stroked over them in green), gradient labels on white pills. Qt's
SVG generator writes every state change of its painter as an element of its own (a
100,000-node graph: ~400 MB of SVG, 2 GB of memory, half a minute); this writes each
element once and streams it to the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from gradstep.drawing import edge_geometry, style
from gradstep.policies.gc_pause import without_gc

DONE_EDGE_STATES = ("done", "freed")
EDGES_PER_PATH = 512  # edges stroked by one <path> element
_BADGE_ROLES = ("saved", "freed", "device")  # lines written on a pill
_DASH = {"solid": None, "dash": (4, 2), "dot": (1, 2)}  # Qt's patterns, in pen widths
_BASELINE = 0.35  # DejaVu Sans: a line's baseline below its centre, in font sizes
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                          **{chr(c): " " for c in range(32) if c not in (9, 10, 13)}})


def _n(x: float) -> str:
    """A coordinate to two decimals, without trailing zeros (``12.5``, ``3``, ``0``)."""
    text = f"{x:.2f}"
    if text[-1] != "0":  # most coordinates (~2.5 M in a 100,000-node picture): nothing to strip
        return text
    text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-", "-0") else "0"


def content_box(layout, edge_labels: dict) -> tuple[float, float, float, float]:
    """Return ``(x0, y0, x1, y1)`` around every box, route and edge label."""
    x0, y0, x1, y1 = layout.bounds
    for key, text in edge_labels.items():
        route = layout.routes.get(key)
        if route:
            x, y, w, h = edge_geometry.edge_label_box(route, text)
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x + w), max(y1, y + h)
    return x0, y0, x1, y1


@without_gc
def write_svg(graph, layout, path, *, states: dict | None = None,
              edge_labels: dict | None = None, margin: float = 16.0,
              label_lines: dict | None = None) -> Path:
    """Write the picture of ``graph`` at ``layout`` to ``path``; return the path.

    ``label_lines`` maps nodes to their ``style.label_lines`` where these are made already
    (the layout's sizing of this same graph makes them: ``layout(..., label_lines=...)``);
    the lines of the other nodes are made here.
    """
    states = states or {}
    labels = {k: v for k, v in (edge_labels or {}).items() if v}
    x0, y0, x1, y1 = content_box(layout, labels)
    x0, y0, width, height = x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                  f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_n(width)}" '
                  f'height="{_n(height)}" viewBox="{_n(x0)} {_n(y0)} {_n(width)} {_n(height)}">\n'
                  "<title>gradstep graph</title>\n"
                  f"<desc>{graph.number_of_nodes()} nodes, {len(graph.edges)} edges</desc>\n"
                  f'<g font-family="{style.FONT_FAMILY}" text-anchor="middle">\n')
        done = {n for n, st in states.items() if st in DONE_EDGE_STATES}
        routes = layout.routes
        keys = [k for k, r in routes.items() if r and len(r) >= 2]
        _write_edges(out, routes, keys, style.EDGE, 1.2)
        _write_edges(out, routes, [k for k in keys if k[0] in done], style.EDGE_DONE, 2.0)
        _write_nodes(out, graph, layout, states, label_lines or {})
        for key, text in labels.items():
            route = routes.get(key)
            if route:
                out.write(_edge_label(route, text))
        out.write("</g>\n</svg>\n")
    return path


def _write_edges(out, routes: dict, keys: list, colour: str, width: float) -> None:
    """Write the edges ``keys`` as stroked lines and filled arrowheads, a few hundred per path."""
    for start in range(0, len(keys), EDGES_PER_PATH):
        lines, heads = [], []
        for key in keys[start:start + EDGES_PER_PATH]:
            route = routes[key]
            lines.append(f"M{_n(route[0][0])},{_n(route[0][1])}")
            for piece in edge_geometry.smooth_segments(route):
                lines.append(piece[0] + " ".join(f"{_n(x)},{_n(y)}" for x, y in piece[1:]))
            a, b, c = edge_geometry.arrowhead(route[-2], route[-1])
            heads.append(f"M{_n(a[0])},{_n(a[1])}L{_n(b[0])},{_n(b[1])}L{_n(c[0])},{_n(c[1])}Z")
        out.write(f'<path fill="none" stroke="{colour}" stroke-width="{_n(width)}" '
                  f'stroke-linecap="square" stroke-linejoin="bevel" d="{"".join(lines)}"/>\n'
                  f'<path fill="{colour}" stroke="none" d="{"".join(heads)}"/>\n')


def _write_nodes(out, graph, layout, states: dict, made_lines: dict) -> None:
    """Write every node's box and text lines, in the order of ``layout.positions``."""
    attrs_of, sizes, roots = graph.nodes, layout.sizes, style.root_ids(graph)
    boxes: dict = {}  # (state, root, kind) -> _Box: nodes share a few looks
    extents: dict = {}  # (w, h) -> the width and height attributes: nodes share a few sizes
    for node, (cx, cy) in layout.positions.items():
        w, h = sizes[node]
        attrs = attrs_of[node]
        state, kind = states.get(node, "pending"), attrs.get("kind")
        box = boxes.get((state, node in roots, kind))
        if box is None:
            box = boxes[state, node in roots, kind] = _box(attrs, state, node in roots)
        extent = extents.get((w, h))
        if extent is None:
            extent = extents[w, h] = f'width="{_n(w)}" height="{_n(h)}"'
        lines = made_lines.get(node)
        out.write(_node(lines if lines is not None else style.label_lines(attrs), box,
                        cx - w / 2, cy - h / 2, w, h, extent))


class _Box(NamedTuple):
    """What the nodes of one state, kind and root-ness share: the rectangle's attributes
    after its size, the inner border of a module box (None for others), the state glyph."""

    rect: str
    inner: str | None
    glyph: str
    glyph_colour: str


def _box(attrs: dict, state: str, is_root: bool) -> _Box:
    look = style.state_look(state)
    dash = _DASH.get(look.dash)
    stroke = (f'stroke="{look.border}" stroke-width="{_n(look.border_width)}" '
              'stroke-linecap="square"')  # Qt's pen: dots and dashes grow by half a width
    if dash:
        stroke += f' stroke-dasharray="{_n(dash[0] * look.border_width)},{_n(dash[1] * look.border_width)}"'
    fill = style.node_fill(attrs, is_root=is_root, state=state)
    inner = None
    if attrs.get("kind") == "module":  # a double border says "there is more inside"
        inner = f'rx="2" fill="none" {stroke}/>'
    return _Box(f'rx="3" fill="{fill}" {stroke}/>', inner, look.glyph, look.border)


def _node(lines, box: _Box, x: float, y: float, w: float, h: float, extent: str) -> str:
    """Return the elements of one node box: its rectangle, then its text ``lines``."""
    parts = [f'<rect x="{_n(x)}" y="{_n(y)}" {extent} {box.rect}']
    if box.inner:
        parts.append(f'<rect x="{_n(x + 3)}" y="{_n(y + 3)}" width="{_n(w - 6)}" '
                     f'height="{_n(h - 6)}" {box.inner}')
    top = y + h / 2 - sum(style.line_height(ln.px) for ln in lines) / 2
    glyph = box.glyph
    for i, line in enumerate(lines):
        height = style.line_height(line.px)
        left = x + style.GLYPH_W if i == 0 and glyph else x
        middle = (left + x + w) / 2
        role = line.role
        if role in _BADGE_ROLES:
            parts.append(_badge(line, middle, top, height))
        elif role == "title":
            parts.append(_text(line.text, middle, top + height / 2, line.px, style.TEXT, bold=True))
        else:
            parts.append(_text(line.text, middle, top + height / 2, line.px, style.MUTED_TEXT))
        if i == 0 and glyph:
            parts.append(_text(glyph, x + 3 + style.GLYPH_W / 2, top + height / 2,
                               style.TITLE_PX, box.glyph_colour, bold=True))
        top += height
    return "\n".join(parts) + "\n"


def _text(text: str, x: float, middle: float, px: int, colour: str, *, bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{_n(x)}" y="{_n(middle + _BASELINE * px)}" font-size="{px}"{weight} '
            f'fill="{colour}">{text.translate(_ESCAPES)}</text>')


def _badge(line, centre: float, top: float, height: float) -> str:
    """A saved (orange), freed (grey, dashed) or device (slate) line on a rounded pill."""
    width = style.text_width(line.text, line.px) + style.badge_pad(line.role)
    pill_h = height - 1
    radius = _n(pill_h / 2)
    box = (f'x="{_n(centre - width / 2)}" y="{_n(top + 0.5)}" width="{_n(width)}" '
           f'height="{_n(pill_h)}" rx="{radius}"')
    if line.role == "freed":
        pill = (f'<rect {box} fill="{style.FREED_BADGE}" stroke="{style.MUTED_TEXT}" '
                'stroke-width="0.8" stroke-dasharray="3.2,1.6" stroke-linecap="square"/>')
    else:
        colour = style.DEVICE_BADGE if line.role == "device" else style.SAVED_BADGE
        pill = f'<rect {box} fill="{colour}"/>'
    ink = "#ffffff" if line.role == "device" else style.TEXT
    return pill + _text(line.text, centre, top + height / 2, line.px, ink)


def _edge_label(route: list, text: str) -> str:
    x, y, w, h = edge_geometry.edge_label_box(route, text)
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="4" '
            f'fill="{style.EDGE_LABEL_BG}" stroke="{style.EDGE}" stroke-width="0.8"/>'
            + _text(text, x + w / 2, y + h / 2, style.DETAIL_PX, style.TEXT) + "\n")
