"""The node boxes of a paint: drawn as box-by-box painting draws them, with less Python."""

import pytest

pytest.importorskip("PySide6")
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gradstep.drawing import qt_paint, qt_scene, samples, style  # noqa: E402
from gradstep.drawing.collapse import collapse_scopes  # noqa: E402
from gradstep.drawing.layout import layout  # noqa: E402
from gradstep.drawing.qt_scene import GraphScene  # noqa: E402

DASHES = {"solid": QtCore.Qt.PenStyle.SolidLine, "dash": QtCore.Qt.PenStyle.DashLine,
          "dot": QtCore.Qt.PenStyle.DotLine}


def box_by_box(painter, scene, shown, lod) -> None:
    """Paint the boxes as the window did until 2026-12-04 (docs/speed.md item 40): every
    colour, pen and font made and set again for each box and line; a box outside the pass
    shown (``scene.dimmed``) with its fill and border paled and its words grey."""
    for i in shown:
        node = scene.node_ids[i]
        attrs = scene.attrs[i]
        if node in scene.saved:
            attrs = {**attrs, "saved": scene.saved[node]}
        faded = node in scene.dimmed
        rect, state = scene.rect_of(i), scene.states.get(node, "pending")
        look = style.state_look(state)
        pale = style.dimmed_colour if faded else str
        if node in scene.highlight:
            painter.setPen(QtGui.QPen(QtGui.QColor(style.SEARCH_HIGHLIGHT), 4))
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), 6, 6)
        pen = QtGui.QPen(QtGui.QColor(pale(look.border)), look.border_width)
        pen.setStyle(DASHES[look.dash])
        solid = look.dash == "solid"
        painter.setPen(pen if solid else QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(pale(style.node_fill(attrs, is_root=node in scene.roots,
                                                           state=state))))
        painter.drawRoundedRect(rect, 3, 3)
        if not solid:
            qt_paint._dashed_border(painter, rect, 3, pen)
        if attrs.get("kind") == "module":
            if solid:
                painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 2, 2)
            else:
                qt_paint._dashed_border(painter, rect.adjusted(3, 3, -3, -3), 2, pen)
        if lod < qt_paint.LABEL_LOD:
            continue
        lines = style.label_lines(attrs)
        y = rect.center().y() - sum(style.line_height(ln.px) for ln in lines) / 2
        for k, line in enumerate(lines):
            height = style.line_height(line.px)
            painter.setFont(qt_paint.font(line.px, bold=line.role == "title"))
            line_rect = QtCore.QRectF(rect.left(), y, rect.width(), height)
            if k == 0 and look.glyph:
                line_rect.setLeft(rect.left() + style.GLYPH_W)
            if line.role in ("saved", "changed", "freed", "device"):
                width = style.text_width(line.text, line.px) + style.badge_pad(line.role)
                pill = QtCore.QRectF(line_rect.center().x() - width / 2, line_rect.top() + 0.5,
                                     width, line_rect.height() - 1)
                dark = line.role in ("device", "changed", "freed")
                if line.role == "freed":
                    painter.setPen(QtGui.QPen(QtGui.QColor(style.MUTED_TEXT), 0.8,
                                              QtCore.Qt.PenStyle.DashLine))
                    painter.setBrush(QtGui.QColor(style.FREED_BADGE))
                else:
                    painter.setPen(QtCore.Qt.PenStyle.NoPen)
                    painter.setBrush(QtGui.QColor(style.CHANGED_BADGE if line.role == "changed"
                                                  else style.DEVICE_BADGE if dark
                                                  else style.SAVED_BADGE))
                painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
                painter.setPen(QtGui.QColor("#ffffff" if dark else style.TEXT))
                painter.drawText(pill, QtCore.Qt.AlignmentFlag.AlignCenter, line.text)
            else:
                colour = style.TEXT if line.role == "title" and not faded else style.MUTED_TEXT
                painter.setPen(QtGui.QColor(colour))
                painter.drawText(line_rect, QtCore.Qt.AlignmentFlag.AlignCenter, line.text)
            if k == 0 and look.glyph:
                painter.setPen(QtGui.QColor(style.MUTED_TEXT if faded else look.border))
                painter.setFont(qt_paint.font(style.TITLE_PX, bold=True))
                painter.drawText(QtCore.QRectF(rect.left() + 3, y, style.GLYPH_W, height),
                                 QtCore.Qt.AlignmentFlag.AlignCenter, look.glyph)
            y += height


class Counting:
    """A painter that counts the calls made to it and hands each to a real one."""

    def __init__(self, painter):
        self.painter, self.calls = painter, {}

    def __getattr__(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1
        return getattr(self.painter, name)


def every_look() -> GraphScene:
    """Return a scene whose boxes show every look: each state, saved, changed and freed tensors, a
    device, faded, ringed (search), a root, a folded module."""
    graph = samples.layered_dag(48, width=6, seed=3)
    nodes = list(graph.nodes)
    for k, node in enumerate(nodes[:12]):
        graph.nodes[node]["device"] = "cuda:0" if k % 3 == 0 else "cpu"
    scoped = collapse_scopes(samples.scoped_blocks(2), {"model.0"})
    graph.add_nodes_from((f"m{n}", attrs) for n, attrs in scoped.nodes(data=True))
    scene = GraphScene(graph, layout(graph))
    states = ("pending", "current", "done", "freed", "error")
    scene.set_node_states({n: states[k % len(states)] for k, n in enumerate(scene.node_ids)})
    scene.set_node_saved({n: [{"name": "self", "shape": [4]},
                              {"name": "result", "shape": [4], "freed": k % 2 == 0},
                              {"name": "other", "shape": [4], "freed": False,
                               "changed_in_place": k % 3 == 0, "version": 1, "saved_version": 0}]
                          for k, n in enumerate(nodes[2:40:3])})
    scene.set_dimmed(nodes[::4] + nodes[1::4][:3])
    scene.set_highlight(nodes[5:9])
    return scene


def picture(scene, paint, lod_scale: float) -> tuple[QtGui.QImage, dict]:
    rect = scene.sceneRect()
    image = QtGui.QImage(int(rect.width() * lod_scale) + 1, int(rect.height() * lod_scale) + 1,
                         QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtCore.Qt.GlobalColor.white)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.scale(lod_scale, lod_scale)
    painter.translate(-rect.topLeft())
    counting = Counting(painter)
    paint(counting, scene, scene.indices_in(rect), lod_scale)
    painter.end()
    return image, counting.calls


@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_boxes_are_drawn_as_box_by_box_painting_draws_them(qtbot, scale):
    """``paint_boxes`` draws every look as painting each box with fresh colours, pens and
    fonts did, pixel for pixel, and sets the painter's font only where it changes (a step's
    paint shows ~20 boxes; their Python was ~40% of their cost)."""
    assert QtWidgets.QApplication.instance() is not None
    scene = every_look()
    got, calls = picture(scene, qt_scene.paint_boxes, scale)
    want, reference = picture(scene, box_by_box, scale)
    assert got == want
    if scale >= qt_paint.LABEL_LOD:
        assert calls["drawText"] == reference["drawText"] > len(scene.node_ids)
        assert calls["setFont"] < reference["setFont"]
    scene.deleteLater()
