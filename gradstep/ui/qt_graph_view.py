"""The graph view: a QGraphicsView over gradstep.drawing' GraphScene.

Wheel zooms around the cursor, dragging pans, double-click on a module box
expands or collapses it; the scene draws, this view only navigates and forwards
clicks and hovers.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.drawing import qt_paint
from gradstep.drawing.collapse import (
    MODULE_PREFIX,
    box_state,
    collapse_scopes,
    default_collapsed,
    max_depth,
    module_id,
    owning_scope,
    scopes_at_depth,
)
from gradstep.drawing.layout import layout
from gradstep.drawing.qt_scene import GraphScene
from gradstep.policies.gc_pause import without_gc
from gradstep.ui.qt_mark_font import hover_text
from gradstep.ui.tensor_text import node_tooltip

_ZOOM_STEP = 1.2
_MIN_SCALE, _MAX_SCALE = 0.01, 8.0
BIG_GRAPH = 400  # nodes; bigger graphs open at 100% on their root


class QtGraphView(QtWidgets.QGraphicsView):
    """Shows one graph; emits the node the user points at.

    Signals
    -------
    sigNodeClicked(str)        a node was clicked ("" for the background)
    sigNodeDoubleClicked(str)  a node was double-clicked
    """

    sigNodeClicked = QtCore.Signal(str)
    sigNodeDoubleClicked = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing
                            | QtGui.QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QtWidgets.QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QtWidgets.QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMouseTracking(True)
        self.graph = None
        self.graph_scene = None
        self.layout_result = None
        self.rankdir = "TB"
        self.collapsed: set[str] = set()
        self._states: dict = {}  # node -> backward state (the graph's own nodes)
        self._saved: dict = {}  # node -> saved entries at the step shown
        self._dimmed: set = set()  # nodes outside the pass shown
        self._labels: dict = {}
        self._highlight: set = set()  # the graph's nodes ringed (search hits)
        self._owner: dict = {}  # node -> the module box it is folded into
        self._members: dict = {}  # module box -> its nodes
        # set by the window: node id -> tooltip HTML; edge (u, v, key) -> tooltip text
        self.node_tooltip = lambda node_id, attrs: node_tooltip(attrs)
        self.edge_tooltip = lambda edge: ""
        self._empty = QtWidgets.QGraphicsScene(self)
        self.setScene(self._empty)
        # what to do again when the view is resized: the view the program chose (the graph
        # fitted, or its start), not one the user zoomed or dragged to (None then)
        self.refit_on_resize = None
        self._relayout_due = False  # a language switch's layout, made once its events are in
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):  # the user's scroll
            bar.actionTriggered.connect(self._keep_users_view)  # (keys, the bars; not setValue)
        # between frames, what the first frame far out would make (GraphScene.far_step: a
        # wide 100,000-node DAG's chord table made its frame 0.1-0.2 s), a part a turn
        self._far_timer = QtCore.QTimer(self)
        self._far_timer.setInterval(0)  # (a turn of the event loop with nothing else to do)
        self._far_timer.timeout.connect(self._far_step)

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if (event.type() == QtCore.QEvent.Type.LanguageChange and self.graph is not None
                and not self._relayout_due):
            # the boxes' pills (saved:, freed:, written after the pass) are worded in the
            # language shown and the boxes sized for them: laid out again, once (a switch
            # sends one LanguageChange per translator installed or removed)
            self._relayout_due = True
            QtCore.QTimer.singleShot(0, self, self._relayout_in_language)
        super().changeEvent(event)

    def _relayout_in_language(self) -> None:
        """Lay the graph out again in the language now shown, where the view was."""
        self._relayout_due = False
        if self.graph is not None:
            center = self.mapToScene(self.viewport().rect().center())
            self._rebuild()
            self.centerOn(center)

    def _far_step(self) -> None:
        """Make the next part of what the scene shown reads far out; stop once all is."""
        if self.graph_scene is None or self.graph_scene.far_step():
            self._far_timer.stop()

    def _keep_users_view(self, *_) -> None:
        """The user moved the view (scroll bars, arrow keys, a search): a resize keeps it."""
        self.refit_on_resize = None

    # -- content ---------------------------------------------------------------------
    @without_gc  # as _rebuild: the folding and the first view too
    def set_graph(self, graph) -> None:
        """Lay out and draw ``graph`` (a networkx MultiDiGraph), then fit it.

        A big graph with module scopes opens with its modules folded into boxes.
        """
        self.graph = graph
        self._states = {}
        self._saved = {}
        self._labels = {}
        self._highlight = set()
        self.collapsed = default_collapsed(graph)
        self._rebuild()
        self.show_graph()

    def show_graph(self) -> None:
        """Fit the graph drawn to the window, or show its start where fitted no box would be
        readable (a new graph, a graph folded or unfolded)."""
        shown = self.graph_scene.graph if self.graph_scene is not None else self.graph
        if shown is None:
            return
        if shown.number_of_nodes() > BIG_GRAPH:
            self.show_start()  # tiny unreadable boxes help nobody; Ctrl+0 still fits all
        else:
            self.fit_to_window()
            if self.transform().m11() < qt_paint.LABEL_LOD:  # fitted, no box would show a word
                self.show_start()  # (a tall model, even folded: GPT-2's 37 boxes)
        # again once the view has its size: a graph shown before the window was laid out
        # (or maximized) was fitted to a view of a few pixels, hence opened at 100%
        self.refit_on_resize = self.show_graph

    def show_message(self, text: str) -> None:
        """Show ``text`` instead of a graph (a run that built none)."""
        if self.graph_scene is not None:  # the last run's scene goes (it was kept till now)
            self.graph_scene.retire()
        self.graph, self.graph_scene, self.layout_result = None, None, None
        self._owner, self._members = {}, {}
        self._empty.clear()
        item = self._empty.addText(text)
        item.setDefaultTextColor(self.palette().color(QtGui.QPalette.ColorRole.PlaceholderText))
        item.setTextWidth(max(240, self.viewport().width() - 48))  # wraps at a word
        self._empty.setSceneRect(item.boundingRect())
        self.setTransform(QtGui.QTransform())
        self.setScene(self._empty)
        self.centerOn(item)

    @without_gc  # a 100,000-node scene: no full collections of the heap meanwhile
    def _rebuild(self) -> None:
        if self.graph is None:
            self.setScene(self._empty)
            return
        shown = self._shown_graph()
        self._owner, self._members = {}, {}
        for box, attrs in shown.nodes(data=True):
            if attrs.get("kind") == "module":
                self._members[box] = list(attrs.get("members") or ())
                self._owner.update(dict.fromkeys(self._members[box], box))
        self.layout_result = layout(shown, rankdir=self.rankdir)
        old = self.graph_scene
        self.graph_scene = GraphScene(shown, self.layout_result, parent=self)
        self.setScene(self.graph_scene)
        self._far_timer.start()
        if old is not None:
            old.retire()
        if self._states:
            self.graph_scene.set_node_states({**self._states, **self._box_states(self._members)})
        if self._saved:
            self.graph_scene.set_node_saved(self._saved)
        if self._dimmed:
            self.graph_scene.set_dimmed(self._drawn_dimmed())
        if self._labels:
            self.graph_scene.set_edge_labels(self._labels)
        if self._highlight:
            self.graph_scene.set_highlight(self._drawn_highlight())

    def _shown_graph(self):
        """Return the graph with collapsed module boxes folded (when views supports it)."""
        if not self.collapsed:
            return self.graph
        return collapse_scopes(self.graph, self.collapsed)

    def set_node_states(self, states: dict, saved: dict | None = None) -> None:
        """Recolour nodes: ``states`` maps node id to pending/current/done/freed/error;
        ``saved`` maps node id to its saved entries at that step (alive or freed). A folded
        module box takes the state of what it holds (``collapse.box_states``)."""
        changed = {n: s for n, s in states.items() if self._states.get(n) != s}
        gone = {n: "pending" for n in self._states if n not in states}
        self._states = dict(states)
        if saved is not None:
            self._saved = {}
            if self.graph_scene is not None:
                self.graph_scene.saved.clear()
        self._apply({**gone, **changed}, saved or {})

    def update_node_states(self, states: dict, saved: dict | None = None) -> None:
        """Recolour only the nodes in ``states`` and redraw the saved tensors in ``saved``."""
        changed = {n: st for n, st in states.items() if self._states.get(n) != st}
        self._states.update(changed)
        self._apply(changed, saved or {})

    def _apply(self, changed: dict, saved: dict) -> None:
        self._saved.update(saved)
        if self.graph_scene is None:
            return
        boxes = {self._owner[n] for n in changed if n in self._owner}
        if changed or boxes:
            self.graph_scene.set_node_states({**changed, **self._box_states(
                {b: self._members[b] for b in boxes})})
        if saved:
            self.graph_scene.set_node_saved(saved)

    def _box_states(self, members: dict) -> dict:
        """Return {box: state} for the given module boxes from their members' states."""
        return {box: box_state(self._states.get(m, "pending") for m in nodes)
                for box, nodes in members.items()}

    def set_dimmed(self, node_ids) -> None:
        """Fade ``node_ids``: nodes that are not part of the pass being stepped."""
        self._dimmed = set(node_ids)
        if self.graph_scene is not None:
            self.graph_scene.set_dimmed(self._drawn_dimmed())

    def _drawn_dimmed(self) -> set:
        """Return the drawn boxes to fade: a node faded, a folded module box when all it
        holds is (as ``collapse.outside`` decides for exports)."""
        if not self._dimmed or not self._members:
            return self._dimmed
        return {n for n, attrs in self.graph_scene.graph.nodes(data=True)
                if all(m in self._dimmed for m in (attrs.get("members") or (n,)))}

    def shown_node(self, node_id: str) -> str:
        """Return the box drawn for ``node_id``: itself, or the module box it is folded into."""
        return self._owner.get(node_id, node_id)

    def fold_to_depth(self, depth: int | None) -> None:
        """Fold every module scope ``depth`` levels deep into a box (None or 0: unfold all)."""
        if self.graph is None:
            return
        self.collapsed = scopes_at_depth(self.graph, depth) if depth else set()
        self._rebuild()
        self.show_graph()  # a model folded to two boxes is not left at the zoom of 23 nodes

    def max_depth(self) -> int:
        """Return the deepest module nesting of the graph (0: nothing to fold)."""
        return max_depth(self.graph) if self.graph is not None else 0

    def follow(self, node_id: str) -> None:
        """Scroll just enough to keep ``node_id`` (the step about to run) in view."""
        node_id = self.shown_node(node_id)
        if self.layout_result is None or node_id not in self.layout_result.positions:
            return
        x, y = self.layout_result.positions[node_id]
        w, h = self.layout_result.sizes.get(node_id, (40, 20))
        self.ensureVisible(QtCore.QRectF(x - w / 2, y - h / 2, w, h), 40, 40)

    def flush_updates(self) -> None:
        """Hand the scene's repaint requests to the view now, not at the next turn of the
        event loop: after ``follow`` scrolled, Qt paints the scrolled view and those requests
        in one paint, not two (the whole view, then the changed boxes again)."""
        scene = self.graph_scene
        if scene is not None and scene.metaObject().indexOfMethod("_q_processDirtyItems()") >= 0:
            QtCore.QMetaObject.invokeMethod(scene, "_q_processDirtyItems",  # (a Qt without
                                            QtCore.Qt.ConnectionType.DirectConnection)  # it: 2 paints)

    def set_edge_labels(self, labels: dict) -> None:
        """Write ``labels`` {(u, v, key): text} on edges (gradient values); "" removes one."""
        for edge, text in labels.items():
            if text:
                self._labels[edge] = text
            else:
                self._labels.pop(edge, None)
        if self.graph_scene is not None:
            self.graph_scene.set_edge_labels(labels)

    def clear_edge_labels(self) -> None:
        """Remove every gradient written on an edge."""
        if self._labels:
            self.set_edge_labels({edge: "" for edge in self._labels})

    def toggle_module(self, node_id: str) -> bool:
        """Expand the module box ``node_id``, or fold the module a node ran in; return True
        when the drawing changed."""
        if node_id.startswith(MODULE_PREFIX):
            self.collapsed.discard(node_id[len(MODULE_PREFIX):])
        elif self.graph is not None and node_id in self.graph and self.graph.nodes[node_id].get("scope"):
            self.collapsed.add(self.graph.nodes[node_id]["scope"])
        else:
            return False
        self._rebuild()
        return True

    def highlight(self, node_ids) -> None:
        """Ring the nodes ``node_ids`` (search hits): a node folded into a module, its box
        (the ring was drawn on no box: nothing on screen said where the hit is); folded or
        unfolded later, the ring follows."""
        self._highlight = set(node_ids)
        if self.graph_scene is not None:
            self.graph_scene.set_highlight(self._drawn_highlight())

    def _drawn_highlight(self) -> set:
        """Return the boxes drawn for the ringed nodes: each, or the module box it is in."""
        return {self.shown_node(n) for n in self._highlight}

    # -- navigation --------------------------------------------------------------------
    def show_start(self) -> None:
        """Open a big graph at a readable scale on its root instead of fitting it all."""
        self.setTransform(QtGui.QTransform())
        root = (self.graph.graph.get("root") if self.graph is not None else None) or "n0"
        self.center_on_node(root)

    def fit_to_window(self, max_scale: float = 1.5) -> None:
        """Show the whole graph, enlarged at most ``max_scale`` times (a presentation: more)."""
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-20, -20, 20, 20), QtCore.Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > max_scale:  # a tiny graph should not be blown up
            self.setTransform(QtGui.QTransform.fromScale(max_scale, max_scale))
            self.centerOn(rect.center())
        self.refit_on_resize = lambda: self.fit_to_window(max_scale)  # still whole when resized

    def zoom(self, factor: float) -> None:
        """Scale by ``factor``, kept between 1% and 800%."""
        current = self.transform().m11()
        factor = max(_MIN_SCALE / current, min(factor, _MAX_SCALE / current))
        self.scale(factor, factor)
        self.refit_on_resize = None  # the user's zoom stays

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.refit_on_resize is not None and self.graph_scene is not None \
                and self.scene() is self.graph_scene:
            self.refit_on_resize()

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # noqa: N802 (Qt override)
        delta = event.angleDelta().y()
        if delta:
            self.zoom(_ZOOM_STEP if delta > 0 else 1 / _ZOOM_STEP)
        event.accept()

    def find(self, text: str) -> list[str]:
        """Return the ids of nodes whose name, label or id contains ``text`` (any case)."""
        if self.graph is None or not text:
            return []
        needle = text.lower()
        hits = []
        for node_id, attrs in self.graph.nodes(data=True):
            hay = " ".join(str(attrs.get(k, "")) for k in ("name", "label")) + " " + str(node_id)
            if needle in hay.lower():
                hits.append(node_id)
        return hits

    def center_on_node(self, node_id: str) -> None:
        """Scroll to ``node_id``, or to the module box that holds it when folded (a search
        hit: a resize keeps it in view, see ``refit_on_resize``)."""
        if self.layout_result is None:
            return
        self._keep_users_view()  # (show_start's own call: show_graph sets the refit after it)
        if node_id not in self.layout_result.positions and self.graph is not None:
            scope = owning_scope(self.graph.nodes[node_id].get("scope"), self.collapsed)
            node_id = module_id(scope) if scope else node_id
        if node_id in self.layout_result.positions:
            x, y = self.layout_result.positions[node_id]
            self.centerOn(QtCore.QPointF(x, y))

    # -- pointing --------------------------------------------------------------------------
    def node_at(self, pos: QtCore.QPoint) -> str:
        """Return the id of the node under viewport point ``pos`` ("" for none)."""
        if self.layout_result is None:
            return ""
        p = self.mapToScene(pos)
        finder = getattr(self.graph_scene, "node_at", None)
        if finder is not None:
            return finder(p) or ""
        for node_id, (x, y) in self.layout_result.positions.items():
            w, h = self.layout_result.sizes.get(node_id, (0, 0))
            if abs(p.x() - x) <= w / 2 and abs(p.y() - y) <= h / 2:
                return node_id
        return ""

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        moved = (event.position().toPoint() - getattr(self, "_press", QtCore.QPoint())).manhattanLength()
        if event.button() == QtCore.Qt.MouseButton.LeftButton and moved < 4:
            self.sigNodeClicked.emit(self.node_at(event.position().toPoint()))
        elif moved >= 4:
            self.refit_on_resize = None  # dragged: the user's view stays

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        node_id = self.node_at(event.position().toPoint())
        if node_id:
            self.sigNodeDoubleClicked.emit(node_id)
        super().mouseDoubleClickEvent(event)

    def viewportEvent(self, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.ToolTip and self.graph_scene is not None:
            node_id = self.node_at(event.pos())
            shown = self.graph_scene.graph
            edge = self.graph_scene.edge_label_at(self.mapToScene(event.pos()))
            text = ""
            if node_id and node_id in shown:
                text = self.node_tooltip(node_id, shown.nodes[node_id])
            elif edge is not None:
                text = self.edge_tooltip(edge)
            if text:  # (x̂ whole: qt_mark_font)
                QtWidgets.QToolTip.showText(event.globalPos(), hover_text(text), self)
            else:
                QtWidgets.QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def render_image(self, scale: float = 2.0) -> QtGui.QImage:
        """Return the whole scene rendered to an image (for the clipboard)."""
        rect = self.scene().itemsBoundingRect().adjusted(-10, -10, 10, 10)
        size = QtCore.QSize(max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale)))
        image = QtGui.QImage(size, QtGui.QImage.Format.Format_ARGB32)
        image.fill(self.palette().color(QtGui.QPalette.ColorRole.Base))
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        self.scene().render(painter, QtCore.QRectF(image.rect()), rect)
        painter.end()
        return image
