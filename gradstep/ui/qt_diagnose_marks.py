"""Marks on the graph for the Diagnose view: where NaN/Inf starts and what carries it.

An origin gets a solid red frame and a "NaN/Inf starts here" tag, a carrier (its value
holds what its inputs brought) a dashed amber frame and a "carries NaN/Inf" tag, a node
that only passes a NaN/Inf gradient on a dotted brown frame and a "NaN/Inf grad" tag:
line style and words say it, not colour alone. The marks are one extra item on the graph view's scene, painted over the
nodes; the view rebuilds its scene when a module is folded or the layout turns, so the
item is put back whenever the view paints a scene that lacks it. A node inside a
folded module marks the module's box.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.drawing.collapse import module_id, owning_scope

LOOK = {  # mark -> (colour, pen style, width)
    "origin": ("#d32f2f", QtCore.Qt.PenStyle.SolidLine, 3.5),
    "carrier": ("#e69500", QtCore.Qt.PenStyle.DashLine, 2.0),
    "grad_carrier": ("#9c7a3c", QtCore.Qt.PenStyle.DotLine, 1.5),
}
PAD = 6.0
TAG_PX = 11
TAG_GAP = 6.0  # between a tag's right end and the middle of its box (where an edge comes in)


def tag_rect(outline: QtCore.QRectF, width: float) -> QtCore.QRectF:
    """Return where a mark's tag of ``width`` goes: above the frame ``outline``, from its
    left edge, but ending left of the box's middle (an edge comes in there from above and
    its gradient's pill sits right of it: a wide tag, 传递 NaN/Inf or "NaN/Inf starts
    here", would cover the numbers the lesson is about); a wider one reaches out left."""
    right = min(outline.left() + width, outline.center().x() - TAG_GAP)
    return QtCore.QRectF(right - width, outline.top() - TAG_PX - 6, width, TAG_PX + 5)


class MarksItem(QtWidgets.QGraphicsItem):
    """Frames and tags around the marked nodes of one scene."""

    def __init__(self, scene, marks: dict[str, str], tags: dict[str, str]):
        super().__init__()
        self.setZValue(3)
        self._scene = scene
        self.marks = {n: m for n, m in marks.items() if n in scene.layout.positions}
        self.tags = tags
        self._font = QtGui.QFont()
        self._font.setPixelSize(TAG_PX)
        self._font.setBold(True)
        metrics = QtGui.QFontMetricsF(self._font)
        self._bounds = QtCore.QRectF()
        self.tag_rects: dict[str, QtCore.QRectF] = {}
        for node, mark in self.marks.items():
            outline = self._outline(node)
            self.tag_rects[node] = tag_rect(outline, metrics.horizontalAdvance(tags[mark]) + 10)
            self._bounds = self._bounds.united(outline.adjusted(-4, -4, 4, 4)).united(
                self.tag_rects[node].adjusted(-2, -2, 2, 2))

    def _outline(self, node: str) -> QtCore.QRectF:
        return self._scene.node_rect(node).adjusted(-PAD, -PAD, PAD, PAD)

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def paint(self, painter, option, widget=None) -> None:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setFont(self._font)
        order = {"grad_carrier": 0, "carrier": 1, "origin": 2}  # the origin painted last, on top
        for node, mark in sorted(self.marks.items(), key=lambda kv: order[kv[1]]):
            colour, style, width = LOOK[mark]
            rect = self._outline(node)
            pen = QtGui.QPen(QtGui.QColor(colour), width, style)
            painter.setPen(pen)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 6, 6)
            text = self.tags[mark]
            tag = self.tag_rects[node]
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(colour))
            painter.drawRoundedRect(tag, 3, 3)
            painter.setPen(QtGui.QColor("#ffffff"))
            painter.drawText(tag, QtCore.Qt.AlignmentFlag.AlignCenter, text)


class QtDiagnoseMarks(QtCore.QObject):
    """Keeps the marks of the latest diagnosis on ``graph_view`` (a ``QtGraphView``)."""

    def __init__(self, graph_view, parent=None):
        super().__init__(parent)
        self.view = graph_view
        self.marks: dict[str, str] = {}
        self._item: MarksItem | None = None
        self._scene = None
        self._shown: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.retranslate()
        graph_view.viewport().installEventFilter(self)

    def retranslate(self) -> None:
        """Word the tags in the language in use (the marks are drawn again)."""
        self.tags = {"origin": self.tr("NaN/Inf starts here"), "carrier": self.tr("carries NaN/Inf"),
                     "grad_carrier": self.tr("NaN/Inf grad")}
        if self._item is not None:
            self._attach(force=True)

    def set_marks(self, marks: dict[str, str]) -> None:
        """Show ``{node id: "origin" | "carrier"}`` ({} clears)."""
        self.marks = dict(marks)
        self._attach(force=True)

    def shown(self) -> dict[str, str]:
        """Return the marks drawn now, by the ids of the boxes on screen."""
        return dict(self._shown)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.Paint and self.view.graph_scene is not self._scene:
            QtCore.QTimer.singleShot(0, self._attach)  # not while the view paints
        return False

    def _attach(self, force: bool = False) -> None:
        scene = self.view.graph_scene
        if scene is self._scene and not force:
            return
        if self._item is not None and scene is self._scene and scene is not None:
            scene.removeItem(self._item)  # the same scene: replace the item
        # (a scene the view replaced owns the old item and deletes it with itself)
        self._item, self._scene, self._shown = None, scene, {}
        if scene is None or not self.marks:
            return
        self._shown = self._on_boxes(scene)
        self._item = MarksItem(scene, self._shown, self.tags)
        scene.addItem(self._item)

    def _on_boxes(self, scene) -> dict[str, str]:
        """Return the marks moved onto the boxes shown: a node in a folded module marks it."""
        graph = self.view.graph
        shown: dict[str, str] = {}
        for node, mark in self.marks.items():
            box = node
            if node not in scene.layout.positions and graph is not None and node in graph:
                scope = owning_scope(graph.nodes[node].get("scope") or "", self.view.collapsed)
                box = module_id(scope) if scope else node
            rank = {"grad_carrier": 0, "carrier": 1, "origin": 2}
            if box in scene.layout.positions and rank[mark] >= rank.get(shown.get(box), -1):
                shown[box] = mark
        return shown
