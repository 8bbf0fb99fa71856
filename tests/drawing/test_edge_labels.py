"""Gradient labels on edges stay clear of the boxes, top-down and left to right."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from gradstep.drawing import qt_paint, samples, style
from gradstep.drawing.layout import layout

# the widest a label gets: four long numbers are cut to fit (the tooltip has them all)
WIDEST = style.gradient_text([-0.0827829, 0.227448, -0.144665, -0.0001234])


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_a_four_number_gradient_label_covers_no_box(rankdir):
    graph = samples.chain(6)
    lay = layout(graph, rankdir=rankdir)
    boxes = {n: QtCore.QRectF(x - w / 2, y - h / 2, w, h)
             for n, ((x, y), (w, h)) in ((n, (lay.positions[n], lay.sizes[n])) for n in lay.positions)}
    for key, route in lay.routes.items():
        label = qt_paint.edge_label_rect(route, WIDEST)
        hit = [n for n, box in boxes.items() if box.intersects(label)]
        assert not hit, (rankdir, key, hit)


def test_the_widest_label_is_cut_at_a_number_to_fit():
    assert WIDEST == "[-0.08278, 0.2274, …]"
    assert style.text_width(WIDEST, style.DETAIL_PX) <= style.EDGE_LABEL_PX


def a_times_a():
    """Return ``a * a``'s graph (two edges from MulBackward0 to the leaf) and its edge keys."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_node("mul", kind="op", name="MulBackward0", label="mul")
    graph.add_node("a", kind="leaf", name="AccumulateGrad", label="a", shape=[2, 2])
    graph.add_edge("mul", "a", key=0, slot=0)
    graph.add_edge("mul", "a", key=1, slot=1)
    return graph, [("mul", "a", 0), ("mul", "a", 1)]


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_the_labels_of_two_parallel_edges_cover_neither_each_other_nor_the_other_edge(
        qapp, tmp_path, rankdir):
    """``a * a``: two edges from MulBackward0 to the same leaf. Each label is on its own
    edge's outer side, in the window, the animation's frames and the SVG alike."""
    from gradstep.drawing.qt_scene import GraphScene
    from gradstep.drawing.svg_picture import write_svg

    graph, keys = a_times_a()
    lay = layout(graph, rankdir=rankdir)
    assert lay.label_sides == {keys[0]: -1, keys[1]: 1}
    pills = [qt_paint.edge_label_rect(lay.routes[k], WIDEST, lay.label_sides.get(k, 0))
             for k in keys]
    assert not pills[0].intersects(pills[1])
    scene = GraphScene(graph, lay, edge_labels={k: WIDEST for k in keys})
    assert [scene.pills[k] for k in keys] == pills  # where the window paints them
    for pill, other in zip(pills, reversed(keys)):  # each pill clear of the other route
        for a, b in zip(lay.routes[other], lay.routes[other][1:]):
            seg = QtCore.QRectF(QtCore.QPointF(*a), QtCore.QPointF(*b)).normalized()
            assert not pill.intersects(seg.adjusted(-0.5, -0.5, 0.5, 0.5)), (pill, seg)
    svg = write_svg(graph, lay, tmp_path / "g.svg", edge_labels={k: WIDEST for k in keys})
    rects = [r for r in svg.read_text(encoding="utf-8").split("<rect ")[1:] if 'rx="4"' in r]
    xs = sorted(float(r.split('x="')[1].split('"')[0]) for r in rects)
    ys = sorted(float(r.split('y="')[1].split('"')[0]) for r in rects)
    assert len(rects) == 2
    # the SVG's pills are the window's: the same two boxes
    assert xs == pytest.approx(sorted(p.x() for p in pills), abs=0.01)
    assert ys == pytest.approx(sorted(p.y() for p in pills), abs=0.01)


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz dot is not installed")
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_the_dot_engine_keeps_every_parallel_edge_and_their_labels_apart(rankdir):
    """``--layout dot``: dot dropped the ``key`` attribute, so ``a * a``'s two edges came back
    as one (the slot-1 edge and its gradient were not drawn). Both have routes now, and
    their labels go on their own sides."""
    from gradstep.drawing.layout import layout_dot

    graph, keys = a_times_a()
    lay = layout_dot(graph, rankdir=rankdir)
    assert set(lay.routes) == set(keys)
    assert sorted(lay.label_sides.values()) == [-1, 1]
    pills = [qt_paint.edge_label_rect(lay.routes[k], WIDEST, lay.label_sides[k]) for k in keys]
    assert not pills[0].intersects(pills[1])


def fan_out(count: int = 3):
    """Return a graph whose node sends its gradient to ``count`` leaves: slanted edges."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_node("top", kind="op", name="SoftmaxBackward0", label="p")
    for i in range(count):
        graph.add_node(f"l{i}", kind="leaf", name="AccumulateGrad", label=f"w{i}", shape=[3])
        graph.add_edge("top", f"l{i}", key=0, slot=i)
    return graph


@pytest.mark.parametrize("text", [WIDEST, "[2.]"])
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_the_label_of_a_slanted_edge_covers_none_of_its_line(rankdir, text):
    """A pill centred beside the middle of a slanted edge covered the line by a corner
    (``softmax_jacobian.py --step 1``: ``[0., 1., 0.]`` over the green edge); it moves off
    the line now, and a straight edge's pill stays where it was."""
    from gradstep.drawing.edge_geometry import edge_label_box

    lay = layout(fan_out(), rankdir=rankdir)
    slanted = 0
    for key, route in lay.routes.items():
        x, y, w, h = edge_label_box(route, text, lay.label_sides.get(key, 0))
        (a, b) = route[0], route[-1]
        slanted += a[0] != b[0] and a[1] != b[1]
        for i in range(201):  # points along the line, none inside the pill
            px, py = a[0] + (b[0] - a[0]) * i / 200, a[1] + (b[1] - a[1]) * i / 200
            assert not (x < px < x + w and y < py < y + h), (rankdir, key, (px, py), (x, y, w, h))
    assert slanted == 2
    x, y, w, h = edge_label_box([(0.0, 0.0), (0.0, 40.0)], text)  # straight down: as before
    assert (x, y) == (4.0, pytest.approx(20 - h / 2))
    x, y, w, h = edge_label_box([(0.0, 0.0), (200.0, 0.0)], text)  # straight across
    assert (x, y) == (pytest.approx(100 - w / 2), pytest.approx(-h - 3))
