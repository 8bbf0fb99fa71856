"""Media-style icons drawn in the palette's text colour, so they read on light and dark themes;
and gradstep's own icon."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui

from gradstep.shipped import ICON, resource

SIZE = 32
# each shape: polygons (x, y in 0..1) and bars (x0, x1)
_SHAPES = {
    "first": ([[(0.85, 0.15), (0.85, 0.85), (0.35, 0.5)]], [(0.15, 0.28)]),
    "back": ([[(0.5, 0.15), (0.5, 0.85), (0.05, 0.5)], [(0.95, 0.15), (0.95, 0.85), (0.5, 0.5)]], []),
    "forward": ([[(0.05, 0.15), (0.05, 0.85), (0.5, 0.5)], [(0.5, 0.15), (0.5, 0.85), (0.95, 0.5)]], []),
    "last": ([[(0.15, 0.15), (0.15, 0.85), (0.65, 0.5)]], [(0.72, 0.85)]),
    "play": ([[(0.2, 0.1), (0.2, 0.9), (0.88, 0.5)]], []),
}


def glyph_icon(name: str, palette: QtGui.QPalette) -> QtGui.QIcon:
    """Return the icon ``name`` (first, back, forward, last, play) in the palette's colours."""
    icon = QtGui.QIcon()
    groups = {QtGui.QIcon.Mode.Normal: QtGui.QPalette.ColorGroup.Active,
              QtGui.QIcon.Mode.Disabled: QtGui.QPalette.ColorGroup.Disabled}
    for mode, group in groups.items():
        colour = palette.color(group, QtGui.QPalette.ColorRole.ButtonText)
        icon.addPixmap(_draw(name, colour), mode)
    return icon


def _draw(name: str, colour: QtGui.QColor) -> QtGui.QPixmap:
    polygons, bars = _SHAPES[name]
    pixmap = QtGui.QPixmap(SIZE, SIZE)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    for points in polygons:
        painter.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(x * SIZE, y * SIZE) for x, y in points]))
    for x0, x1 in bars:
        painter.drawRect(QtCore.QRectF(x0 * SIZE, 0.15 * SIZE, (x1 - x0) * SIZE, 0.7 * SIZE))
    painter.end()
    return pixmap


def app_icon() -> QtGui.QIcon:
    """Return gradstep's own icon (``gradstep/resources/icons/gradstep.svg``, shipped in the wheel)."""
    shipped = resource(ICON)
    if isinstance(shipped, Path):  # any install on disk: Qt's SVG engine draws it sharp at every size
        return QtGui.QIcon(str(shipped))
    pixmap = QtGui.QPixmap()  # inside a zip: one picture, scaled
    pixmap.loadFromData(shipped.read_bytes(), "SVG")
    return QtGui.QIcon(pixmap)
