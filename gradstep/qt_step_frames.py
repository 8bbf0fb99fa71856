"""One picture per backward step, every one the same size (Qt).

``StepFrames`` lays the graph out once, builds one scene, and for each step k of a pass
(0 = before the first step, N = after the last) sets the step's node states, saved
tensors and the gradients that have flowed on the edges (``step_drawing.drawing_at``,
the same as ``gradstep export --step K``), then renders the scene into a canvas whose
size is the union of every step's drawing: a gradient label that appears at step 5
cannot make frame 5 wider than frame 0. An optional caption under the graph says which
step it is and what runs (``▶ MulBackward0 (z): ∂(x·y)/∂x = y``, worded by the pure
``drawing.step_caption``, as the notebook's and the presentation's), so each frame of an
animation tells its own story. ``gradstep export --frames`` and the animated exports
(``gradstep.drawing.qt_animation``) both draw through here.
"""

from __future__ import annotations

from gradstep.drawing import qt_paint, style
from gradstep.drawing.collapse import outside
from gradstep.drawing.export import (
    MARGIN,
    ExportError,
    compute_layout,
    ensure_qt_app,
    scale_that_fits,
)
from gradstep.drawing.step_caption import caption_lines
from gradstep.i18n import lazy

CAPTION_PX = 13  # caption text, in scene units
CAPTION_LINES = 2
MIN_WIDTH = 420.0  # scene units: room for the caption beside a one-node graph
MAX_PIXELS = 40_000_000  # one frame; a bigger one is refused with advice


class StepFrames:
    """The frames of pass ``pass_index`` of ``history`` (a ``step_state.PassHistory``).

    ``graph`` is the drawn graph; ``collapse`` folds module scopes deeper than a depth,
    ``collapsed`` folds these scopes (the window's folds); ``caption`` adds the step line.
    ``count`` is the number of frames (steps + 1); ``size`` their common pixel size;
    ``frame(k)`` a QImage; ``frames()`` all of them in order.
    """

    def __init__(self, graph, history, pass_index: int, *, rankdir: str = "TB",
                 engine: str = "layered", collapse: int | None = None, collapsed=None,
                 scale: float = 2.0, transparent: bool = False, caption: bool = True):
        ensure_qt_app()
        from gradstep.drawing.qt_scene import GraphScene

        self.graph = graph
        self.index = history.index(pass_index)
        self.history, self.pass_index = history, pass_index
        self.scale, self.transparent, self.caption = scale, transparent, caption
        self.shown = _folded(graph, collapse, collapsed)
        self.layout = compute_layout(self.shown, rankdir=rankdir, engine=engine)
        self.scene = GraphScene(self.shown, self.layout)
        # nodes outside this pass's own graph are faded
        self.scene.set_dimmed(outside(self.shown, self.index.members))
        self.count = self.index.count + 1
        self._drawings = [self._drawing(k) for k in range(self.count)]
        self.source = self._canvas()
        self.caption_height = (style.line_height(CAPTION_PX) * CAPTION_LINES + 12) if caption else 0.0
        width = max(1, round(self.source.width() * scale))
        height = max(1, round((self.source.height() + self.caption_height) * scale))
        if width * height > MAX_PIXELS:
            raise ExportError(lazy("each frame would be {width}x{height} pixels (over {limit} "
                                   "million): use --scale {fits} or lower, fold modules with "
                                   "--collapse DEPTH, or export one step as SVG", width=width,
                                   height=height, limit=MAX_PIXELS // 1_000_000,
                                   fits=f"{scale_that_fits(scale, width * height, MAX_PIXELS):g}"))
        self.size = (width, height)

    def _drawing(self, k: int) -> dict:
        """Return the scene's settings for step ``k``: states, saved tensors, edge labels."""
        from gradstep.drawing.collapse import box_states
        from gradstep.step_drawing import drawing_at

        state = self.history.state(self.pass_index, k)
        _, drawing = drawing_at(self.graph, state)
        states = dict(drawing.get("states") or {})
        states.update(box_states(self.shown, states))
        labels = {e: t for e, t in (drawing.get("edge_labels") or {}).items() if e in self.layout.routes}
        return {"states": states, "saved": state.saved, "labels": labels}

    def _canvas(self):
        """Return the scene rectangle every frame shows: the union of every step's drawing."""
        from PySide6 import QtCore

        from gradstep.drawing.label_places import LabelPlaces

        x0, y0, x1, y1 = self.layout.bounds
        rect = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        places, shown = LabelPlaces(self.layout), {}
        for drawing in self._drawings:  # each step's places, as the scene gives them
            places.set_texts({**dict.fromkeys(shown, ""), **drawing["labels"]})
            shown = drawing["labels"]
            for box in places.boxes.values():
                rect = rect.united(QtCore.QRectF(*box))
        rect = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        if self.caption and rect.width() < MIN_WIDTH:
            grow = (MIN_WIDTH - rect.width()) / 2
            rect = rect.adjusted(-grow, 0, grow, 0)
        return rect

    def frame(self, k: int):
        """Return the QImage of the graph after ``k`` steps (all frames the same size)."""
        from PySide6 import QtCore, QtGui

        drawing = self._drawings[k]
        scene = self.scene
        scene.set_node_states({n: drawing["states"].get(n, "pending") for n in self.layout.positions})
        scene.set_node_saved({n: e for n, e in drawing["saved"].items() if n in self.layout.positions})
        scene.set_edge_labels({**dict.fromkeys(scene.edge_labels, ""), **drawing["labels"]})
        width, height = self.size
        image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QtCore.Qt.GlobalColor.transparent if self.transparent else QtCore.Qt.GlobalColor.white)
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        graph_rect = QtCore.QRectF(0, 0, width, self.source.height() * self.scale)
        scene.render(painter, graph_rect, self.source, QtCore.Qt.AspectRatioMode.IgnoreAspectRatio)
        if self.caption:
            self._paint_caption(painter, k, graph_rect.bottom())
        painter.end()
        return image

    def frames(self):
        """Yield every frame in order (step 0 .. the end)."""
        for k in range(self.count):
            yield self.frame(k)

    def _paint_caption(self, painter, k: int, top: float) -> None:
        from PySide6 import QtCore, QtGui

        lines = caption_lines(self.graph, self.index, k)
        painter.setPen(QtGui.QColor(style.TEXT))
        font = qt_paint.font(round(CAPTION_PX * self.scale))
        painter.setFont(font)
        metrics = QtGui.QFontMetricsF(font)
        left, width = 10 * self.scale, self.size[0] - 20 * self.scale
        y = top + 4 * self.scale
        for i, text in enumerate(lines[:CAPTION_LINES]):
            shown = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, width)
            painter.drawText(QtCore.QPointF(left, y + metrics.ascent()), shown)
            y += metrics.lineSpacing()
            if i == 0:
                painter.setPen(QtGui.QColor(style.MUTED_TEXT))


def _folded(graph, collapse, collapsed):
    from gradstep.drawing.collapse import collapse_scopes, collapse_to_depth

    if collapsed:
        return collapse_scopes(graph, collapsed)
    return collapse_to_depth(graph, collapse) if collapse else graph
