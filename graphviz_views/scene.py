"""The drawing of a graph and its layout as a QGraphicsScene.

Two items draw everything (never one item per node): ``EdgesItem`` strokes all
edges as a few paths, ``NodesItem`` paints the exposed nodes in one loop with
level of detail (no text when zoomed far out). ``set_node_states`` repaints only
the boxes that changed. The UI's view sits on top; this is the whole API:

    scene = GraphScene(graph, layout, parent=None)
    scene.set_node_states({node_id: "pending" | "current" | "done" | "freed" | "error"})
    scene.set_edge_labels({(u, v, key): "text"})   # "" removes a label
    scene.set_highlight({node_id, ...})              # search hits
    scene.node_at(QPointF) -> node id or None
    scene.node_rect(node_id) -> QRectF
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from graphviz_views import qt_paint, style

DONE_EDGE_STATES = ("done", "freed")


def visible_rect(painter, option) -> QtCore.QRectF:
    """Return the part of the scene that needs painting: the exposed rectangle, cut to
    the painter's clip (``QGraphicsScene.render`` exposes everything but clips)."""
    rect = option.exposedRect
    if painter.hasClipping():
        clip = painter.clipBoundingRect()
        if not clip.isEmpty():
            rect = rect.intersected(clip) if not rect.isEmpty() else clip
    return rect


class NodesItem(QtWidgets.QGraphicsItem):
    """Paints every node box of the scene; only those inside the exposed rectangle."""

    def __init__(self, scene: GraphScene):
        super().__init__()
        self._scene = scene
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(1)

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return self._scene.bounds_rect

    def paint(self, painter, option, widget=None) -> None:
        scene = self._scene
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, lod >= qt_paint.DETAIL_LOD)
        shown = scene.indices_in(visible_rect(painter, option))
        if lod < qt_paint.DETAIL_LOD:  # far out: plain boxes, one call per colour
            self._paint_plain(painter, shown)
            return
        for i in shown:
            node = scene.node_ids[i]
            qt_paint.paint_node(
                painter, scene.rect_of(i), scene.attrs[i],
                state=scene.states.get(node, "pending"), is_root=node in scene.roots,
                highlighted=node in scene.highlight, lod=lod,
            )


    def _paint_plain(self, painter, shown) -> None:
        scene = self._scene
        by_fill: dict[str, list] = {}
        for i in shown.tolist():
            by_fill.setdefault(scene.fills[i], []).append(scene.rect_of(i))
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for fill, rects in by_fill.items():
            painter.setBrush(QtGui.QColor(fill))
            painter.drawRects(rects)


class EdgesItem(QtWidgets.QGraphicsItem):
    """Paints all edges as two path pairs (normal, and after their source is done)."""

    def __init__(self, scene: GraphScene):
        super().__init__()
        self._scene = scene
        self._paths = None  # rebuilt lazily in paint() after the states change
        self._all = None  # every edge, drawn plain once; done edges are stroked over it
        self._done_nodes: set = set()  # sources whose edges the done paths hold
        self._by_source: dict = {}
        for key in scene.layout.routes:
            self._by_source.setdefault(key[0], []).append(key)
        self.setZValue(0)

    def invalidate(self) -> None:
        """Mark the done paths stale; the next paint extends or rebuilds them."""
        self._paths = None
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return self._scene.bounds_rect

    def _build(self):
        """Return (all edges, done edges) paths. A step forward only adds the new done
        sources' edges to the done paths; only a step back rebuilds them (the UI's
        per-step cost on 10,000 nodes, bench/bench_ui.py)."""
        scene, routes = self._scene, self._scene.layout.routes
        if self._all is None:
            self._all = qt_paint.edge_paths(routes, list(routes))
        done = {n for n, st in scene.states.items() if st in DONE_EDGE_STATES}
        old = self._paths_done if self._done_nodes <= done and self._done_nodes else None
        if old is None:
            keys = [k for n in done for k in self._by_source.get(n, ())]
            self._paths_done = qt_paint.edge_paths(routes, keys)
        else:
            keys = [k for n in done - self._done_nodes for k in self._by_source.get(n, ())]
            lines, heads = qt_paint.edge_paths(routes, keys)
            old[0].addPath(lines)
            old[1].addPath(heads)
        self._done_nodes = done
        return self._all, self._paths_done

    def paint(self, painter, option, widget=None) -> None:
        if self._paths is None:
            self._paths = self._build()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, lod >= qt_paint.DETAIL_LOD)
        (lines, heads), (done_lines, done_heads) = self._paths
        qt_paint.paint_edges(painter, lines, heads, style.EDGE, 1.2)
        qt_paint.paint_edges(painter, done_lines, done_heads, style.EDGE_DONE, 2.0)  # over the plain ones
        if lod >= qt_paint.LABEL_LOD:
            for key, text in self._scene.edge_labels.items():
                qt_paint.paint_edge_label(painter, self._scene.layout.routes.get(key), text)


class GraphScene(QtWidgets.QGraphicsScene):
    """A graph drawn at the positions of its Layout.

    Signals
    -------
    sigNodeClicked(str)   a node was clicked (its id; "" for the background)
    sigNodeHovered(str)   the pointer moved onto a node ("" when it left all nodes)
    """

    sigNodeClicked = QtCore.Signal(str)
    sigNodeHovered = QtCore.Signal(str)

    def __init__(self, graph, layout, *, states: dict | None = None,
                 edge_labels: dict | None = None, parent=None):
        super().__init__(parent)
        self.graph = graph
        self.layout = layout
        self.states: dict = dict(states or {})
        self.edge_labels: dict = {k: v for k, v in (edge_labels or {}).items() if v}
        self.highlight: set = set()
        self.roots = style.root_ids(graph)
        self.node_ids = list(layout.positions)
        self._index = {n: i for i, n in enumerate(self.node_ids)}
        self.attrs = [graph.nodes[n] for n in self.node_ids]
        self.fills = [self._fill(i) for i in range(len(self.node_ids))]
        centres = np.asarray([layout.positions[n] for n in self.node_ids], float).reshape(-1, 2)
        half = np.asarray([layout.sizes[n] for n in self.node_ids], float).reshape(-1, 2) / 2
        self._lo, self._hi = centres - half, centres + half
        self.bounds_rect = QtCore.QRectF()
        self._update_bounds()
        self.setItemIndexMethod(QtWidgets.QGraphicsScene.ItemIndexMethod.NoIndex)
        self.edges_item = EdgesItem(self)
        self.nodes_item = NodesItem(self)
        self.addItem(self.edges_item)
        self.addItem(self.nodes_item)
        self._hovered = ""

    def _fill(self, i: int) -> str:
        node = self.node_ids[i]
        return style.node_fill(self.attrs[i], is_root=node in self.roots,
                               state=self.states.get(node, "pending"))

    # -- geometry ---------------------------------------------------------------------
    def content_rect(self) -> QtCore.QRectF:
        """Return the rectangle around every box, route and edge label."""
        x0, y0, x1, y1 = self.layout.bounds
        rect = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        for key, text in self.edge_labels.items():
            route = self.layout.routes.get(key)
            if route:
                rect = rect.united(qt_paint.edge_label_rect(route, text))
        return rect

    def _update_bounds(self) -> None:
        margin = 12.0  # room for highlight rings and thick borders
        new = self.content_rect().adjusted(-margin, -margin, margin, margin)
        if new != self.bounds_rect:
            for item in (getattr(self, "nodes_item", None), getattr(self, "edges_item", None)):
                if item is not None:
                    item.prepareGeometryChange()
            self.bounds_rect = new
            self.setSceneRect(new)

    def rect_of(self, i: int) -> QtCore.QRectF:
        lo, hi = self._lo[i], self._hi[i]
        return QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])

    def node_rect(self, node_id: str) -> QtCore.QRectF:
        """Return the box of ``node_id`` in scene coordinates."""
        return self.rect_of(self._index[node_id])

    def indices_in(self, rect: QtCore.QRectF) -> np.ndarray:
        """Return the indices of the nodes whose box meets ``rect``."""
        if not self.node_ids:
            return np.zeros(0, dtype=int)
        if rect.isNull() or rect.isEmpty():
            return np.arange(len(self.node_ids))
        pad = 6.0
        hit = ((self._hi[:, 0] >= rect.left() - pad) & (self._lo[:, 0] <= rect.right() + pad)
               & (self._hi[:, 1] >= rect.top() - pad) & (self._lo[:, 1] <= rect.bottom() + pad))
        return np.flatnonzero(hit)

    def node_at(self, point: QtCore.QPointF) -> str | None:
        """Return the id of the node whose box holds ``point`` (None for the background)."""
        if not self.node_ids:
            return None
        x, y = point.x(), point.y()
        hit = ((self._lo[:, 0] <= x) & (x <= self._hi[:, 0])
               & (self._lo[:, 1] <= y) & (y <= self._hi[:, 1]))
        found = np.flatnonzero(hit)
        return self.node_ids[found[0]] if len(found) else None

    # -- state ------------------------------------------------------------------------
    def set_node_states(self, states: dict) -> None:
        """Set the backward state of the given nodes; repaint only those whose state changed."""
        changed = [n for n, s in states.items()
                   if n in self._index and self.states.get(n, "pending") != s]
        if not changed:
            return
        edges_change = False
        for node in changed:
            was, now = self.states.get(node), states[node]
            edges_change |= (was in DONE_EDGE_STATES) != (now in DONE_EDGE_STATES)
            self.states[node] = now
            self.fills[self._index[node]] = self._fill(self._index[node])
            self.nodes_item.update(self.node_rect(node).adjusted(-8, -8, 8, 8))
        if edges_change:
            self.edges_item.invalidate()

    def set_edge_labels(self, labels: dict) -> None:
        """Write text on edges, ``{(u, v, key): text}``; an empty text removes the label."""
        for key, text in labels.items():
            if text:
                self.edge_labels[key] = str(text)
            else:
                self.edge_labels.pop(key, None)
        self._update_bounds()
        self.edges_item.update()

    def set_highlight(self, node_ids) -> None:
        """Ring the nodes ``node_ids`` (search hits); an empty set clears the rings."""
        old, self.highlight = self.highlight, {n for n in node_ids if n in self._index}
        for node in old ^ self.highlight:
            self.nodes_item.update(self.node_rect(node).adjusted(-8, -8, 8, 8))

    # -- pointing ---------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.sigNodeClicked.emit(self.node_at(event.scenePos()) or "")
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        node = self.node_at(event.scenePos()) or ""
        if node != self._hovered:
            self._hovered = node
            self.sigNodeHovered.emit(node)
        super().mouseMoveEvent(event)
