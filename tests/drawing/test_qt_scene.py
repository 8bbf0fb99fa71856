"""The Qt scene: hit-testing, signals, incremental state repaint, level of detail."""

import numpy as np
import pytest

pytest.importorskip("PySide6")
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gradstep.drawing import qt_paint, samples  # noqa: E402
from gradstep.drawing.layout import layout  # noqa: E402
from gradstep.drawing.qt_scene import GraphScene  # noqa: E402


@pytest.fixture
def scene(qtbot):
    graph = samples.scoped_blocks(3)
    made = GraphScene(graph, layout(graph))
    yield made
    made.deleteLater()


def centre(scene, node):
    x, y = scene.layout.positions[node]
    return QtCore.QPointF(x, y)


def test_node_at_finds_every_node_and_not_the_background(scene):
    for node in scene.graph.nodes:
        assert scene.node_at(centre(scene, node)) == node
    x0, y0, _, _ = scene.layout.bounds
    assert scene.node_at(QtCore.QPointF(x0 - 50, y0 - 50)) is None


def test_only_changed_nodes_are_repainted(scene, monkeypatch):
    rects = []
    monkeypatch.setattr(scene.nodes_item, "update", lambda rect=None: rects.append(rect))
    invalidated = []
    monkeypatch.setattr(scene.edges_item, "sources_changed", lambda nodes: invalidated.append(nodes))
    scene.set_node_states({"n1": "current"})
    assert len(rects) == 1 and rects[0].contains(scene.node_rect("n1"))
    assert not invalidated  # edges only change colour once their source is done
    rects.clear()
    scene.set_node_states({"n1": "current", "n2": "pending"})  # nothing new
    assert rects == []
    scene.set_node_states({"n1": "done"})
    assert len(rects) == 1 and invalidated == [["n1"]]
    assert scene.states["n1"] == "done"


def render(scene, scale):
    rect = scene.sceneRect()
    image = QtGui.QImage(max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale)),
                         QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtCore.Qt.GlobalColor.white)
    painter = QtGui.QPainter(image)
    scene.render(painter, QtCore.QRectF(image.rect()), rect)
    painter.end()
    return image


def test_text_is_left_out_when_zoomed_far_out(scene, monkeypatch):
    calls = []
    real = qt_paint._paint_lines
    monkeypatch.setattr(qt_paint, "_paint_lines", lambda *a: calls.append(1) or real(*a))
    render(scene, 1.0)
    assert len(calls) == scene.graph.number_of_nodes()
    calls.clear()
    far = render(scene, 0.1)
    assert calls == []
    colours = {far.pixel(x, y) for x in range(far.width()) for y in range(far.height())}
    assert len(colours) > 2  # the boxes are still there, as plain coloured rectangles


def test_edge_labels_and_highlight(scene, monkeypatch):
    drawn = []
    monkeypatch.setattr(qt_paint, "paint_edge_label", lambda p, route, text: drawn.append(text))
    scene.set_edge_labels({("n0", "n1", 0): "[1.5]"})
    scene.set_highlight({"n1", "nope"})
    assert scene.highlight == {"n1"}
    render(scene, 1.0)
    assert drawn == ["[1.5]"]
    scene.set_edge_labels({("n0", "n1", 0): ""})
    assert scene.edge_labels == {}


def test_click_and_hover_signals(scene, qtbot):
    view = QtWidgets.QGraphicsView(scene)
    view.setMouseTracking(True)
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    view.centerOn(centre(scene, "n1"))
    qtbot.waitExposed(view)
    at = view.mapFromScene(centre(scene, "n1"))
    with qtbot.waitSignal(scene.sigNodeClicked) as clicked:
        qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=at)
    assert clicked.args == ["n1"]
    with qtbot.waitSignal(scene.sigNodeHovered) as hovered:
        qtbot.mouseMove(view.viewport(), at + QtCore.QPoint(1, 0))
    assert hovered.args == ["n1"]


def test_a_big_graph_builds_quickly_as_two_items(qtbot):
    graph = samples.chain(3000)
    made = GraphScene(graph, layout(graph))
    assert len(made.items()) == 2
    made.deleteLater()


def test_edge_labels_widen_the_drawing(scene):
    before = scene.content_rect()
    text = "[0.25, 0.25, 0.25, 0.25]" + " and more text" * 60  # wider than the drawing
    route = max(scene.layout.routes.values(), key=lambda r: max(p[0] for p in r))
    key = next(k for k, r in scene.layout.routes.items() if r is route)
    scene.set_edge_labels({key: text})
    after = scene.content_rect()
    assert after.contains(qt_paint.edge_label_rect(route, text))
    assert after.width() > before.width()
    assert scene.sceneRect().contains(after)


def test_done_nodes_follow_the_states_forward_and_back(scene):
    # the edge item draws done edges from scene.done_nodes, kept as states change
    sequence = [{"n0": "done"}, {"n1": "freed"}, {"n2": "current"},
                {"n1": "pending"}, {"n0": "error"}, {"n2": "done"}]
    for states in sequence:
        scene.set_node_states(states)
        scanned = {n for n, st in scene.states.items() if st in ("done", "freed")}
        assert scene.done_nodes == scanned



def reference_paths(routes: dict, keys) -> tuple[QtGui.QPainterPath, QtGui.QPainterPath]:
    """The edges drawn route by route with QPainterPath's own calls (what the scene drew
    before edge_pieces): each bend a quadTo, each arrowhead a closed triangle."""
    from gradstep.drawing import edge_geometry

    lines, heads = QtGui.QPainterPath(), QtGui.QPainterPath()
    for key in keys:
        route = routes[key]
        lines.moveTo(*route[0])
        for piece in edge_geometry.smooth_segments(route):
            if piece[0] == "L":
                lines.lineTo(*piece[1])
            else:
                lines.quadTo(QtCore.QPointF(*piece[1]), QtCore.QPointF(*piece[2]))
        corners = edge_geometry.arrowhead(route[-2], route[-1])
        heads.addPolygon(QtGui.QPolygonF([QtCore.QPointF(*p) for p in corners]))
        heads.closeSubpath()
    return lines, heads


def elements(path: QtGui.QPainterPath) -> list:
    return [(e.type, round(e.x, 9), round(e.y, 9))
            for e in (path.elementAt(i) for i in range(path.elementCount()))]


@pytest.mark.parametrize("graph", [samples.layered_dag(400, width=15), samples.chain(30),
                                   samples.multi_edge_graph(), samples.scoped_blocks(3)],
                         ids=["dag", "chain", "multi_edge", "blocks"])
def test_edge_pieces_make_the_paths_qt_makes_route_by_route(graph):
    from gradstep.drawing.edge_pieces import EdgePieces

    routes = {k: r for k, r in layout(graph).routes.items() if r and len(r) >= 2}
    pieces = EdgePieces(routes)
    every = np.arange(len(pieces))
    lines, heads = reference_paths(routes, list(routes))
    assert elements(qt_paint.path_from_elements(*pieces.elements(every))) == elements(lines)
    assert elements(qt_paint.path_from_elements(*pieces.heads(every))) == elements(heads)
    # a set of whole edges draws them alone
    some = [k for i, k in enumerate(routes) if i % 3 == 0]
    chosen = np.flatnonzero(np.isin(pieces.edge, [pieces.keys.index(k) for k in some]))
    lines, heads = reference_paths(routes, some)
    assert elements(qt_paint.path_from_elements(*pieces.elements(chosen))) == elements(lines)
    assert elements(qt_paint.path_from_elements(*pieces.heads(chosen))) == elements(heads)


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_pieces_in_a_rectangle_are_those_a_scan_of_every_box_finds(direction):
    from gradstep.drawing.edge_pieces import EdgePieces

    graph = samples.layered_dag(3000, width=60, seed=3)
    pieces = EdgePieces(layout(graph, rankdir=direction).routes)
    lo, hi = pieces.lo, pieces.hi
    rng = np.random.default_rng(0)
    x_max, y_max = hi.max(axis=0)
    for size in (50.0, 400.0, 5000.0, 1e7):  # a step's boxes, a view, far out, everything
        for _ in range(40):
            x0, y0 = rng.uniform(-100, x_max), rng.uniform(-100, y_max)
            x1, y1 = x0 + rng.uniform(1, size), y0 + rng.uniform(1, size)
            scan = np.flatnonzero((hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0)
                                  & (lo[:, 1] <= y1))
            assert np.array_equal(pieces.in_rect(x0, y0, x1, y1), scan)
    assert EdgePieces({}).in_rect(0, 0, 1, 1).tolist() == []


def test_the_done_edges_path_cut_once_is_the_path_of_them_cut_alone():
    from gradstep.drawing.edge_pieces import EdgePieces

    graph = samples.layered_dag(3000, width=60, seed=4)
    pieces = EdgePieces(layout(graph).routes)
    rng = np.random.default_rng(1)
    x_max, y_max = pieces.hi.max(axis=0)
    for _ in range(60):
        x0, y0 = rng.uniform(0, x_max), rng.uniform(0, y_max)
        near = (x0, y0, x0 + rng.uniform(20, 800), y0 + rng.uniform(20, 800))
        scale = float(rng.choice([0.3, 1.0, 3.0]))
        shown = pieces.in_rect(*near)
        done = rng.random(len(shown)) < 0.4
        cut = pieces.cut(shown, near, scale)
        for got, alone in ((cut.elements(), pieces.elements(shown, near, scale)),
                           (cut.elements(done), pieces.elements(shown[done], near, scale))):
            assert np.array_equal(got[0], alone[0]) and np.array_equal(got[1], alone[1])


def test_edges_are_painted_piece_by_piece_with_their_done_state(qtbot, monkeypatch):
    graph = samples.layered_dag(2000, width=40)
    scene = GraphScene(graph, layout(graph))
    item = scene.edges_item
    pieces = item.pieces
    assert {pieces.keys[e] for e in pieces.edge} == set(graph.edges(keys=True))
    # a view of one part of the graph strokes only the pieces there, those of the edges
    # of a node in it among them
    rect = scene.node_rect("n500").adjusted(-50, -50, 50, 50)
    near = item.pieces_in(rect)
    assert 0 < len(near) < len(pieces) / 20
    touching = {pieces.keys.index(k) for k in graph.edges(keys=True) if "n500" in k[:2]}
    assert touching and touching <= set(pieces.edge[near].tolist())
    stroked = []
    monkeypatch.setattr(qt_paint, "paint_edges", lambda painter, lines, heads, colour, width:
                        stroked.append((colour, lines.elementCount(), heads.elementCount())))
    done = [n for i, n in enumerate(scene.node_ids) if i % 5 == 0]
    scene.set_node_states(dict.fromkeys(done, "done"))
    render(scene, 0.05)  # paints every piece, plain, then those whose source is done
    from gradstep.drawing import style

    done_pieces = np.flatnonzero(np.isin(pieces.edge, [i for i, k in enumerate(pieces.keys)
                                                       if k[0] in set(done)]))
    expected_done = qt_paint.path_from_elements(*pieces.elements(done_pieces)).elementCount()
    expected_all = qt_paint.path_from_elements(*pieces.elements(np.arange(len(pieces))))
    assert stroked == [(style.EDGE, expected_all.elementCount(), 4 * len(pieces.keys)),
                       (style.EDGE_DONE, expected_done,
                        4 * len({k for k in pieces.keys if k[0] in set(done)}))]


def held_picture(qtbot, scene, at, steps=(), *, size=(300, 300), then_at=None,
                 antialias=False) -> QtGui.QImage:
    """Return what a view of ``scene`` holds (its backing store, not a fresh paint of the
    whole view) once centred on ``at`` and each of ``steps`` (callables on the scene) was
    painted; ``then_at``: then scrolled there."""
    view = QtWidgets.QGraphicsView(scene)
    view.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
    if antialias:
        view.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.centerOn(at)
    QtWidgets.QApplication.processEvents()
    for step in steps:
        step(scene)
        QtWidgets.QApplication.processEvents()
    if then_at is not None:
        view.centerOn(then_at)
        QtWidgets.QApplication.processEvents()
    return view.screen().grabWindow(view.winId()).toImage()


def test_changed_edge_labels_repaint_only_their_pills_and_draw_what_a_fresh_scene_draws(
        qtbot, monkeypatch):
    graph = samples.scoped_blocks(3)
    keys = sorted(layout(graph).routes)[:3]
    first = {keys[0]: "[1.5, 2.5]", keys[1]: "[0.25]"}
    then = {keys[0]: "", keys[1]: "[0.125, 7.0]", keys[2]: "[3.0]"}
    stepped = GraphScene(graph, layout(graph))
    rects = []
    update = stepped.nodes_item.update
    monkeypatch.setattr(stepped.nodes_item, "update",
                        lambda *a: (rects.append(a), update(*a)))
    at, size = centre(stepped, "n1"), (500, 700)
    got = held_picture(qtbot, stepped, at, [lambda s: s.set_edge_labels(first),
                                            lambda s: s.set_edge_labels(then)], size=size)
    assert rects and all(a and not a[0].isEmpty() for a in rects)  # never the whole item
    fresh = GraphScene(graph, layout(graph))
    want = held_picture(qtbot, fresh, at, [lambda s: s.set_edge_labels(
        {k: t for k, t in then.items() if t})], size=size)
    assert stepped.edge_labels == fresh.edge_labels
    assert got == want


def test_changes_out_of_view_are_not_repainted_and_show_once_scrolled_to(qtbot, monkeypatch):
    graph = samples.chain(200)
    laid = layout(graph)
    key = min(laid.routes, key=lambda k: laid.routes[k][0][1])
    top_node = key[0]
    bottom = max(graph.nodes, key=lambda n: laid.positions[n][1])

    def change(scene):
        scene.set_node_states({top_node: "done"})
        scene.set_edge_labels({key: "[0.5]"})

    def look(scene, changes):  # then scrolled to what changed out of view
        return held_picture(qtbot, scene, centre(scene, bottom), [changes],
                            then_at=centre(scene, top_node))

    stepped = GraphScene(graph, laid)
    asked = []
    monkeypatch.setattr(stepped.nodes_item, "update", lambda *a: asked.append(a))
    monkeypatch.setattr(stepped.edges_item, "update", lambda *a: asked.append(a))
    got = look(stepped, change)
    assert asked == []  # nothing in view changed
    fresh = GraphScene(graph, laid)
    change(fresh)  # changed before any view showed it
    assert look(fresh, lambda s: None) == got
    assert look(GraphScene(graph, laid), lambda s: None) != got  # the change is in the picture


def test_a_jump_over_many_nodes_repaints_each_item_once_and_draws_the_new_states(
        qtbot, monkeypatch):
    graph = samples.chain(200)
    laid = layout(graph)
    done = {n: "done" for n in graph.nodes}
    middle = sorted(graph.nodes, key=lambda n: laid.positions[n][1])[100]

    def look(scene, changes):
        return held_picture(qtbot, scene, centre(scene, middle), [changes])

    stepped = GraphScene(graph, laid)
    asked = []
    for item in (stepped.nodes_item, stepped.edges_item):
        update = item.update
        monkeypatch.setattr(item, "update", lambda *a, _u=update: (asked.append(a), _u(*a)))
    got = look(stepped, lambda s: s.set_node_states(done))
    assert asked == [(), ()]  # one whole repaint of each item, not one per node or edge
    fresh = GraphScene(graph, laid, states=done)
    assert look(fresh, lambda s: None) == got
    assert look(GraphScene(graph, laid), lambda s: None) != got


def test_edge_label_at_finds_the_pill_as_its_text_changes(scene):
    key = sorted(scene.layout.routes)[0]
    route = scene.layout.routes[key]
    scene.set_edge_labels({key: "[1.5]"})
    short = qt_paint.edge_label_rect(route, "[1.5]")
    assert scene.edge_label_at(short.center()) == key
    wide = "[1.5, 2.5, 3.5, 4.5, 5.5]"
    scene.set_edge_labels({key: wide})
    end = qt_paint.edge_label_rect(route, wide).topRight() + QtCore.QPointF(-1, 1)
    assert not short.contains(end) and scene.edge_label_at(end) == key
    scene.set_edge_labels({key: ""})
    assert scene.edge_label_at(short.center()) is None and scene.pills == {}


def test_far_out_boxes_take_the_fill_of_their_state_as_it_changes(scene):
    from gradstep.drawing import style

    node = "n1"

    def far_colour():
        scale = 0.1
        image = render(scene, scale)
        rect = scene.sceneRect()
        centre_px = (centre(scene, node) - rect.topLeft()) * scale
        return QtGui.QColor(image.pixel(int(centre_px.x()), int(centre_px.y()))).name()

    for state in ("pending", "done", "current", "pending"):
        scene.set_node_states({node: state})
        fill = style.node_fill(scene.graph.nodes[node], is_root=node in scene.roots, state=state)
        assert far_colour() == QtGui.QColor(fill).name(), state


def test_dashed_and_dotted_borders_repainted_in_part_match_a_fresh_scene(qtbot):
    """A step repaints strips (a node, its edges, a label's pill) that can cut across a
    freed box's dotted border or a failed one's dashed border: the dashes must not shift."""
    import numpy as np

    graph = samples.layered_dag(300, width=12, seed=2)
    laid = layout(graph)

    def pixels(scene, centre_at, change):
        image = held_picture(qtbot, scene, centre_at, [change], antialias=True).convertToFormat(
            QtGui.QImage.Format.Format_RGB32)
        rows = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(
            image.height(), image.bytesPerLine() // 4, 4)
        return rows[:, :image.width(), :3].astype(int)

    def differ(got, want) -> int:
        return int((np.abs(got - want).max(axis=2) > 40).sum())

    for border in ("freed", "error"):
        states = {n: border for n in laid.positions}
        for node in list(laid.positions)[5:9]:  # a node turns freed (or failed) among others
            before = {**states, node: "pending"}
            at = QtCore.QPointF(*laid.positions[node])
            got = pixels(GraphScene(graph, laid, states=before), at,
                         lambda s, n=node, b=border: s.set_node_states({n: b}))
            want = pixels(GraphScene(graph, laid, states=states), at, lambda s: None)
            assert differ(got, want) == 0, (border, node)
        key = next(iter(laid.routes))  # a label's pill over those borders
        label = {key: "[1.25, -3.0, 7.5]"}
        at = qt_paint.edge_label_rect(laid.routes[key], label[key]).center()
        got = pixels(GraphScene(graph, laid, states=states), at,
                     lambda s, shown=label: s.set_edge_labels(shown))
        want = pixels(GraphScene(graph, laid, states=states, edge_labels=label), at, lambda s: None)
        assert differ(got, want) == 0, (border, key)


def test_same_device_rectangles_are_painted_once_the_last_kept():
    from gradstep.drawing.qt_scene import last_of_each

    rects = np.array([[0, 0, 1, 1], [5, 5, 1, 1], [0, 0, 1, 1], [-3, 4, 600, 2],
                      [-3, 4, 600, 2], [5, 5, 1, 1], [5, 5, 2, 1]])
    # rows 0 and 1 are painted over by 2 and 5; rectangles too big to pack are all kept
    assert last_of_each(rects).tolist() == [2, 3, 4, 5, 6]
    assert last_of_each(rects[:1]).tolist() == [0]


@pytest.mark.parametrize("as_image", [True, False])
@pytest.mark.parametrize("scale", [0.14, 0.1, 0.01, 0.001])
def test_far_out_a_big_graph_paints_each_pixel_once_and_looks_as_every_box_painted(
        qtbot, monkeypatch, scale, as_image):
    """A big graph fitted to a window puts many boxes on one pixel; painting only the last
    of them (and small ones as one image) gives the same picture as painting every box in
    turn, in far fewer calls."""
    from gradstep.drawing import qt_scene

    if not as_image:  # the boxes as rectangles, each pixel's last
        monkeypatch.setattr(qt_scene, "DOT_PX", 0)

    graph = samples.layered_dag(3000, width=30)
    made = GraphScene(graph, layout(graph))
    states = {node: ("done" if i % 3 == 0 else "current" if i % 7 == 0 else "pending")
              for i, node in enumerate(made.node_ids)}
    made.set_node_states(states)
    painted, dotted = [], []
    real_rects, real_dots = QtGui.QPainter.drawRects, qt_scene._paint_dots
    monkeypatch.setattr(QtGui.QPainter, "drawRects",
                        lambda self, rects: painted.append(len(rects)) or real_rects(self, rects))
    monkeypatch.setattr(qt_scene, "_paint_dots",
                        lambda painter, rects, colours: dotted.append(len(rects))
                        or real_dots(painter, rects, colours))
    thinned = render(made, scale)
    calls = len(painted)

    def every_box(painter, rects, colours):  # one rectangle per box, in turn
        for (x, y, w, h), colour in zip(rects.tolist(), colours.tolist()):
            painter.fillRect(QtCore.QRect(x, y, w, h), QtGui.QColor.fromRgb(colour))

    monkeypatch.setattr(qt_scene, "last_of_each", lambda rects: np.arange(len(rects)))
    monkeypatch.setattr(qt_scene, "_paint_dots", every_box)
    every = render(made, scale)
    assert thinned == every
    if as_image:  # at 0.001, 3,000 boxes on ~4 x 8 pixels: one image, no rectangle calls
        assert len(dotted) == 1 and calls == 0
    else:
        assert not dotted and 0 < calls
    made.deleteLater()


def test_far_out_edges_are_chords_on_whole_pixels_each_once():
    from gradstep.drawing.edge_pieces import EdgePieces

    graph = samples.chain(1000)
    routes = layout(graph).routes
    pieces = EdgePieces(routes)
    every = np.arange(len(pieces))
    near = pieces.chords(every, (0.1, 0.1, 0.0, 0.0))
    ends = {tuple(p) for p in np.rint(pieces.end * 0.1).tolist()}
    assert ends <= {tuple(p) for p in near.reshape(-1, 2).tolist()}  # each piece still drawn
    far = pieces.chords(every, (0.001, 0.001, 5.0, 5.0))
    assert len(far) < len(near) / 5  # ~70 pixels tall: ~1,000 chords on them
    assert (far == np.rint(far)).all()
    # each chord once, and every piece's chords there: a line's ends, a curve's two halves
    middle = (pieces.start + 2 * pieces.control + pieces.end) / 4
    halves = [(pieces.start, np.where(pieces.curve[:, None], middle, pieces.end)),
              (middle[pieces.curve], pieces.end[pieces.curve])]
    expected = {tuple(row) for a, b in halves
                for row in np.rint(np.concatenate([a, b], axis=1) * 0.001 + 5.0).tolist()}
    rows = [tuple(row) for row in far.tolist()]
    assert len(rows) == len(set(rows)) and set(rows) == expected


def test_far_out_chord_ends_are_four_rows_of_ints_of_the_scaled_chords():
    from gradstep.drawing.edge_pieces import EdgePieces, each_once

    pieces = EdgePieces(layout(samples.layered_dag(300, width=12)).routes)
    middle = (pieces.start + 2 * pieces.control + pieces.end) / 4
    rows = []  # each piece's chords in piece order, scene coordinates
    for i in range(len(pieces)):
        if pieces.curve[i]:
            rows += [[*pieces.start[i], *middle[i]], [*middle[i], *pieces.end[i]]]
        else:
            rows.append([*pieces.start[i], *pieces.end[i]])
    rows = np.array(rows)
    per = np.where(pieces.curve, 2, 1)
    for shown in (np.arange(len(pieces)), np.arange(1, len(pieces), 3)):
        for transform in ((0.01, 0.02, 3.3, -1.6), (0.5, 0.5, -70000.2, 12.5)):
            ends = pieces.chord_ends(shown, transform)
            assert ends.dtype == np.int32 and ends.shape[0] == 4
            mine = rows[np.repeat(np.cumsum(per) - per, per)[np.isin(
                np.repeat(np.arange(len(pieces)), per), shown)] + np.concatenate(
                [np.arange(k) for k in per[shown]])]
            sx, sy, dx, dy = transform
            expected = np.clip(np.rint(mine * [sx, sy, sx, sy] + [dx, dy, dx, dy]),
                               -2**15 + 1, 2**15 - 1)
            assert (ends.T == expected).all()
            once = each_once(ends)
            assert once.dtype == np.float64
            assert {tuple(r) for r in once.tolist()} == {tuple(r) for r in expected.tolist()}
            assert len(once) == len({tuple(r) for r in expected.tolist()})


def test_a_mask_is_painted_as_an_opaque_image_without_conversion(qtbot, monkeypatch):
    from gradstep.drawing import qt_scene

    rng = np.random.default_rng(2)
    mask = rng.random((37, 53)) < 0.4
    pictures, formats = [], []
    real = QtGui.QPainter.drawImage
    monkeypatch.setattr(QtGui.QPainter, "drawImage", lambda painter, at, image: (
        formats.append(image.format()), real(painter, at, image)))
    for by_mask in (True, False):
        image = QtGui.QImage(80, 60, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QtGui.QColor("#fafafa"))
        painter = QtGui.QPainter(image)
        painter.setClipRect(3, 4, 50, 40)
        if by_mask:
            qt_scene._paint_mask(painter, mask, (5, 7), 0x336699)
        else:  # every pixel of the mask, one by one
            painter.setPen(QtGui.QPen(QtGui.QColor("#336699"), 0))
            for y, x in zip(*np.nonzero(mask)):
                painter.drawPoint(int(x) + 5, int(y) + 7)
        painter.end()
        pictures.append(image)
    assert pictures[0] == pictures[1]
    assert formats == [QtGui.QImage.Format.Format_ARGB32_Premultiplied]  # drawn as it is


def test_lines_drawn_from_an_array_are_the_lines_drawn_one_by_one(qtbot):
    rng = np.random.default_rng(0)
    lines = np.rint(rng.uniform(-20, 120, (300, 4)))
    pictures = []
    for one_call in (True, False):
        image = QtGui.QImage(100, 100, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QtGui.QPainter(image)
        painter.setPen(QtGui.QPen(QtGui.QColor("#336699"), 0))
        if one_call:
            qt_paint.draw_lines(painter, lines)
        else:
            for x0, y0, x1, y1 in lines.tolist():
                painter.drawLine(QtCore.QLineF(x0, y0, x1, y1))
        painter.end()
        pictures.append(image)
    assert pictures[0] == pictures[1]
    painted = np.frombuffer(pictures[0].constBits(), np.uint32)
    assert np.count_nonzero(painted) > 1000  # the lines are there, not two empty pictures


def test_a_graph_without_edges_is_drawn(qtbot):
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_node("n0", name="SumBackward0", kind="op", label="sum", shape=[], saved=[])
    made = GraphScene(graph, layout(graph))
    assert len(made.edges_item.pieces) == 0
    image = render(made, 1.0)
    assert len({image.pixel(x, y) for x in range(image.width())
                for y in range(image.height())}) > 2  # the box is there
    made.deleteLater()


def test_a_picture_is_always_antialiased_however_many_edges(qtbot, monkeypatch):
    graph = samples.layered_dag(400, width=20)
    made = GraphScene(graph, layout(graph))
    hints = []
    real = qt_paint.paint_edges
    monkeypatch.setattr(qt_paint, "paint_edges", lambda painter, *a: hints.append(
        painter.testRenderHint(QtGui.QPainter.RenderHint.Antialiasing)) or real(painter, *a))
    render(made, 1.0)  # an export renders the scene with no widget
    assert hints and all(hints)
    made.deleteLater()


@pytest.mark.parametrize("dash", [QtCore.Qt.PenStyle.DotLine, QtCore.Qt.PenStyle.DashLine])
def test_a_dashed_border_made_once_per_size_is_the_border_stroked_in_place(qtbot, dash):
    """Freed and failed boxes' borders are outlines of their dashes, made once per box size
    at the origin and moved into place: the same pixels as stroking each in place."""

    def stroked(painter, rect, radius, pen):
        path = QtGui.QPainterPath()
        path.addRoundedRect(rect, radius, radius)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(pen.color())
        painter.drawPath(QtGui.QPainterPathStroker(pen).createStroke(path))

    for x, y, w, h in [(10.25, 7.5, 150.3, 60.1), (3, 4, 80, 30), (20.7, 30.1, 211.9, 44.4)]:
        for scale in (1.0, 0.16, 2.0):
            pictures = []
            for draw in (stroked, qt_paint._dashed_border):
                image = QtGui.QImage(600, 300, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
                image.fill(0)
                painter = QtGui.QPainter(image)
                painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
                painter.scale(scale, scale)
                pen = QtGui.QPen(QtGui.QColor("#888888"), 2)
                pen.setStyle(dash)
                draw(painter, QtCore.QRectF(x, y, w, h), 3, pen)
                painter.end()
                pictures.append(image)
            assert pictures[0] == pictures[1]
            assert np.count_nonzero(np.frombuffer(pictures[0].constBits(), np.uint32)) > 30


def far_edges(made, scale, clip=None, ratio=1.0, plain_first=False, setup=None) -> QtGui.QImage:
    """Return the edges of ``made`` painted far out (``_paint_far``) at ``scale``, half the
    nodes done, into a 240 x 200 image (``ratio``: its device pixel ratio; ``plain_first``:
    every piece drawn plain first, the done ones then over them; ``setup``: called with the
    painter first)."""
    image = QtGui.QImage(int(240 * ratio), int(200 * ratio), QtGui.QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(QtCore.Qt.GlobalColor.white)
    painter = QtGui.QPainter(image)
    if setup is not None:
        setup(painter)
    if clip is not None:
        painter.setClipRect(clip)
    rect = made.sceneRect()
    painter.setWorldTransform(QtGui.QTransform(scale, 0, 0, scale, -rect.left() * scale + 3.3,
                                               -rect.top() * scale + 1.6))
    item = made.edges_item
    shown = np.arange(len(item.pieces))
    is_done = made.done_mask[item._source[item.pieces.edge]]
    if plain_first:  # every piece plain, then the done ones over them
        item._paint_far(painter, shown, np.zeros(len(shown), bool))
        item._paint_far(painter, shown[is_done], np.ones(int(is_done.sum()), bool))
    else:
        item._paint_far(painter, shown, is_done)
    painter.end()
    return image


@pytest.fixture(scope="module")
def wide_dag(qapp):
    graph = samples.layered_dag(1200, width=40)
    made = GraphScene(graph, layout(graph))
    made.set_node_states({node: "done" for node in made.node_ids[::2]})
    yield made
    made.deleteLater()


@pytest.mark.parametrize("scale", [0.1, 0.03, 0.01, 0.004])
def test_far_out_edges_set_in_numpy_look_as_qt_drawing_every_chord(wide_dag, monkeypatch, scale):
    from gradstep.drawing import far_spans, qt_scene, style

    made = wide_dag
    monkeypatch.setattr(far_spans, "worth_it", lambda *counts: True)  # each chord it can set
    strip = QtCore.QRect(40, 25, 90, 120)  # a pan's strip: chords leave the clip
    pictures = [far_edges(made, scale), far_edges(made, scale, strip),
                far_edges(made, scale, ratio=2.0)]
    drawn = []
    real = qt_scene.qt_paint.draw_lines
    monkeypatch.setattr(qt_scene.qt_paint, "draw_lines",
                        lambda painter, lines: drawn.append(len(lines)) or real(painter, lines))
    far_edges(made, scale)
    in_numpy = sum(drawn)
    monkeypatch.setattr(far_spans, "chord_pixels",  # every chord drawn by Qt
                        lambda ends, clip, inside=False: (np.zeros((0, 0), bool), clip[:2], ends))
    drawn.clear()
    assert [far_edges(made, scale), far_edges(made, scale, strip),
            far_edges(made, scale, ratio=2.0)] == pictures
    assert in_numpy < sum(drawn) * (0.9 if scale < 0.02 else 1.0)  # fewer left to Qt far out
    colours = {pictures[0].pixel(x, y) for x in range(240) for y in range(200)}
    assert {QtGui.QColor(c).rgb() for c in (style.EDGE, style.EDGE_DONE)} <= colours


@pytest.mark.parametrize("scale", [0.004, 0.1])
def test_a_whole_graph_in_view_is_set_without_cutting_to_the_clip(wide_dag, monkeypatch, scale):
    """Every chord in the clip (at 0.004 the whole graph fits the 240 x 200 picture): the
    chords are set as ``inside``, and the picture is the one cutting them to the clip gives;
    a view that does not hold them all is cut as before."""
    from gradstep.drawing import far_spans

    monkeypatch.setattr(far_spans, "worth_it", lambda *counts: True)
    real, told = far_spans.chord_pixels, []
    monkeypatch.setattr(far_spans, "chord_pixels", lambda ends, clip, inside=False: (
        told.append(inside), real(ends, clip, inside))[1])
    pictures = [far_edges(wide_dag, scale, clip, ratio) for clip, ratio in
                ((None, 1.0), (QtCore.QRect(0, 0, 240, 200), 1.0), (None, 2.0))]
    assert told == [scale < 0.05] * 4  # two colours, two pictures; none at pixel ratio 2
    monkeypatch.setattr(far_spans, "chord_pixels", lambda ends, clip, inside=False: real(ends, clip))
    assert [far_edges(wide_dag, scale, clip, ratio) for clip, ratio in
            ((None, 1.0), (QtCore.QRect(0, 0, 240, 200), 1.0), (None, 2.0))] == pictures


def test_a_small_repaint_of_a_whole_graph_in_view_is_cut_to_its_clip(wide_dag, monkeypatch):
    """A step's repaint: the whole graph in view (0.004) but the paint's clip a strip of it.
    The chords are cut to that clip, not taken as inside it (what is inside is asked of
    the clip, not of the view), and the strip looks as Qt draws every chord."""
    from gradstep.drawing import far_spans

    monkeypatch.setattr(far_spans, "worth_it", lambda *counts: True)
    real, told = far_spans.chord_pixels, []
    monkeypatch.setattr(far_spans, "chord_pixels", lambda ends, clip, inside=False: (
        told.append(inside), real(ends, clip, inside))[1])
    strip = QtCore.QRect(40, 25, 90, 120)
    picture = far_edges(wide_dag, 0.004, strip)
    assert told == [False, False]  # two colours, each cut to the strip
    monkeypatch.setattr(far_spans, "chord_pixels",  # every chord drawn by Qt
                        lambda ends, clip, inside=False: (np.zeros((0, 0), bool), clip[:2], ends))
    assert far_edges(wide_dag, 0.004, strip) == picture


def test_device_rectangles_are_the_boxes_scaled_shifted_and_rounded():
    from gradstep.drawing.qt_scene import device_rects

    rng = np.random.default_rng(4)
    lo = rng.uniform(-5e3, 9e4, (500, 2))
    hi = lo + rng.uniform(0, 300, (500, 2))
    lo[7], hi[9] = (-1e12, 5.0), (3e12, 1e12)  # held at the packing's edge
    for transform in (QtGui.QTransform(0.005, 0, 0, 0.005, 10, 223),
                      QtGui.QTransform(0.13, 0, 0, 0.02, -7.5, 3.5), QtGui.QTransform(1, 0, 0, 1, 0, 0)):
        scale = np.array([transform.m11(), transform.m22()])
        shift = np.array([transform.dx(), transform.dy()])
        limit = 2 ** 22 - 1
        start = np.clip(np.rint(lo * scale + shift), -limit, limit)
        end = np.clip(np.rint(hi * scale + shift), -limit, limit)
        want = np.concatenate([start, np.maximum(end - start, 1)], axis=1).astype(np.int64)
        got = device_rects(transform, np.ascontiguousarray(np.concatenate([lo, hi], axis=1).T))
        assert got.dtype == np.int64 and got.tolist() == want.tolist()
        assert device_rects(transform, np.zeros((4, 0))).shape == (0, 4)


@pytest.mark.parametrize("scale", [0.1, 0.01, 0.004])
def test_far_out_done_pieces_are_not_drawn_plain_first(wide_dag, monkeypatch, scale):
    from gradstep.drawing import far_spans

    made = wide_dag
    strip = QtCore.QRect(40, 25, 90, 120)
    for masks in (False, True):  # Qt's lines only, and each chord it can set in a mask
        if masks:
            monkeypatch.setattr(far_spans, "worth_it", lambda *counts: True)
        for clip, ratio in ((None, 1.0), (strip, 1.0), (None, 2.0)):
            assert far_edges(made, scale, clip, ratio) == far_edges(made, scale, clip, ratio,
                                                                    plain_first=True)
    monkeypatch.undo()
    pieces = made.edges_item.pieces
    real, sizes = pieces.chord_ends, []
    monkeypatch.setattr(pieces, "chord_ends", lambda part, transform: (
        sizes.append(len(part)), real(part, transform))[1])
    far_edges(made, scale)
    assert sorted(sizes) == sorted([len(pieces) - int(made.done_mask[
        made.edges_item._source[pieces.edge]].sum()), int(made.done_mask[
        made.edges_item._source[pieces.edge]].sum())])  # each piece's chords made once
    assert sum(sizes) == len(pieces)


@pytest.mark.parametrize("part", [1, 7, 10**9])
def test_far_out_fills_are_node_fill_of_each_box_read_in_numpy(qtbot, monkeypatch, part):
    """Each box's fill far out is ``style.node_fill``'s, its own part read ``part`` boxes a
    step between frames (``far_step``), states set between the steps, a paint before the
    last step finishing it."""
    from gradstep.drawing import qt_scene, style

    monkeypatch.setattr(qt_scene, "FILL_PART", part)
    graph = samples.scoped_blocks(6)
    made = GraphScene(graph, layout(graph))
    nodes = made.node_ids
    looks = ["pending", "current", "done", "freed", "error", "", "no such state"]
    calls = []
    real = style.node_fill
    monkeypatch.setattr(style, "node_fill", lambda *a, **k: calls.append(1) or real(*a, **k))
    every = np.arange(len(nodes))
    for turn in range(3):  # states set, changed back and again, as steps and jumps do
        if turn < 2:
            made.far_step()  # (part 1 and 7: not all read before the first paint)
        made.set_node_states({node: looks[(i + turn) % len(looks)] for i, node in enumerate(nodes)})
        expected = [qt_scene._rgb_of(real(made.attrs[i], is_root=node in made.roots,
                                          state=made.states.get(node, "pending")))
                    for i, node in enumerate(nodes)]
        assert made.fill_colours(every).tolist() == expected
        assert made.fill_colours(every[::-3]).tolist() == expected[::-3]
    while not made.far_step():  # the rest (the edges' chords) made after: the fills stay
        pass
    assert made.fill_colours(every).tolist() == expected
    kinds = {attrs.get("kind", "op") for attrs in made.attrs}
    assert len(calls) <= len(kinds) + 1  # not once per box (~150 ms for 100,000 boxes)
    made.deleteLater()


def test_a_view_far_out_shows_each_new_state_as_a_fresh_scene_draws_it(qtbot):
    graph = samples.layered_dag(400, width=20)
    plan = layout(graph)
    made = GraphScene(graph, plan)
    view = QtWidgets.QGraphicsView(made)
    view.resize(220, 160)
    view.scale(0.04, 0.04)
    view.show()
    qtbot.waitExposed(view)

    def grab(scene) -> QtGui.QImage:
        view.setScene(scene)
        assert view.transform().m11() < qt_paint.DETAIL_LOD  # far out: chords and plain boxes
        view.viewport().repaint()
        return view.viewport().grab().toImage()

    nodes = made.node_ids
    for k, scale in ((60, 1.0), (61, 1.0), (5, 0.3), (399, 1.0)):  # steps, a jump back, a jump
        view.scale(scale, scale)
        states = {node: "done" for node in nodes[:k]}
        states[nodes[k]] = "current"
        shown = grab(made)
        made.set_node_states({**{n: "pending" for n in nodes}, **states})
        changed = grab(made)
        fresh = GraphScene(graph, plan, states=states)
        assert changed == grab(fresh) and changed != shown
        fresh.deleteLater()
    view.setScene(None)
    made.deleteLater()


@pytest.mark.parametrize("scale", [0.1, 0.03, 0.01, 0.004])
def test_far_out_runs_look_as_qt_drawing_those_chords(wide_dag, monkeypatch, scale):
    """The chords Qt steps along x set as its runs (``far_spans.line_pixels``): the same
    pictures as Qt drawing them, whole, cut to a strip, and at pixel ratio 2 (Qt draws)."""
    from gradstep.drawing import far_spans

    strip = QtCore.QRect(40, 25, 90, 120)
    real, used = far_spans.line_pixels, []
    monkeypatch.setattr(far_spans, "line_pixels", lambda *args: used.append(
        real(*args) is not None) or real(*args))
    monkeypatch.setattr(far_spans, "LINES_FEW", 0)
    monkeypatch.setattr(far_spans, "MASK_SHARE", 0.0)  # each such chord set in numpy
    pictures = [far_edges(wide_dag, scale, clip, ratio)
                for clip, ratio in ((None, 1.0), (strip, 1.0), (None, 2.0))]
    assert used == [True] * 4  # two colours, two pictures; none at pixel ratio 2
    monkeypatch.setattr(far_spans, "LINES_FEW", 10 ** 9)  # every such chord drawn by Qt
    assert [far_edges(wide_dag, scale, clip, ratio)
            for clip, ratio in ((None, 1.0), (strip, 1.0), (None, 2.0))] == pictures


def test_far_out_runs_in_a_window_are_where_qt_draws_them(qtbot, monkeypatch):
    """In a window the view's pixels lie at an offset in the window's backing store, and
    Qt cuts a chord at that device's edges: a window with a dock left of the view,
    grabbed whole far out, looks as it does with Qt drawing every chord."""
    from gradstep.drawing import far_spans
    from gradstep.ui.qt_graph_view import QtGraphView

    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    view = QtGraphView()
    window.setCentralWidget(view)
    dock = QtWidgets.QDockWidget("side")
    dock.setWidget(QtWidgets.QLabel("side"))
    window.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    window.resize(520, 360)
    window.show()
    qtbot.waitExposed(window)
    view.set_graph(samples.layered_dag(1500, width=60, seed=3))
    view.set_node_states({n: "done" for n in list(view.graph.nodes)[::3]})
    real, offsets = far_spans.line_pixels, []
    monkeypatch.setattr(far_spans, "line_pixels", lambda ends, clip, engine: (
        offsets.append(engine[1]), real(ends, clip, engine))[1])
    monkeypatch.setattr(far_spans, "LINES_FEW", 0)
    monkeypatch.setattr(far_spans, "MASK_SHARE", 0.0)
    pictures = []
    for scale in (0.1, 0.03, 0.012):
        view.refit_on_resize = None
        view.resetTransform()
        view.scale(scale, scale)
        pictures.append(window.grab().toImage())
    assert offsets and all(x > 0 for x, _ in offsets)  # the view right of the dock
    monkeypatch.setattr(far_spans, "LINES_FEW", 10 ** 9)
    for scale, picture in zip((0.1, 0.03, 0.012), pictures):
        view.resetTransform()
        view.scale(scale, scale)
        assert window.grab().toImage() == picture


@pytest.mark.parametrize("blend", ["opacity", "multiply", "colour"])
def test_far_out_chords_seen_through_are_all_drawn_by_qt(wide_dag, monkeypatch, blend):
    """Where a pixel Qt sets twice (chords that cross) looks other than one set once (the
    painter's opacity under 1, another composition mode, an edge colour seen through), an
    image of the chords (it sets each pixel once) is not Qt's picture: Qt draws them all."""
    from gradstep.drawing import far_spans, qt_scene, style

    def setup(painter):
        if blend == "opacity":
            painter.setOpacity(0.5)
        elif blend == "multiply":
            painter.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_Multiply)

    if blend == "colour":
        monkeypatch.setattr(style, "EDGE", "#807f7f7f")
    monkeypatch.setattr(far_spans, "LINES_FEW", 0)
    monkeypatch.setattr(far_spans, "MASK_SHARE", 0.0)
    pictures = [far_edges(wide_dag, scale, setup=setup) for scale in (0.1, 0.01)]
    monkeypatch.setattr(qt_scene, "_device_clip", lambda painter: None)  # Qt draws every chord
    assert [far_edges(wide_dag, scale, setup=setup) for scale in (0.1, 0.01)] == pictures
