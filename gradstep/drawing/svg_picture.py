"""An SVG picture of a laid-out graph, written as text (no Qt).

The same drawing as the Qt painting (``qt_paint``, ``qt_scene``): boxes filled and bordered
by kind and backward state, the state glyph left of the title, text lines centred,
saved-tensor and device pills, edges as light splines with arrowheads (edges whose
source is done stroked over them in green), gradient labels on white pills. Qt's
SVG generator writes every state change of its painter as an element of its own (a
100,000-node graph: ~400 MB of SVG, 2 GB of memory, half a minute); this writes each
element once and streams it to the file. The edges' path data come from ``svg_edges``,
the node boxes from ``svg_boxes``, both many elements at a time (``svg_rows``: the
100,000-node chain's picture ~3.4 -> ~1.4 s CPU, the same bytes).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from gradstep.drawing import style, svg_boxes, svg_edges
from gradstep.drawing.formats import shown_size
from gradstep.drawing.graph_files import edge_count
from gradstep.drawing.label_places import place_labels
from gradstep.drawing.svg_numbers import two_decimals as _n
from gradstep.drawing.svg_rows import drop_nul
from gradstep.policies.gc_pause import without_gc

__all__ = ["DONE_EDGE_STATES", "EDGES_PER_BLOCK", "EDGES_PER_PATH", "content_box", "write_svg"]

DONE_EDGE_STATES = ("done", "freed")
EDGES_PER_PATH = 512  # edges stroked by one <path> element
EDGES_PER_BLOCK = 64 * EDGES_PER_PATH  # edges whose path data are made together


def content_box(layout, label_boxes: dict) -> tuple[float, float, float, float]:
    """Return ``(x0, y0, x1, y1)`` around every box, route and edge label (``label_boxes``:
    ``label_places.place_labels``)."""
    x0, y0, x1, y1 = layout.bounds
    for x, y, w, h in label_boxes.values():
        x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x + w), max(y1, y + h)
    return x0, y0, x1, y1


@without_gc
def write_svg(graph, layout, path, *, states: dict | None = None,
              edge_labels: dict | None = None, margin: float = 16.0,
              label_lines: dict | None = None, dimmed=(), size: float = 1.0) -> Path:
    """Write the picture of ``graph`` at ``layout`` to ``path``; return the path.

    ``label_lines`` maps nodes to their ``style.label_lines`` where these are made already
    (the layout's sizing of this same graph makes them: ``layout(..., label_lines=...)``);
    the lines of the other nodes are made here. The boxes of ``dimmed`` are paled, as the
    window and a PNG draw a node outside the pass shown (``svg_boxes.box_look``). The
    SVG's ``width`` and ``height`` are ``size`` times its drawing's (``--scale``): the
    ``viewBox``, in the drawing's units, is the same at every size.
    """
    states = states or {}
    labels = {k: v for k, v in (edge_labels or {}).items() if v}
    label_boxes = place_labels(layout, labels)  # the window's places: none overlaps
    x0, y0, x1, y1 = content_box(layout, label_boxes)
    x0, y0, width, height = x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin
    path = Path(path)
    # its width and height, ``size`` times the drawing's (checked: not inf, not 0)
    shown_width, shown_height = shown_size(width, height, size) if size != 1.0 else (width, height)
    with path.open("wb") as out:  # UTF-8, lines end in "\n" on every system
        out.write('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                  f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
                  f'width="{_n(shown_width)}" height="{_n(shown_height)}" '
                  f'viewBox="{_n(x0)} {_n(y0)} {_n(width)} {_n(height)}">\n'
                  "<title>gradstep graph</title>\n"
                  f"<desc>{graph.number_of_nodes()} nodes, {edge_count(graph)} edges</desc>\n"
                  f'<g font-family="{style.SVG_FONT_FAMILY}" text-anchor="middle">\n'.encode())
        done = {n for n, st in states.items() if st in DONE_EDGE_STATES}
        routes = layout.routes
        keys = [k for k, r in routes.items() if r and len(r) >= 2]
        _write_edges(out, routes, keys, style.EDGE, 1.2)
        _write_edges(out, routes, [k for k in keys if k[0] in done], style.EDGE_DONE, 2.0)
        if dimmed:
            faded = SimpleNamespace(positions={n: p for n, p in layout.positions.items()
                                               if n in dimmed}, sizes=layout.sizes)
            kept = SimpleNamespace(positions={n: p for n, p in layout.positions.items()
                                              if n not in dimmed}, sizes=layout.sizes)
            svg_boxes.write_boxes(out, graph, kept, states, label_lines or {})
            out.write(b'<g class="dimmed">\n')  # outside the pass shown: paled, opaque
            svg_boxes.write_boxes(out, graph, faded, states, label_lines or {}, dimmed=True)
            out.write(b"</g>\n")
        else:
            svg_boxes.write_boxes(out, graph, layout, states, label_lines or {})
        for key, text in labels.items():
            box = label_boxes.get(key)
            if box:
                out.write(_edge_label(box, text).encode("utf-8"))
        out.write(b"</g>\n</svg>\n")
    return path


def _write_edges(out, routes: dict, keys: list, colour: str, width: float) -> None:
    """Write the edges ``keys`` as stroked lines and filled arrowheads, a few hundred per
    path (their path data made by ``svg_edges``, a block of paths at a time)."""
    stroke = (f'<path fill="none" stroke="{colour}" stroke-width="{_n(width)}" '
              'stroke-linecap="square" stroke-linejoin="bevel" d="').encode()
    fill = f'"/>\n<path fill="{colour}" stroke="none" d="'.encode()
    for block in range(0, len(keys), EDGES_PER_BLOCK):
        lines, heads = svg_edges.edge_rows(routes, keys[block:block + EDGES_PER_BLOCK])
        for start in range(0, len(lines), EDGES_PER_PATH):
            out.write(stroke + drop_nul(lines[start:start + EDGES_PER_PATH]) + fill
                      + drop_nul(heads[start:start + EDGES_PER_PATH]) + b'"/>\n')


def _edge_label(box: tuple, text: str) -> str:
    x, y, w, h = box
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="4" '
            f'fill="{style.EDGE_LABEL_BG}" stroke="{style.EDGE}" stroke-width="0.8"/>'
            + svg_boxes.text(text, x + w / 2, y + h / 2, style.DETAIL_PX, style.TEXT) + "\n")
