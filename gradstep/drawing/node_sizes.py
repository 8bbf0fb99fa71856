"""The size of a node's box (pure: no Qt): what the layout gives each node.

A box fits its label lines (``style.label_lines``) with the saved tensors both as
traced, all alive and all freed, so a step that frees them never overflows it.
``node_sizes`` sizes a whole graph: its nodes repeat (the same op, label, shape and
saved names over thousands of layers), so each distinct label is measured once, and
labels that differ only in their small value (``= [1.5000, 2.0000]``: often each node's own)
share the measuring of all their other lines.
"""

from __future__ import annotations

from typing import NamedTuple

from gradstep.drawing.style import (
    DETAIL_PX,
    GLYPH_W,
    MIN_H,
    MIN_W,
    PAD_X,
    PAD_Y,
    Line,
    badge_pad,
    format_shape,
    format_small_value,
    line_height,
    lines_around_saved,
    lines_of_texts,
    saved_lines_of,
    saved_role,
    saved_tensors,
    text_width,
    value_line,
    written_text,
)
from gradstep.policies.complex_text import is_complex


def lines_size(lines) -> tuple[float, float]:
    """Return the (width, height) of a box holding ``lines``, padding and glyph column included."""
    width, height = _lines_extent(lines, 0)
    return _box(width, height)


def _lines_extent(lines, height: float) -> tuple[float, float]:
    """Return the width of the widest of ``lines``, and ``height`` plus their heights added
    one line after another (the order ``lines_size`` adds them in: the same float)."""
    width = 0.0  # a plain loop: sized once per distinct label of a 100,000-node graph
    for ln in lines:
        line_width = text_width(ln.text, ln.px, ln.role == "title") + badge_pad(ln.role)
        if line_width > width:
            width = line_width
        height += line_height(ln.px)
    return width, height


def _box(width: float, height: float) -> tuple[float, float]:
    return (max(MIN_W, width + 2 * PAD_X + GLYPH_W), max(MIN_H, height + 2 * PAD_Y))


def node_size(attrs: dict) -> tuple[float, float]:
    """Return the (width, height) of the box of a node with attributes ``attrs``: the largest
    ``lines_size(label_lines(...))`` of the node with its saved tensors as traced, all
    alive and all freed (the lines above and below them are measured once for the three)."""
    return node_sizes([attrs])[0]


def node_sizes(attrs_list, lines: list | None = None) -> list[tuple[float, float]]:
    """Return ``[node_size(attrs) for attrs in attrs_list]``, each distinct label sized once.

    With ``lines`` (a list), each node's ``style.label_lines`` are appended to it too, as a
    tuple that the nodes of one label share: a picture of the graph draws them without
    making them again (``svg_picture.write_svg``)."""
    frames: dict = {}  # (frame_texts, has a value) -> _Frame
    values: dict = {}  # the small values' texts, by their numbers (see _value_text)
    out = []
    for attrs in attrs_list:
        texts = frame_texts(attrs)
        if texts is None:  # a module box (few)
            head = lines_around_saved(attrs)[0]
            found = (lines_size(head), tuple(head))
        else:
            value = _value_text(attrs.get("value"), values)
            frame = frames.get((texts, not value))
            if frame is None:
                frame = frames[texts, not value] = _frame(*texts[:4], bool(value), *texts[4:])
            found = frame.measured.get(value)
            if found is None:
                found = frame.measured[value] = _measure(frame, value)
        out.append(found[0])
        if lines is not None:
            lines.append(found[1])
    return out


def _value_text(value, texts: dict) -> str:
    """Return ``format_small_value(value)``, kept in ``texts`` by the tuple of its data when
    that is floats, none zero: equal such floats are the same double, so they read the same
    (a zero is left out, as ``0.0 == -0.0`` and they read ``0.`` and ``-0.``; so is any other
    type, as ``1 == 1.0 == True``). The random DAG's 80,000 nodes hold ~21,000 of them."""
    data = value.get("data") if type(value) is dict else None
    if type(data) is not list:
        return format_small_value(value)
    key = tuple(data)
    # types first (before a look-up: (1, 2) == (1.0, 2.0)); then zeros, compared only with
    # floats (``0.0 in`` a tensor or array of many numbers raises; format_small_value doesn't)
    if set(map(type, key)) != _FLOAT or 0.0 in key or (
            len(key) == 2 and is_complex(value.get("dtype"))):  # [re, im]: not a real pair's text
        return format_small_value(value)
    text = texts.get(key)
    if text is None:
        text = texts[key] = format_small_value(value)
    return text


_FLOAT = {float}


class _Frame(NamedTuple):
    """The measure of a label less its value's text: the lines above the value line and
    those below it (saved tensors as traced, device), the widest of all its lines but the
    value line, and the height (the value line's included, when there is one); and what
    ``_measure`` gave for each value's text so far."""

    above: tuple
    below: tuple
    width: float
    height: float
    measured: dict


def _measure(frame: _Frame, value: str) -> tuple[tuple[float, float], tuple]:
    """Return the size and the label lines (a tuple) of the nodes of ``frame`` whose small
    value reads ``value`` ('' for none)."""
    if not value:
        return _box(frame.width, frame.height), frame.above + frame.below
    line = value_line(value)  # the widest line or not: a width only adds to a maximum
    width = max(frame.width, text_width(line.text, line.px, False) + badge_pad(line.role))
    return _box(width, frame.height), (*frame.above, line, *frame.below)


def _frame(is_leaf: bool, name: str, label: str, shape: str, has_value: bool, device: str,
           saved: tuple, written: str = "") -> _Frame:
    """Measure a label as ``node_size`` does, its value line (if any) stood in for by an
    empty line of the same height: the largest box over the saved tensors as traced, all
    alive and all freed (the lines above and below them are measured once for the three)."""
    above, tail = lines_of_texts(is_leaf, name, label, shape, "", device, written)
    head = above + [Line("", DETAIL_PX, "detail")] if has_value else above
    variants = [saved_lines_of(saved)]
    if saved:
        variants += [saved_lines_of([(n, role) for n, _ in saved]) for role in ("saved", "freed")]
    width, head_height = _lines_extent(head, 0)
    width = max(width, _lines_extent(tail, 0)[0])
    height = 0.0
    for lines in variants:
        saved_width, saved_height = _lines_extent(lines, head_height)
        width = max(width, saved_width)
        height = max(height, _lines_extent(tail, saved_height)[1])
    return _Frame(tuple(above), (*variants[0], *tail), width, height, {})


def size_key(attrs: dict) -> tuple | None:
    """Return the texts ``node_size`` measures, as a key: two nodes with the same key get the
    same box and the same lines. The texts of ``style.lines_of_texts`` (a leaf's title is
    its label, an op's its name with the label under it) and each saved tensor's name and
    whether it is freed; None for a module box (few: sized on their own)."""
    texts = frame_texts(attrs)
    if texts is None:
        return None
    return (*texts[:4], format_small_value(attrs.get("value")), *texts[4:])


def frame_texts(attrs: dict) -> tuple | None:
    """Return ``size_key`` less the small value's text: ``(is_leaf, name, label, shape,
    device, saved, written)`` (``style.written_text``); None for a module box."""
    kind = attrs.get("kind", "op")
    if kind == "module":
        return None
    saved = attrs.get("saved") and tuple([(str(s.get("name", "")), saved_role(s))
                                          for s in saved_tensors(attrs)])
    return (kind == "leaf", str(attrs.get("name") or attrs.get("id") or ""),
            str(attrs.get("label") or ""), format_shape(attrs.get("shape")),
            str(attrs.get("device") or ""), saved or (), written_text(attrs))
