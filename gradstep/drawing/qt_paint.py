"""Qt painting of nodes and edges, shared by the interactive scene and the exporters.

Everything is batched: a set of edge pieces is two QPainterPaths (lines and
arrowheads, made by ``path_from_elements`` from ``edge_pieces``), the nodes are painted in one loop over the ones
that are exposed (``scene.NodesItem``, which also draws the far-zoom plain boxes).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shiboken6
from PySide6 import QtCore, QtGui

from gradstep.drawing import edge_geometry, style

LABEL_LOD = 0.4  # below this zoom, node text is not drawn (unreadable anyway)
DETAIL_LOD = 0.15  # below this, nodes are plain filled rectangles without borders

_DASH = {"solid": QtCore.Qt.PenStyle.SolidLine, "dash": QtCore.Qt.PenStyle.DashLine,
         "dot": QtCore.Qt.PenStyle.DotLine}


@lru_cache(maxsize=16)
def font(px: int, bold: bool = False) -> QtGui.QFont:
    """Return DejaVu Sans at ``px`` pixels (the font style.py measures); made once per size."""
    f = QtGui.QFont(style.FONT_FAMILY)
    f.setPixelSize(px)
    f.setBold(bold)
    f.setStyleStrategy(QtGui.QFont.StyleStrategy.PreferAntialias)
    return f


def draw_lines(painter: QtGui.QPainter, lines: np.ndarray) -> None:
    """Draw ``lines`` (rows ``[x0, y0, x1, y1]``) with the painter's pen in one call: Qt's
    own array of QLineF is laid out as those rows of doubles, so it is handed the array's
    memory (what pyqtgraph does); ~40% faster far out than a path of the same lines."""
    lines = np.ascontiguousarray(lines, dtype=np.float64)
    if len(lines):
        painter.drawLines(shiboken6.wrapInstance(lines.ctypes.data, QtCore.QLineF), len(lines))


def path_from_elements(types, points) -> QtGui.QPainterPath:
    """Return the QPainterPath of elements ``types`` (``QPainterPath.ElementType`` values)
    at ``points`` (one row each), read in one call from Qt's own stream format (Python
    calls a piece cost ~2 us each; a view of a wide graph shows thousands of pieces)."""
    path = QtGui.QPainterPath()
    count = len(types)
    if count == 0:
        return path
    record = np.dtype([("type", ">i4"), ("x", ">f8"), ("y", ">f8")])
    data = np.empty(count, record)
    data["type"], data["x"], data["y"] = types, points[:, 0], points[:, 1]
    # QDataStream << QPainterPath: the count, the elements, then cStart and the fill rule
    raw = np.array([count], ">i4").tobytes() + data.tobytes() + bytes(8)
    stream = QtCore.QDataStream(QtCore.QByteArray(raw))
    stream >> path
    return path


def paint_edges(painter: QtGui.QPainter, lines, heads, colour: str, width: float) -> None:
    """Stroke ``lines`` and fill ``heads`` in ``colour``."""
    c = QtGui.QColor(colour)
    pen = QtGui.QPen(c, width)
    pen.setCosmetic(False)
    painter.setPen(pen)
    painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    painter.drawPath(lines)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(c)
    painter.drawPath(heads)


def edge_label_rect(route: list, text: str, side: int = 0) -> QtCore.QRectF:
    """Return the pill an edge label is written on (``edge_geometry.edge_label_box``)."""
    return QtCore.QRectF(*edge_geometry.edge_label_box(route, text, side))


def paint_edge_label(painter: QtGui.QPainter, rect: QtCore.QRectF, text: str) -> None:
    """Write ``text`` on its white pill ``rect`` (``edge_label_rect``)."""
    if not text:
        return
    painter.setFont(font(style.DETAIL_PX))
    painter.setPen(QtGui.QPen(QtGui.QColor(style.EDGE), 0.8))
    painter.setBrush(QtGui.QColor(style.EDGE_LABEL_BG))
    painter.drawRoundedRect(rect, 4, 4)
    painter.setPen(QtGui.QColor(style.TEXT))
    painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, text)


def paint_node(painter: QtGui.QPainter, rect: QtCore.QRectF, attrs: dict, *, state: str,
               is_root: bool, highlighted: bool, lod: float, dimmed: bool = False) -> None:
    """Paint one node box: fill and border by kind and state, the state glyph, its text lines.
    ``dimmed`` (outside the pass shown): fill and border paled (``style.dimmed_colour``), the
    words and the glyph in ``style.MUTED_TEXT``, the pills as they are."""
    look = style.state_look(state)
    fill = style.node_fill(attrs, is_root=is_root, state=state)
    if dimmed:
        fill = style.dimmed_colour(fill)
        look = _dimmed_look(look)
    fill = _colour(fill)
    if highlighted:
        painter.setPen(QtGui.QPen(QtGui.QColor(style.SEARCH_HIGHLIGHT), 4))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), 6, 6)
    pen = _border_pen(look.border, look.border_width, look.dash)
    solid = look.dash == "solid"  # else drawn as its dashes' outline (_dashed_border)
    painter.setPen(pen if solid else _NO_PEN)
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, 3, 3)
    if not solid:
        _dashed_border(painter, rect, 3, pen)
    if attrs.get("kind") == "module":  # a double border says "there is more inside"
        if solid:
            painter.setBrush(_NO_BRUSH)
            painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 2, 2)
        else:
            _dashed_border(painter, rect.adjusted(3, 3, -3, -3), 2, pen)
    if lod < LABEL_LOD:
        return
    _paint_lines(painter, rect, style.label_lines(attrs), state, look, dimmed)


@lru_cache(maxsize=16)
def _dimmed_look(look: style.StateLook) -> style.StateLook:
    """Return ``look`` with its border paled, as a box outside the pass shown has it."""
    return style.StateLook(look.fill, style.dimmed_colour(look.border), look.border_width,
                           look.dash, look.glyph, look.text)


_NO_PEN = QtCore.Qt.PenStyle.NoPen
_NO_BRUSH = QtCore.Qt.BrushStyle.NoBrush
_CENTRE = QtCore.Qt.AlignmentFlag.AlignCenter


@lru_cache(maxsize=64)
def _colour(name: str) -> QtGui.QColor:
    """Return the QColor of ``name`` (made once: a paint hands a box's colours to Qt, which
    copies them; none is changed)."""
    return QtGui.QColor(name)


@lru_cache(maxsize=64)
def _border_pen(colour: str, width: float, dash: str) -> QtGui.QPen:
    """Return the pen of a box's border (made once per look; Qt copies it when set)."""
    pen = QtGui.QPen(QtGui.QColor(colour), width)
    pen.setStyle(_DASH[dash])
    return pen


def _dashed_border(painter: QtGui.QPainter, rect: QtCore.QRectF, radius: float,
                   pen: QtGui.QPen) -> None:
    """Draw a dashed or dotted rounded border as the filled outline of its dashes.

    A dashed pen is dashed after the painter's clip is applied, so a repaint of a strip
    across the border (a step repaints only what changed) drew its dashes shifted
    against the rest of the border; the outline's dashes start where the path starts.
    """
    painter.save()
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(pen.color())
    painter.translate(rect.topLeft())
    painter.drawPath(_dash_outline(rect.width(), rect.height(), radius, pen.widthF(),
                                   pen.style()))
    painter.restore()


@lru_cache(maxsize=512)
def _dash_outline(width: float, height: float, radius: float, pen_width: float,
                  dash: QtCore.Qt.PenStyle) -> QtGui.QPainterPath:
    """Return the outline of the dashes of a rounded ``width`` x ``height`` border at the
    origin (made once per size: a view far out shows hundreds of freed boxes, and Qt's
    stroker took ~50 us each)."""
    path = QtGui.QPainterPath()
    path.addRoundedRect(QtCore.QRectF(0, 0, width, height), radius, radius)
    pen = QtGui.QPen(QtCore.Qt.GlobalColor.black, pen_width)
    pen.setStyle(dash)
    return QtGui.QPainterPathStroker(pen).createStroke(path)


def _paint_lines(painter: QtGui.QPainter, rect: QtCore.QRectF, lines: list, state: str,
                 look: style.StateLook, dimmed: bool = False) -> None:
    """Paint a node's text lines centred in ``rect``; the state glyph left of the title
    (``dimmed``: every word and the glyph in ``style.MUTED_TEXT``)."""
    title_ink = _colour(style.MUTED_TEXT if dimmed else style.TEXT)
    detail_ink = _colour(style.MUTED_TEXT)
    glyph_ink = _colour(style.MUTED_TEXT if dimmed else look.border)
    heights = [line.px * style.LINE_HEIGHT for line in lines]  # (style.line_height)
    y = rect.center().y() - sum(heights) / 2
    glyph = look.glyph
    left, width = rect.left(), rect.width()
    set_font = None  # the painter's font as this box set it last
    for i, (line, height) in enumerate(zip(lines, heights)):
        role = line.role
        f = font(line.px, role == "title")  # style sizes titles bold
        if f is not set_font:
            painter.setFont(f)
            set_font = f
        line_rect = QtCore.QRectF(left, y, width, height)
        if i == 0 and glyph:  # the title moves clear of the glyph (style sized the box for it)
            line_rect.setLeft(left + style.GLYPH_W)
        if role in style.BADGE_ROLES:
            _paint_badge(painter, line_rect, line)
        else:
            painter.setPen(title_ink if role == "title" else detail_ink)
            painter.drawText(line_rect, _CENTRE, line.text)
        if i == 0 and glyph:
            painter.setPen(glyph_ink)
            f = font(style.TITLE_PX, True)
            if f is not set_font:
                painter.setFont(f)
                set_font = f
            painter.drawText(QtCore.QRectF(left + 3, y, style.GLYPH_W, height), _CENTRE, glyph)
        y += height


def _paint_badge(painter: QtGui.QPainter, line_rect: QtCore.QRectF, line) -> None:
    """Paint a saved-tensors (orange), freed-tensors (grey, dashed) or device (slate) line
    on a rounded pill."""
    width = style.text_width(line.text, line.px) + style.badge_pad(line.role)
    pill = QtCore.QRectF(line_rect.center().x() - width / 2, line_rect.top() + 0.5,
                         width, line_rect.height() - 1)
    dark = line.role in style.DARK_BADGES
    if line.role == "freed":  # freed buffers: a grey dashed pill, not the orange of live ones
        painter.setPen(_freed_pen())
        painter.setBrush(_colour(style.FREED_BADGE))
    else:
        painter.setPen(_NO_PEN)
        painter.setBrush(_colour(style.CHANGED_BADGE if line.role in style.RED_ROLES else
                                 style.DEVICE_BADGE if dark else style.SAVED_BADGE))
    painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
    painter.setPen(_colour("#ffffff" if dark else style.TEXT))
    painter.drawText(pill, _CENTRE, line.text)




@lru_cache(maxsize=1)
def _freed_pen() -> QtGui.QPen:
    """Return the dashed pen of a freed-tensors pill (made once; Qt copies it when set)."""
    return QtGui.QPen(_colour(style.MUTED_TEXT), 0.8, QtCore.Qt.PenStyle.DashLine)
