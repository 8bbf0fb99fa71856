"""The size of a node's box (pure: no Qt): what the layout gives each node.

A box fits its label lines (``style.label_lines``) with the saved tensors both as
traced, all alive and all freed, so a step that frees them never overflows it.
``node_sizes`` sizes a whole graph: its nodes repeat (the same op, label, shape and
saved names over thousands of layers), so each distinct label is measured once.
"""

from __future__ import annotations

from gradstep.drawing.style import (
    GLYPH_W,
    MIN_H,
    MIN_W,
    PAD_X,
    PAD_Y,
    badge_pad,
    format_shape,
    format_small_value,
    line_height,
    lines_around_saved,
    saved_lines,
    saved_tensors,
    text_width,
)


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
    head, tail = lines_around_saved(attrs)
    if tail is None:  # a module box
        return lines_size(head)
    variants = [saved_lines(attrs)]
    tensors = saved_tensors(attrs)
    if tensors:
        for freed in (False, True):
            flipped = [dict(s, freed=freed) if s in tensors else s
                       for s in attrs.get("saved") or []]
            variants.append(saved_lines({"saved": flipped}))
    width, head_height = _lines_extent(head, 0)
    width = max(width, _lines_extent(tail, 0)[0])
    height = 0.0
    for saved in variants:
        saved_width, saved_height = _lines_extent(saved, head_height)
        width = max(width, saved_width)
        height = max(height, _lines_extent(tail, saved_height)[1])
    return _box(width, height)


def node_sizes(attrs_list) -> list[tuple[float, float]]:
    """Return ``[node_size(attrs) for attrs in attrs_list]``, each distinct label sized once."""
    sizes: dict = {}
    out = []
    for attrs in attrs_list:
        key = size_key(attrs)
        size = sizes.get(key) if key is not None else None
        if size is None:
            size = node_size(attrs)
            if key is not None:
                sizes[key] = size
        out.append(size)
    return out


def size_key(attrs: dict) -> tuple | None:
    """Return the texts ``node_size`` measures, as a key: two nodes with the same key get the
    same box. The texts of ``style.lines_around_saved`` (a leaf's title is its label, an
    op's its name with the label under it) and each saved tensor's name and whether it
    is freed; None for a module box (few: sized on their own)."""
    kind = attrs.get("kind", "op")
    if kind == "module":
        return None
    return (kind == "leaf", str(attrs.get("name") or attrs.get("id") or ""),
            str(attrs.get("label") or ""), format_shape(attrs.get("shape")),
            format_small_value(attrs.get("value")), str(attrs.get("device") or ""),
            tuple((str(s.get("name", "")), bool(s.get("freed"))) for s in saved_tensors(attrs)))
