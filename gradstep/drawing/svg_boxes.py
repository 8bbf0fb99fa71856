"""The node boxes of the SVG picture: rectangle, state glyph, text lines, saved and device pills.

``node_text`` writes one node as plain Python; ``write_boxes`` writes the same bytes for
all nodes, many at a time: nodes of one shape (size, look, and the roles and pixel
sizes of their lines, the pill widths included) differ only in their position and
texts, so their numbers are computed in numpy, by the same operations in the same order
as ``node_text``'s (the same IEEE doubles), and written by ``svg_rows``, a block of
nodes at a time (its rows are written before the next block's are made, so the memory
stays that of a block). Coordinates and sizes that are not Python floats or ints (numpy
scalars would round otherwise) are written by ``node_text``.
"""

from __future__ import annotations

from itertools import chain
from operator import attrgetter, itemgetter
from typing import NamedTuple

import numpy as np

from gradstep.drawing import style
from gradstep.drawing.svg_numbers import two_decimals as _n
from gradstep.drawing.svg_rows import Rows, drop_nul, escaped, scatter

BADGE_ROLES = style.BADGE_ROLES  # lines written on a pill
_DASH = {"solid": None, "dash": (4, 2), "dot": (1, 2)}  # Qt's patterns, in pen widths
_BASELINE = 0.35  # DejaVu Sans: a line's baseline below its centre, in font sizes
_PLAIN = {float, int}  # coordinates written in numpy
_NODES_PER_BLOCK = 1 << 15


class Box(NamedTuple):
    """What the nodes of one state, kind and root-ness share: the rectangle's attributes
    after its size, the inner border of a module box (None for others), the state glyph,
    the title's colour."""

    rect: str
    inner: str | None
    glyph: str
    glyph_colour: str
    title_colour: str = style.TEXT


def box_look(attrs: dict, state: str, is_root: bool, dimmed: bool = False) -> Box:
    """Return the ``Box`` of a node with ``attrs`` in ``state``; ``dimmed`` (outside the pass
    shown): fill and border paled, title and glyph grey, as ``qt_paint.paint_node`` draws it."""
    look = style.state_look(state)
    dash = _DASH.get(look.dash)
    border = style.dimmed_colour(look.border) if dimmed else look.border
    stroke = (f'stroke="{border}" stroke-width="{_n(look.border_width)}" '
              'stroke-linecap="square"')  # Qt's pen: dots and dashes grow by half a width
    if dash:
        stroke += f' stroke-dasharray="{_n(dash[0] * look.border_width)},{_n(dash[1] * look.border_width)}"'
    fill = style.node_fill(attrs, is_root=is_root, state=state)
    if dimmed:
        fill = style.dimmed_colour(fill)
    inner = None
    if attrs.get("kind") == "module":  # a double border says "there is more inside"
        inner = f'rx="2" fill="none" {stroke}/>'
    if dimmed:
        return Box(f'rx="3" fill="{fill}" {stroke}/>', inner, look.glyph, style.MUTED_TEXT,
                   style.MUTED_TEXT)
    return Box(f'rx="3" fill="{fill}" {stroke}/>', inner, look.glyph, look.border)


def node_text(lines, box: Box, x: float, y: float, w: float, h: float, extent: str) -> str:
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
        if role in BADGE_ROLES:
            parts.append(_badge(line, middle, top, height))
        elif role == "title":
            parts.append(text(line.text, middle, top + height / 2, line.px, box.title_colour,
                              bold=True))
        else:
            parts.append(text(line.text, middle, top + height / 2, line.px, style.MUTED_TEXT))
        if i == 0 and glyph:
            parts.append(text(glyph, x + 3 + style.GLYPH_W / 2, top + height / 2,
                              style.TITLE_PX, box.glyph_colour, bold=True))
        top += height
    return "\n".join(parts) + "\n"


def text(words: str, x: float, middle: float, px: int, colour: str, *, bold: bool = False) -> str:
    """Return a ``<text>`` element centred on ``x``, its line's middle at ``middle``."""
    return f'<text x="{_n(x)}" y="{_n(middle + _BASELINE * px)}"{_text_tail(px, colour, bold)}{escaped(words)}</text>'


def _text_tail(px: int, colour: str, bold: bool) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return f' font-size="{px}"{weight} fill="{colour}">'


def _badge(line, centre: float, top: float, height: float) -> str:
    """A saved (orange), freed (grey, dashed) or device (slate) line on a rounded pill."""
    width = style.text_width(line.text, line.px) + style.badge_pad(line.role)
    pill_h = height - 1
    box = f'x="{_n(centre - width / 2)}" y="{_n(top + 0.5)}"{_pill_tail(line.role, width, pill_h)}'
    return f"<rect {box}" + text(line.text, centre, top + height / 2, line.px, _ink(line.role))


def _pill_tail(role: str, width: float, pill_h: float) -> str:
    """The attributes of a pill after its position, to the end of its ``<rect>``."""
    tail = f' width="{_n(width)}" height="{_n(pill_h)}" rx="{_n(pill_h / 2)}"'
    if role == "freed":
        return (tail + f' fill="{style.FREED_BADGE}" stroke="{style.MUTED_TEXT}" '
                'stroke-width="0.8" stroke-dasharray="3.2,1.6" stroke-linecap="square"/>')
    colour = (style.CHANGED_BADGE if role in style.RED_ROLES else
              {"device": style.DEVICE_BADGE, "during": style.DEVICE_BADGE,
               "unread": style.DEVICE_BADGE}.get(role, style.SAVED_BADGE))
    return tail + f' fill="{colour}"/>'


def _ink(role: str) -> str:
    return "#ffffff" if role in style.DARK_BADGES else style.TEXT


_ROLE_PX = attrgetter("role", "px")
_TEXT = attrgetter("text")


class _Encoded(dict):
    """text -> its escaped UTF-8, made at first use."""

    def __missing__(self, words: str) -> bytes:
        data = self[words] = escaped(words).encode("utf-8")
        return data


class _Shape:
    """The nodes of one shape: where they come in ``layout.positions``, and their lines."""

    def __init__(self, look: _Look, pill_widths: tuple) -> None:
        self.look, self.pill_widths = look, pill_widths
        self.order: list[int] = []
        self.lines: list = []


class _Look:
    """The nodes of one state, root-ness, kind, size and kinds of lines (role, pixel size):
    one shape, or one per set of pill widths where lines are on pills."""

    def __init__(self, attrs: dict, key: tuple) -> None:
        self.attrs, (self.state, self.is_root, _, self.w, self.h, self.kinds) = attrs, key
        self.pills = [j for j, kind in enumerate(self.kinds) if kind[0] in BADGE_ROLES]
        self.widths: list[dict] = [{} for _ in self.pills]  # per pill: text -> width
        self.shapes: dict = {}  # pill widths -> _Shape
        self.shape = _Shape(self, ()) if not self.pills else None

    def shape_of(self, lines) -> _Shape:
        """The shape of a node of this look with these ``lines``."""
        widths = []
        for j, known in zip(self.pills, self.widths):
            line = lines[j]
            width = known.get(line.text)
            if width is None:
                width = known[line.text] = style.text_width(line.text, line.px) + style.badge_pad(line.role)
            widths.append(width)
        widths = tuple(widths)
        shape = self.shapes.get(widths)
        if shape is None:
            shape = self.shapes[widths] = _Shape(self, widths)
        return shape


def write_boxes(out, graph, layout, states: dict, made_lines: dict, dimmed: bool = False) -> None:
    """Write every node's box and text lines (UTF-8 bytes to ``out``), in the order of
    ``layout.positions``: the bytes ``node_text`` writes, many nodes at a time (a block of
    them at a time: its rows are written before the next block's are made); ``dimmed``:
    all of them paled (``box_look``)."""
    centres, sizes = layout.positions.values(), layout.sizes
    sized = list(map(sizes.__getitem__, layout.positions))
    if not (set(map(len, centres)) <= {2} and set(map(len, sized)) <= {2}
            and set(map(type, chain.from_iterable(centres))) <= _PLAIN
            and set(map(type, chain.from_iterable(sized))) <= _PLAIN):
        _write_plainly(out, graph, layout, states, made_lines, dimmed)
        return
    xy = np.fromiter(chain.from_iterable(centres), np.float64, 2 * len(centres)).reshape(-1, 2)
    nodes, roots, encoded = list(layout.positions), style.root_ids(graph), _Encoded()
    for start in range(0, len(nodes), _NODES_PER_BLOCK):
        block = nodes[start:start + _NODES_PER_BLOCK]
        out.write(drop_nul(_block_rows(graph, block, xy[start:start + len(block)], sized[start:],
                                       states, made_lines, roots, encoded, dimmed)))


def _block_rows(graph, nodes: list, xy: np.ndarray, sized: list, states: dict, made_lines: dict,
                roots: set, encoded: _Encoded, dimmed: bool = False) -> list[bytes]:
    """The rows of ``nodes`` (centred at ``xy``, sized ``sized``), in their order."""
    attrs_of, looks = graph._node, {}
    for i, (node, (w, h)) in enumerate(zip(nodes, sized)):
        attrs = attrs_of[node]
        lines = made_lines.get(node)
        if lines is None:
            lines = style.label_lines(attrs)
        key = (states.get(node, "pending"), node in roots, attrs.get("kind"), w, h,
               tuple(map(_ROLE_PX, lines)))
        look = looks.get(key)
        if look is None:
            look = looks[key] = _Look(attrs, key)
        shape = look.shape or look.shape_of(lines)
        shape.order.append(i)
        shape.lines.append(lines)
    rows, written = Rows(), []
    for look in looks.values():
        box = box_look(look.attrs, look.state, look.is_root, dimmed)
        for shape in ([look.shape] if look.shape else look.shapes.values()):
            order = np.array(shape.order)
            pieces = _pieces(rows, shape, box, xy[order, 0], xy[order, 1], encoded)
            written.append((order, rows.shape(len(order), pieces)))
    made = rows.write()
    return scatter(len(nodes), [(order, made[index]) for order, index in written])


def _pieces(rows: Rows, shape: _Shape, box: Box, cx: np.ndarray, cy: np.ndarray,
            encoded: _Encoded) -> list:
    """The pieces of ``node_text`` for the nodes of ``shape`` centred at ``cx``, ``cy``:
    the same operations on arrays."""
    w, h, kinds = shape.look.w, shape.look.h, shape.look.kinds
    x = cx - w / 2
    y = cy - h / 2
    pieces = ['<rect x="', rows.number(x), '" y="', rows.number(y),
              f'" width="{_n(w)}" height="{_n(h)}" {box.rect}']
    if box.inner:
        pieces += ['\n<rect x="', rows.number(x + 3), '" y="', rows.number(y + 3),
                   f'" width="{_n(w - 6)}" height="{_n(h - 6)}" {box.inner}']
    top = y + h / 2 - sum(style.line_height(kind[1]) for kind in kinds) / 2
    glyph = box.glyph
    for i, kind in enumerate(kinds):
        role, px = kind[0], kind[1]
        height = style.line_height(px)
        left = x + style.GLYPH_W if i == 0 and glyph else x
        middle = (left + x + w) / 2
        words = rows.text(list(map(encoded.__getitem__, map(_TEXT, map(itemgetter(i), shape.lines)))))
        if role in BADGE_ROLES:
            width = shape.pill_widths[shape.look.pills.index(i)]
            pieces += ['\n<rect x="', rows.number(middle - width / 2), '" y="',
                       rows.number(top + 0.5), '"' + _pill_tail(role, width, height - 1)]
            pieces += _text_pieces(rows, words, middle, top + height / 2, px, _ink(role), False)
        else:
            title = role == "title"
            pieces += ["\n"] + _text_pieces(rows, words, middle, top + height / 2, px,
                                            box.title_colour if title else style.MUTED_TEXT, title)
        if i == 0 and glyph:
            pieces += ["\n"] + _text_pieces(rows, escaped(glyph), x + 3 + style.GLYPH_W / 2,
                                            top + height / 2, style.TITLE_PX, box.glyph_colour, True)
        top = top + height
    return pieces + ["\n"]


def _text_pieces(rows: Rows, words, x, middle, px: int, colour: str, bold: bool) -> list:
    """The pieces of ``text``: ``words`` one per node (``rows.text``) or the same for all."""
    return ['<text x="', rows.number(x), '" y="', rows.number(middle + _BASELINE * px),
            '"' + _text_tail(px, colour, bold), words, "</text>"]


def _write_plainly(out, graph, layout, states: dict, made_lines: dict, dimmed: bool = False) -> None:
    """``write_boxes`` one node at a time, with ``node_text``."""
    attrs_of, sizes, roots = graph.nodes, layout.sizes, style.root_ids(graph)
    boxes: dict = {}  # (state, root, kind) -> Box: nodes share a few looks
    for node, (cx, cy) in layout.positions.items():
        w, h = sizes[node]
        attrs = attrs_of[node]
        state, kind = states.get(node, "pending"), attrs.get("kind")
        box = boxes.get((state, node in roots, kind))
        if box is None:
            box = boxes[state, node in roots, kind] = box_look(attrs, state, node in roots, dimmed)
        lines = made_lines.get(node)
        out.write(node_text(lines if lines is not None else style.label_lines(attrs), box,
                            cx - w / 2, cy - h / 2, w, h,
                            f'width="{_n(w)}" height="{_n(h)}"').encode("utf-8"))
