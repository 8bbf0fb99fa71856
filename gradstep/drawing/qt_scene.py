"""The drawing of a graph and its layout as a QGraphicsScene.

Two items draw everything (never one item per node): ``EdgesItem`` strokes the
edges in spatial chunks of neighbouring edges, only the chunks in view, each as
two cached paths (all edges, then those whose source is done); ``NodesItem``
paints the exposed nodes in one loop with level of detail (no text when zoomed
far out). ``set_node_states`` repaints only the boxes that changed and rebuilds
only the done paths of the chunks holding their edges. The UI's view sits on top; this is the whole API:

    scene = GraphScene(graph, layout, parent=None)
    scene.set_node_states({node_id: "pending" | "current" | "done" | "freed" | "error"})
    scene.set_edge_labels({(u, v, key): "text"})   # "" removes a label
    scene.set_node_saved({node_id: saved entries})   # a step's saved tensors, alive or freed
    scene.set_dimmed({node_id, ...})                 # faded: not part of the pass shown
    scene.set_highlight({node_id, ...})              # search hits
    scene.node_at(QPointF) -> node id or None
    scene.node_rect(node_id) -> QRectF
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.drawing import qt_paint, style

DONE_EDGE_STATES = ("done", "freed")
MANY_UPDATES = 64  # more changed boxes or edges than this at once: repaint the whole item
DIMMED_OPACITY = 0.4  # nodes outside the pass shown (another call's graph)


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
            attrs = scene.attrs[i]
            if node in scene.saved:  # the saved tensors as they are at this step
                attrs = {**attrs, "saved": scene.saved[node]}
            painter.setOpacity(DIMMED_OPACITY if node in scene.dimmed else 1.0)
            qt_paint.paint_node(
                painter, scene.rect_of(i), attrs,
                state=scene.states.get(node, "pending"), is_root=node in scene.roots,
                highlighted=node in scene.highlight, lod=lod,
            )
        painter.setOpacity(1.0)
        # gradient labels over the boxes: where one is wider than the gap between two
        # layers (a left-to-right layout) it covers a box's edge, never hides under it
        routes = scene.layout.routes
        seen = visible_rect(painter, option)
        for key, text in scene.edge_labels.items():
            pill = scene.pills.get(key)
            if pill is not None and (seen.isEmpty() or seen.intersects(pill)):
                qt_paint.paint_edge_label(painter, routes[key], text)

    def _paint_plain(self, painter, shown) -> None:
        scene = self._scene
        by_fill: dict[str, list] = {}
        fills = scene.fills
        for i in shown.tolist():
            fill = fills[i]
            if fill is None:  # made when first painted far out (see GraphScene.fills)
                fill = fills[i] = scene._fill(i)
            by_fill.setdefault(fill, []).append(scene.rect_of(i))
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for fill, rects in by_fill.items():
            painter.setBrush(QtGui.QColor(fill))
            painter.drawRects(rects)


def _route_rect(points) -> QtCore.QRectF:
    """Return the box around route ``points`` and what is stroked past them."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    pad = 12.0  # arrowheads and pen width reach past the route's points
    return (QtCore.QRectF(min(xs) - pad, min(ys) - pad,
                          max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad)
            if xs else QtCore.QRectF())


class EdgeChunk:
    """Up to ``EDGES_PER_CHUNK`` neighbouring edges: their bounding box and their paths
    (all of them, and those whose source is done), built when first painted."""

    def __init__(self, keys: list, routes: dict):
        self.keys = keys
        self.rect = _route_rect([p for k in keys for p in routes.get(k) or ()])
        self.all = None
        self.done = None


EDGES_PER_CHUNK = 128


class EdgesItem(QtWidgets.QGraphicsItem):
    """Paints the edges in spatial chunks: only the chunks in view, each as two path pairs
    (every edge plain, then the edges whose source is done stroked over them)."""

    def __init__(self, scene: GraphScene):
        super().__init__()
        self._scene = scene
        routes = scene.layout.routes
        self._chunks = [EdgeChunk(keys, routes) for keys in _chunked(routes)]
        self._chunks_of: dict = {}  # source node -> the chunks holding its edges
        for index, chunk in enumerate(self._chunks):
            for key in chunk.keys:
                self._chunks_of.setdefault(key[0], set()).add(index)
        # without this flag Qt leaves option.exposedRect empty, and every paint of a step
        # stroked every chunk of the graph (100,000 nodes: ~1,600 paths, 15-30 ms)
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(0)

    def sources_changed(self, nodes) -> None:
        """Mark stale the done paths of the chunks holding ``nodes``' edges; repaint those
        edges (not their whole chunks: a chunk of a chain spans more than a view, and
        repainting it repainted every node in view at each step)."""
        if len(nodes) > MANY_UPDATES:  # a jump: one repaint of the view, not one per edge
            for chunk in self._chunks:  # rebuilt when next painted: only those in view
                chunk.done = None
            self.update()
            return
        routes = self._scene.layout.routes
        sources: dict[int, set] = {}  # chunk -> the nodes given whose edges it holds
        for node in nodes:
            for index in self._chunks_of.get(node, ()):
                sources.setdefault(index, set()).add(node)
        for index in sources:
            self._chunks[index].done = None
        self._scene.update_seen(self, [
            _route_rect(routes[key]) for index, given in sources.items()
            for key in self._chunks[index].keys if key[0] in given and routes.get(key)])

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return self._scene.bounds_rect

    def chunks_in(self, rect: QtCore.QRectF) -> list:
        """Return the chunks that intersect ``rect`` (all of them for an empty rect)."""
        if rect.isEmpty():
            return self._chunks
        return [c for c in self._chunks if c.rect.intersects(rect)]

    def paint(self, painter, option, widget=None) -> None:
        scene, routes = self._scene, self._scene.layout.routes
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, lod >= qt_paint.DETAIL_LOD)
        shown = self.chunks_in(visible_rect(painter, option))
        for chunk in shown:
            if chunk.all is None:
                chunk.all = qt_paint.edge_paths(routes, chunk.keys)
            qt_paint.paint_edges(painter, *chunk.all, style.EDGE, 1.2)
        for chunk in shown:  # over the plain ones
            if chunk.done is None:
                done = scene.done_nodes
                chunk.done = qt_paint.edge_paths(routes, [k for k in chunk.keys if k[0] in done])
            qt_paint.paint_edges(painter, *chunk.done, style.EDGE_DONE, 2.0)


def _seen_in(view) -> QtCore.QRectF:
    """Return the part of the scene ``view`` shows now."""
    return view.mapToScene(view.viewport().rect()).boundingRect()


def _chunked(routes: dict) -> list[list]:
    """Return the edge keys in groups of neighbouring edges (sorted along the drawing's
    longer side), so a view of part of a big graph paints only a few groups."""
    def extent(axis):
        values = [p[axis] for route in routes.values() for p in route or ()]
        return (max(values) - min(values)) if values else 0.0

    axis = 1 if extent(1) >= extent(0) else 0

    def start(key):
        route = routes.get(key) or [(0.0, 0.0)]
        return min(p[axis] for p in route)

    keys = sorted(routes, key=start)
    return [keys[i:i + EDGES_PER_CHUNK] for i in range(0, len(keys), EDGES_PER_CHUNK)]


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
        # kept up to date by set_node_states, so a paint never scans every state
        self.done_nodes: set = {n for n, st in self.states.items() if st in DONE_EDGE_STATES}
        self.edge_labels: dict = {k: v for k, v in (edge_labels or {}).items() if v}
        # each label's pill, made once (a step and each paint read them all)
        self.pills: dict = {k: self._pill(k, v) for k, v in self.edge_labels.items()}
        self.saved: dict = {}  # node -> saved entries at the step shown (else the graph's)
        self.dimmed: set = set()  # nodes drawn faded: not part of the pass shown
        self.highlight: set = set()
        self.roots = style.root_ids(graph)
        self.node_ids = list(layout.positions)
        self._index = {n: i for i, n in enumerate(self.node_ids)}
        self.attrs = [graph.nodes[n] for n in self.node_ids]
        # each box's fill when painted far out, made when first needed (a jump to the
        # start changes every node's state; only the boxes painted far out need a fill)
        self.fills: list = [None] * len(self.node_ids)
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

    def retire(self) -> None:
        """Let go of what this scene holds before it is replaced and deleted (it lives on
        until its ``deleteLater`` is delivered, and its two items point back at it): so the
        graph, the layout and the per-node lists go now, by reference count, not at a later
        collection (while the window's heap is frozen, ``gc_pause.settle_intake``, not before
        the run after next). A retired scene is shown nowhere, paints nothing and is deleted
        at the next turn of the event loop."""
        for item in (self.edges_item, self.nodes_item):
            if item is not None:
                self.removeItem(item)
                item._scene = None
        self.edges_item = self.nodes_item = None
        self.graph = self.layout = None
        self.attrs, self.node_ids, self.fills = [], [], []
        self._index, self.states, self.saved, self.pills, self.edge_labels = {}, {}, {}, {}, {}
        self.deleteLater()

    def _fill(self, i: int) -> str:
        node = self.node_ids[i]
        return style.node_fill(self.attrs[i], is_root=node in self.roots,
                               state=self.states.get(node, "pending"))

    # -- geometry ---------------------------------------------------------------------
    def content_rect(self) -> QtCore.QRectF:
        """Return the rectangle around every box, route and edge label."""
        x0, y0, x1, y1 = self.layout.bounds
        rect = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        for pill in self.pills.values():
            if pill is not None:
                rect = rect.united(pill)
        return rect

    def _pill(self, key, text: str) -> QtCore.QRectF | None:
        """Return the pill label ``text`` is written on for edge ``key`` (None: no route)."""
        route = self.layout.routes.get(key)
        return qt_paint.edge_label_rect(route, text) if route else None

    def _update_bounds(self) -> None:
        margin = 12.0  # room for highlight rings and thick borders
        new = self.content_rect().adjusted(-margin, -margin, margin, margin)
        if new != self.bounds_rect:
            for item in (getattr(self, "nodes_item", None), getattr(self, "edges_item", None)):
                if item is not None:
                    item.prepareGeometryChange()
            self.bounds_rect = new
            self.setSceneRect(new)

    def update_seen(self, item, rects: list | None) -> None:
        """Ask for ``rects`` of ``item`` to be painted again, leaving out those no view shows.

        Qt keeps one rectangle per item to repaint, the union of every ``update``: the
        label a step drops 30 steps up the graph, unioned with the node about to run,
        made each step repaint every node in view. A part no view shows needs no
        repaint: it is painted from the scene's state when it is scrolled into view.
        None, or more than ``MANY_UPDATES`` rectangles (a jump to the start), repaints the
        whole item.
        """
        if rects is None or len(rects) > MANY_UPDATES:
            item.update()
            return
        seen = [_seen_in(view) for view in self.views()]
        for rect in rects:
            if not seen or any(s.intersects(rect) for s in seen):
                item.update(rect)

    def _boxes(self, nodes) -> list | None:
        """Return the rectangles to repaint for ``nodes``' boxes (rings and borders included),
        None past ``MANY_UPDATES`` of them (``update_seen`` repaints the whole item)."""
        nodes = list(nodes)
        if len(nodes) > MANY_UPDATES:
            return None
        return [self.node_rect(node).adjusted(-8, -8, 8, 8) for node in nodes]

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
        edges_changed = []
        for node in changed:
            was, now = self.states.get(node), states[node]
            if (was in DONE_EDGE_STATES) != (now in DONE_EDGE_STATES):
                edges_changed.append(node)
                if now in DONE_EDGE_STATES:
                    self.done_nodes.add(node)
                else:
                    self.done_nodes.discard(node)
            self.states[node] = now
            self.fills[self._index[node]] = None
        self.update_seen(self.nodes_item, self._boxes(changed))
        if edges_changed:
            self.edges_item.sources_changed(edges_changed)

    def set_node_saved(self, saved: dict) -> None:
        """Draw the given nodes' saved tensors from ``{node_id: saved entries}`` (a step's
        state, alive or freed) instead of the graph's own; repaint only those boxes."""
        changed = []
        for node, entries in saved.items():
            if node not in self._index or self.saved.get(node) == entries:
                continue
            self.saved[node] = entries
            changed.append(node)
        self.update_seen(self.nodes_item, self._boxes(changed))

    def set_dimmed(self, node_ids) -> None:
        """Draw ``node_ids`` faded (not part of the pass shown); the others as usual."""
        new = {n for n in node_ids if n in self._index}
        self.update_seen(self.nodes_item, self._boxes(new ^ self.dimmed))
        self.dimmed = new

    def edge_label_at(self, point: QtCore.QPointF):
        """Return the edge ``(u, v, key)`` whose label holds ``point`` (None for none)."""
        for key, pill in self.pills.items():
            if pill is not None and pill.contains(point):
                return key
        return None

    def set_edge_labels(self, labels: dict) -> None:
        """Write text on edges, ``{(u, v, key): text}``; an empty text removes the label.
        Only the pills that changed are repainted (a step's new label and the one it drops),
        not every node in view."""
        dirty = []
        for key, text in labels.items():
            old, new = self.edge_labels.get(key), str(text) if text else None
            if old == new:
                continue
            if old:
                dirty.append(self.pills[key])
            if new:  # a label keeps its place (labels are drawn in this order)
                self.edge_labels[key] = new
                self.pills[key] = self._pill(key, new)
                dirty.append(self.pills[key])
            else:
                del self.edge_labels[key], self.pills[key]
        dirty = [rect for rect in dirty if rect is not None]
        self._update_bounds()  # the pills and their borders' antialiasing:
        self.update_seen(self.nodes_item, [rect.adjusted(-2, -2, 2, 2) for rect in dirty])

    def set_highlight(self, node_ids) -> None:
        """Ring the nodes ``node_ids`` (search hits); an empty set clears the rings."""
        old, self.highlight = self.highlight, {n for n in node_ids if n in self._index}
        self.update_seen(self.nodes_item, self._boxes(old ^ self.highlight))

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
