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

from functools import lru_cache
from itertools import chain, groupby
from operator import itemgetter

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.drawing import far_spans, qt_paint, style
from gradstep.drawing.box_index import BoxIndex
from gradstep.drawing.edge_pieces import CURVE, LINE, EdgePieces, each_once
from gradstep.drawing.label_places import LabelPlaces

DONE_EDGE_STATES = ("done", "freed")
MANY_UPDATES = 64  # more changed boxes or edges than this at once: repaint the whole item


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
        if lod < qt_paint.DETAIL_LOD:  # far out: plain boxes on whole device pixels
            self._paint_plain(painter, shown)
            return
        paint_boxes(painter, scene, shown, lod)
        # gradient labels over the boxes: where one is wider than the gap between two
        # layers (a left-to-right layout) it covers a box's edge, never hides under it
        seen = visible_rect(painter, option)
        for key, text in scene.edge_labels.items():
            pill = scene.pills.get(key)
            if pill is not None and (seen.isEmpty() or seen.intersects(pill)):
                qt_paint.paint_edge_label(painter, pill, text)

    def _paint_plain(self, painter, shown) -> None:
        """Far out: each box a plain filled rectangle, snapped to whole device pixels (at
        least one). With a big graph in view many boxes fall on the same pixels (100,000
        nodes fitted to a window: ~150 to a pixel row); only the last painted of those
        shows, so only it is painted (without this, a frame of the whole graph took ~0.5 s).
        Boxes of at most ``DOT_PX`` pixels a side are set in an image in one step (a wide
        graph far out leaves ~80,000 of them on distinct pixels)."""
        scene = self._scene
        corners = scene._box_index.corners
        rects = device_rects(painter.worldTransform(), corners if len(shown) == len(scene._lo)
                             else corners.take(shown, axis=1))  # (shown: all, or some, ascending)
        painter.save()
        painter.resetTransform()  # the rectangles are in device pixels
        if (len(rects) > 64 and (rects[:, 2:] <= DOT_PX).all()  # the image keeps each
                and (rects[:, 2] * rects[:, 3]).sum() <= DOT_PIXELS):  # pixel's last box itself
            _paint_dots(painter, rects, scene.fill_colours(shown))
            painter.restore()
            return
        last = last_of_each(rects)
        rects, colours = rects[last], scene.fill_colours(shown[last])
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        run, run_colour = [], None  # boxes of one fill in a row: in paint order, as they overlap
        for colour, (x, y, w, h) in zip(colours.tolist(), rects.tolist()):
            if colour != run_colour and run:
                painter.setBrush(QtGui.QColor.fromRgb(run_colour))
                painter.drawRects(run)
                run = []
            run_colour = colour
            run.append(QtCore.QRect(x, y, w, h))
        if run:
            painter.setBrush(QtGui.QColor.fromRgb(run_colour))
            painter.drawRects(run)
        painter.restore()


DOT_PX = 32  # far-out boxes this small (device pixels a side) are painted as one image
DOT_PIXELS = 1_000_000  # ... unless they cover more pixels than this, overlaps counted


def _paint_dots(painter, rects: np.ndarray, colours: np.ndarray) -> None:
    """Paint device-pixel boxes (``rects`` rows ``[x, y, w, h]``, in paint order) as one
    image: each pixel takes the colour of the last box over it."""
    x, y, w, h = (np.ascontiguousarray(column) for column in rects.T)  # (device_rects: views)
    x0, y0 = x.min(), y.min()
    width = int((x + w).max() - x0)
    height = int((y + h).max() - y0)
    area = w * h
    corner = (y - y0) * width + (x - x0)  # each box's first pixel in the image
    box = np.repeat(np.arange(len(rects)), area)  # each pixel of each box, in paint order
    start = np.cumsum(area) - area  # each box's first place in that order
    if (h == 1).all():  # (far out most boxes are one pixel high: a box's pixels are a row)
        pixels = np.repeat(corner - start, area) + np.arange(len(box))
    else:
        k = np.arange(len(box)) - np.repeat(start, area)
        across = np.repeat(w, area)
        pixels = np.repeat(corner, area) + (k // across) * width + k % across
    # the last box over each pixel (-1: none): the greatest, as boxes come in paint order
    last = np.full(width * height, -1, np.int64)
    np.maximum.at(last, pixels, box)
    palette = np.concatenate([colours.astype(np.uint32) | np.uint32(0xFF000000),
                              np.zeros(1, np.uint32)])  # -1 reads the last: transparent
    image = palette[last]
    picture = QtGui.QImage(image.data, width, height, 4 * width,  # opaque or clear (_paint_mask)
                           QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    painter.drawImage(QtCore.QPoint(int(x0), int(y0)), picture)


def paint_boxes(painter, scene: GraphScene, shown: np.ndarray, lod: float) -> None:
    """Paint the boxes ``shown`` (node indices, in order) with their text (``paint_node``).
    The boxes' corners are read in one call: a step's paint shows ~20 boxes, and their
    Python was ~40% of what painting them cost. Boxes of ``scene.dimmed`` are paled
    (``qt_paint.paint_node``'s ``dimmed``)."""
    node_ids, attrs_of, saved, dimmed = scene.node_ids, scene.attrs, scene.saved, scene.dimmed
    states, roots, highlight = scene.states, scene.roots, scene.highlight
    rects = QtCore.QRectF
    for i, (x0, y0), (x1, y1) in zip(shown.tolist(), scene._lo[shown].tolist(),
                                     scene._hi[shown].tolist()):
        node = node_ids[i]
        attrs = attrs_of[i]
        if node in saved:  # the saved tensors as they are at this step
            attrs = {**attrs, "saved": saved[node]}
        qt_paint.paint_node(painter, rects(x0, y0, x1 - x0, y1 - y0), attrs,
                            state=states.get(node, "pending"), is_root=node in roots,
                            highlighted=node in highlight, lod=lod, dimmed=node in dimmed)


def device_rects(transform: QtGui.QTransform, corners: np.ndarray) -> np.ndarray:
    """Return boxes ``corners`` (four rows: lo x, lo y, hi x, hi y, in scene coordinates)
    as whole device pixels under ``transform`` (scale and translation), ``[x, y, w, h]`` a
    row, at least one pixel each (a view of four rows: x, y, w, h). Each coordinate row is
    read on its own (a row of one number at a time is read faster than rows of two)."""
    limit = _FAR - 1  # far past any device; keeps the packing in last_of_each exact
    rows = np.empty((4, corners.shape[1]), np.int64)
    for axis, scale, shift in ((0, transform.m11(), transform.dx()),
                               (1, transform.m22(), transform.dy())):
        start, end = corners[axis] * scale, corners[axis + 2] * scale
        start += shift  # the same floats as lo * scale + shift
        end += shift
        for row in (start, end):
            np.rint(row, out=row)
            if not len(row) or not (-limit <= row.min() and row.max() <= limit):  # (NaN too)
                np.clip(row, -limit, limit, out=row)
        rows[axis] = start
        end -= start
        np.maximum(end, 1, out=end)
        rows[axis + 2] = end
    return rows.T  # (a view: each column one row of numbers)


_FAR = 2 ** 22  # device coordinates are packed in 23 bits, sizes in 9
_BIG = 2 ** 9


def last_of_each(rects: np.ndarray) -> np.ndarray:
    """Return the rows of ``rects`` to paint, in order: of rows that are the same
    rectangle, only the last (it covers the others)."""
    small = np.flatnonzero((rects[:, 2] < _BIG) & (rects[:, 3] < _BIG))
    if len(small) < 2:
        return np.arange(len(rects))
    x, y, w, h = (rects[small] + [_FAR, _FAR, 0, 0]).astype(np.uint64).T
    key = (x << np.uint64(41)) | (y << np.uint64(18)) | (w << np.uint64(9)) | h
    _, first = np.unique(key[::-1], return_index=True)
    kept = small[len(small) - 1 - first]
    big = np.setdiff1d(np.arange(len(rects)), small, assume_unique=True)
    return np.sort(np.concatenate([kept, big]))


def _route_rect(points) -> QtCore.QRectF:
    """Return the box around route ``points`` and what is stroked past them."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    pad = 12.0  # arrowheads and pen width reach past the route's points
    return (QtCore.QRectF(min(xs) - pad, min(ys) - pad,
                          max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad)
            if xs else QtCore.QRectF())


class EdgesItem(QtWidgets.QGraphicsItem):
    """Paints the edges piece by piece (``edge_pieces``: a route's bends): only the pieces
    that meet the exposed rectangle, plain, then those whose source is done stroked over
    them, each set as two paths (lines, arrowheads) made in one call."""

    def __init__(self, scene: GraphScene):
        super().__init__()
        self._scene = scene
        self.pieces = EdgePieces(scene.layout.routes)
        index = scene._index
        # each edge's source, as the scene's node index (its done state: scene.done_mask)
        keys = self.pieces.keys
        self._source = np.fromiter(map(index.__getitem__, map(itemgetter(0), keys)),
                                   dtype=np.int64, count=len(keys))
        self._piece_source = self._source[self.pieces.edge]  # each piece's edge's source
        self._edges_of: dict = {}  # source node -> its edges that have a route, in order
        for node, edges in groupby(keys, itemgetter(0)):  # (a node's edges come together)
            if node in self._edges_of:
                self._edges_of[node].extend(edges)
            else:
                self._edges_of[node] = list(edges)
        # without this flag Qt leaves option.exposedRect empty, and every paint of a step
        # stroked every edge of the graph
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(0)

    def sources_changed(self, nodes) -> None:
        """Repaint the edges leaving ``nodes`` (their colour follows their source's state)."""
        if len(nodes) > MANY_UPDATES:  # a jump: one repaint of the view, not one per edge
            self.update()
            return
        routes = self._scene.layout.routes
        self._scene.update_seen(self, [_route_rect(routes[key]) for node in nodes
                                       for key in self._edges_of.get(node, ())])

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return self._scene.bounds_rect

    def _paint_far(self, painter, shown: np.ndarray, is_done: np.ndarray) -> None:
        """Stroke pieces ``shown`` far out, those not done, then the done ones (``is_done``)
        over them: chords on whole device pixels, each once (``EdgePieces.chords``), one
        pixel wide, without antialiasing. The flat chords (most of a whole graph's) are set
        as pixels in one image (``far_spans``), the pixels Qt sets for them, then those Qt
        steps along x as its own runs (``far_spans.line_pixels``); Qt draws the others. A
        done piece is not drawn plain first: its chords are the same one-pixel lines in
        both colours, so the done ones cover every pixel its plain ones set."""
        t = painter.worldTransform()
        transform = (t.m11(), t.m22(), t.dx(), t.dy())
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        # (colours seen through: a pixel set twice is darker, so Qt draws every chord)
        clip = _device_clip(painter) if _opaque(style.EDGE) and _opaque(style.EDGE_DONE) else None
        box = self.pieces.chord_box(transform) if clip is not None else None
        # every chord's ends in the clip (the whole graph in view): nothing to cut to it
        inside = box is not None and (clip[0] <= box[0] and box[2] < clip[2]
                                      and clip[1] <= box[1] and box[3] < clip[3])
        parts = (((shown, style.EDGE),) if not is_done.any() else
                 ((shown[~is_done], style.EDGE), (shown[is_done], style.EDGE_DONE)))
        engine = _raster_engine(painter) if clip is not None else None
        for part, colour in parts:
            if len(part):
                ends = self.pieces.chord_ends(part, transform)
                if clip is not None:
                    mask, corner, ends = far_spans.chord_pixels(ends, clip, inside)
                    _paint_mask(painter, mask, corner, _rgb_of(colour))
                lines = each_once(ends)
                # the others Qt steps along x set as its own runs (far_spans.line_pixels)
                runs = far_spans.line_pixels(lines.T, clip, engine) if engine else None
                if runs is not None:
                    mask, corner, rest = runs
                    _paint_mask(painter, mask, corner, _rgb_of(colour))
                    lines = lines.take(rest, axis=0)
                # cosmetic: one pixel, square caps (what far_spans.line_runs sets)
                painter.setPen(QtGui.QPen(QtGui.QColor(colour), 0))
                qt_paint.draw_lines(painter, lines)
        painter.restore()

    def pieces_in(self, rect: QtCore.QRectF) -> np.ndarray:
        """Return the pieces that meet ``rect`` (all of them for an empty rect)."""
        if rect.isEmpty():
            return np.arange(len(self.pieces))
        return self.pieces.in_rect(rect.left(), rect.top(), rect.right(), rect.bottom())

    def paint(self, painter, option, widget=None) -> None:
        scene, pieces = self._scene, self.pieces
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        rect = visible_rect(painter, option)
        shown = self.pieces_in(rect)
        near = None if rect.isEmpty() else (rect.left(), rect.top(), rect.right(), rect.bottom())
        if not scene.done_mask.any():  # (the start of a pass: nothing done)
            is_done = np.zeros(len(shown), bool)
        elif len(shown) == len(pieces):  # (shown: every piece, or some, ascending)
            is_done = scene.done_mask[self._piece_source]
        else:
            is_done = scene.done_mask[self._piece_source[shown]]
        if lod < qt_paint.DETAIL_LOD and widget is not None:  # a view far out
            self._paint_far(painter, shown, is_done)
            return
        done = shown[is_done]
        parts = pieces.cut(shown, near, lod)  # once: the done ones are some of these parts
        plain = parts.elements()
        # Qt's antialiased stroke of a wide pen costs ~0.2 ms a long piece (a view of a wide
        # random DAG crosses ~1,600 of them: ~2.5 s); past AA_PARTS a view is a thicket
        # where the antialiasing is not seen, and is drawn without it (~10 ms); a picture
        # (an export: no widget) is always drawn with it
        smooth = lod >= qt_paint.DETAIL_LOD and (widget is None or _parts(plain[0]) <= AA_PARTS)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, smooth)
        for part, lines, colour, width in ((shown, plain, style.EDGE, 1.2),
                                           (done, None, style.EDGE_DONE, 2.0)):
            if len(part):  # the done ones over the plain ones
                lines = lines if lines is not None else parts.elements(is_done)
                qt_paint.paint_edges(painter, qt_paint.path_from_elements(*lines),
                                     qt_paint.path_from_elements(*pieces.heads(part)), colour, width)


AA_PARTS = 400  # more edge pieces than this in one paint of a view: no antialiasing


def _device_clip(painter) -> tuple[int, int, int, int] | None:
    """Return the device pixels a paint can reach, ``(x0, y0, x1, y1)`` (the device cut to
    the clip's bounds; the painter's transform reset), or None where a logical pixel is not
    one device pixel (a high-density screen: a one-pixel pen is thinner than an image's
    pixel there, so Qt draws every chord), or where a pixel Qt sets twice (chords that
    cross) does not look as one set once (an image of them sets each once): the painter's
    opacity under 1, a composition mode other than source-over."""
    device = painter.device()
    if (device is None or device.devicePixelRatioF() != 1.0 or painter.opacity() != 1.0
            or painter.compositionMode() != QtGui.QPainter.CompositionMode.CompositionMode_SourceOver):
        return None
    area = QtCore.QRect(0, 0, device.width(), device.height())
    if painter.hasClipping():
        area = area.intersected(painter.clipBoundingRect().toAlignedRect())
    return area.left(), area.top(), area.left() + area.width(), area.top() + area.height()


def _raster_engine(painter) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Return the size of the device Qt's raster engine paints on and the offset of the
    painter's pixels (its transform reset) in it (a widget: the window's backing store),
    or None where another engine paints, the offset is not whole pixels, or the device is
    wider or taller than 32,767 pixels (Qt may cut its lines nearer than its edges there)."""
    engine = painter.paintEngine()
    device = engine.paintDevice() if engine is not None else None
    to_device = painter.deviceTransform()
    if (device is None or engine.type() != QtGui.QPaintEngine.Type.Raster
            or max(device.width(), device.height()) > 32767
            or to_device.type().value > QtGui.QTransform.TransformationType.TxTranslate.value
            or not float(to_device.dx()).is_integer() or not float(to_device.dy()).is_integer()):
        return None
    return (device.width(), device.height()), (int(to_device.dx()), int(to_device.dy()))


def _paint_mask(painter, mask: np.ndarray, corner: tuple, rgb: int) -> None:
    """Paint the pixels of ``mask`` (its first pixel at device pixel ``corner``) in ``rgb``."""
    if not mask.any():
        return
    height, width = mask.shape
    image = np.where(mask, np.uint32(rgb | 0xFF000000), np.uint32(0))  # else transparent
    # every pixel opaque or clear: premultiplied, it reads the same, and Qt draws it as it
    # is (a plain ARGB32 image is converted to premultiplied first, every paint)
    picture = QtGui.QImage(image.data, width, height, 4 * width,
                           QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    painter.drawImage(QtCore.QPoint(*corner), picture)


def _parts(types: np.ndarray) -> int:
    """Return how many lines and curves path elements ``types`` hold."""
    return int(np.count_nonzero((types == LINE) | (types == CURVE)))


FILL_PART = 16384  # boxes whose kind one step between frames reads
_STATE_CODES = {state: code for code, state in enumerate(style.STATE_LOOK)}
_PENDING = _STATE_CODES["pending"]


def _state_code(state) -> int:
    """Return the number of backward state ``state`` (an unknown one is pending, as in
    ``style.state_look``)."""
    return _STATE_CODES.get(state or "pending", _PENDING)


def _state_rgbs() -> np.ndarray:
    """Return each state number's fill as ``0xRRGGBB``, -1 where the box keeps its own."""
    return np.array([-1 if look.fill is None else _rgb_of(look.fill)
                     for look in style.STATE_LOOK.values()], np.int64)


@lru_cache(maxsize=8)
def _opaque(colour: str) -> bool:
    """Return whether ``colour`` (a name Qt reads) is not seen through."""
    return QtGui.QColor(colour).alpha() == 255


@lru_cache(maxsize=64)
def _rgb_of(colour: str) -> int:
    """Return ``colour`` (a name Qt reads) as ``0xRRGGBB``."""
    return QtGui.QColor(colour).rgb() & 0xFFFFFF


def _seen_in(view) -> QtCore.QRectF:
    """Return the part of the scene ``view`` shows now."""
    return view.mapToScene(view.viewport().rect()).boundingRect()


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
        # each label's pill, placed once (a step and each paint read them all): where no
        # other label is (``label_places``), the SVG's and the animation's places too
        self.pills: dict = {}
        self.saved: dict = {}  # node -> saved entries at the step shown (else the graph's)
        self.dimmed: set = set()  # nodes drawn faded: not part of the pass shown
        self.highlight: set = set()
        self.roots = style.root_ids(graph)
        self.node_ids = list(layout.positions)
        self._index = {n: i for i, n in enumerate(self.node_ids)}
        self.done_mask = np.zeros(len(self.node_ids), bool)  # done_nodes, by node index
        self.done_mask[[self._index[n] for n in self.done_nodes if n in self._index]] = True
        self.attrs = list(map(graph._node.__getitem__, self.node_ids))  # (graph.nodes[n])
        # far out, each box's fill is read in numpy from its state (a number, kept by
        # set_node_states) and its own fill (root or kind, made when first painted far out):
        # a frame of the whole 100,000-node chain after a jump read each in Python (~150 ms)
        self._state_code = np.full(len(self.node_ids), _PENDING, np.int8)
        given = [(self._index[n], _state_code(s)) for n, s in self.states.items()
                 if n in self._index]
        if given:
            at, codes = zip(*given)
            self._state_code[list(at)] = codes
        self._own_rgb = None  # each box's own fill far out: _own_fill_step
        self._kinds: list = []  # the boxes' kinds read so far, for it
        # (every position and size a pair: one float after another, as np.asarray reads them)
        centres = np.fromiter(chain.from_iterable(layout.positions.values()), float,
                              count=2 * len(self.node_ids)).reshape(-1, 2)
        half = np.fromiter(chain.from_iterable(map(layout.sizes.__getitem__, self.node_ids)),
                           float, count=2 * len(self.node_ids)).reshape(-1, 2) / 2
        self._lo, self._hi = centres - half, centres + half
        self._box_index = BoxIndex(self._lo, self._hi)  # a paint's boxes by binary search
        self._places = LabelPlaces(layout, self._box_index)
        self._place_labels(self.edge_labels)
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
        self.attrs, self.node_ids = [], []
        self._index, self.states, self.saved, self.pills, self.edge_labels = {}, {}, {}, {}, {}
        self._places = None
        self.deleteLater()

    def fill_colours(self, indices: np.ndarray) -> np.ndarray:
        """Return the far-out fill of nodes ``indices`` as ``0xRRGGBB`` numbers: its state's
        (``style.node_fill``), else its own. ``indices`` ascending, each once (a paint's
        ``shown``): as many as there are nodes is read as every node, in order."""
        while self._own_rgb is None:
            self._own_fill_step()
        every = len(indices) == len(self._state_code)  # (all, ascending: no gather)
        by_state = _state_rgbs()[self._state_code if every else self._state_code[indices]]
        own = self._own_rgb if every else self._own_rgb[indices]
        return np.where(by_state >= 0, by_state, own).astype(np.uint32)

    def far_step(self) -> bool:
        """Make the next part of what the first frame far out would (each box's own fill,
        then the edges' chord table: ``EdgePieces.far_step``), a few ms; return whether
        all is made. A window calls it between frames (``qt_graph_view``); a paint before
        then makes what is left, the same."""
        if self._own_rgb is None:
            self._own_fill_step()
            return False
        return self.edges_item is None or self.edges_item.pieces.far_step()

    def _own_fill_step(self) -> None:
        """Read the kinds of the next ``FILL_PART`` boxes; with every box's read, set
        ``_own_rgb``: each box's fill where its state sets none (``style.node_fill``: root
        green, else its kind's), as ``0xRRGGBB``, each kind's colour read once."""
        kinds = self._kinds
        begin = len(kinds)
        kinds.extend([attrs.get("kind", "op") for attrs in self.attrs[begin:begin + FILL_PART]])
        if len(kinds) < len(self.attrs):
            return
        rgb = {kind: _rgb_of(style.node_fill({"kind": kind})) for kind in set(kinds)}
        fills = np.fromiter(map(rgb.__getitem__, kinds), np.int64, count=len(kinds))
        fills[[self._index[n] for n in self.roots if n in self._index]] = _rgb_of(
            style.node_fill({}, is_root=True))
        self._own_rgb, self._kinds = fills, []


    # -- geometry ---------------------------------------------------------------------
    def content_rect(self) -> QtCore.QRectF:
        """Return the rectangle around every box, route and edge label."""
        x0, y0, x1, y1 = self.layout.bounds
        rect = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        for pill in self.pills.values():
            if pill is not None:
                rect = rect.united(pill)
        return rect

    def _place_labels(self, labels: dict) -> list | None:
        """Place the labels ``{key: text}`` ('' for none) among the others; return the
        rectangles they, and the labels that moved for them, left or took (None for more
        than ``MANY_UPDATES``: the whole item is repainted)."""
        moved = self._places.set_texts(labels)
        dirty = [] if len(moved) <= MANY_UPDATES else None
        pills = self.pills
        for key, (_, new) in moved.items():
            rect = pills.pop(key, None)  # (the old box's)
            if rect is not None and dirty is not None:
                dirty.append(rect)
            if new is not None:
                rect = pills[key] = QtCore.QRectF(*new)
                if dirty is not None:
                    dirty.append(rect)
        return dirty

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
        return self._box_index.meeting(rect.left() - pad, rect.top() - pad,
                                       rect.right() + pad, rect.bottom() + pad)

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
                self.done_mask[self._index[node]] = now in DONE_EDGE_STATES
            self.states[node] = now
        at = list(map(self._index.__getitem__, changed))
        self._state_code[at] = [_state_code(states[n]) for n in changed]
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
        for key, text in labels.items():
            new = str(text) if text else None
            if new:  # a label keeps its place (labels are drawn in this order)
                self.edge_labels[key] = new
            else:
                self.edge_labels.pop(key, None)
        dirty = self._place_labels(labels)  # theirs, and those of labels moved for them
        self._update_bounds()  # the pills and their borders' antialiasing:
        self.update_seen(self.nodes_item, dirty if dirty is None
                         else [rect.adjusted(-2, -2, 2, 2) for rect in dirty])

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
