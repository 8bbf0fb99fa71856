"""No two gradient labels overlap: a narrow node's fan-out (the zh_CN ``printopts`` walk
drew ``[1, -0.3, 2.8e-05]`` over ``[0.28, 0.89, 4.4e-05]``), a wide one, a crowd in one
gap; in the window and the SVG alike, after any order of steps. Nor does a label cover a
node's box where a place beside its edge is free (a diamond's ``[1., 1., 1.]`` was drawn
over PowBackward0, the node its long edge passes)."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from gradstep.drawing import style
from gradstep.drawing.edge_geometry import route_middle
from gradstep.drawing.label_places import LabelPlaces, candidates, place_labels
from gradstep.drawing.layout import layout
from tests.drawing.test_edge_labels import WIDEST, fan_out

SHORT = "[1., 1., 1.]"


def meet(a, b) -> bool:
    """Return True where boxes ``(x, y, w, h)`` share any area."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def overlapping(boxes: dict) -> list:
    return [(k, j) for (k, a), (j, b) in itertools.combinations(boxes.items(), 2) if meet(a, b)]


def node_boxes(lay) -> dict:
    return {n: (x - w / 2, y - h / 2, w, h)
            for n, ((x, y), (w, h)) in ((n, (lay.positions[n], lay.sizes[n])) for n in lay.positions)}


def narrow_mul():
    """``(x * w)``'s MulBackward0, both its saved tensors freed, sending to two leaves: steep
    edges whose labels both went right of their lines, one over the other."""
    graph = nx.MultiDiGraph()
    graph.add_node("mul", kind="op", name="MulBackward0", label="mul", shape=[3],
                   value={"shape": [3], "data": [0.41, -0.75, 6.28]},
                   saved=[{"name": "other", "shape": [3], "freed": True},
                          {"name": "self", "shape": [3], "freed": True}])
    for slot, name in enumerate(("x", "w")):
        graph.add_node(name, kind="leaf", name="AccumulateGrad", label=name, shape=[3])
        graph.add_edge("mul", name, key=slot, slot=slot)
    return graph


def fan_in():
    """``retain_graph_error.py``'s two ``SelectBackward0`` (``p[1]`` of two calls) sending to
    one ``SoftmaxBackward0``: slanted edges meeting at their target."""
    graph = nx.MultiDiGraph()
    for name in ("p1", "p2"):
        graph.add_node(name, kind="op", name="SelectBackward0", label="p[1]", shape=[])
        graph.add_edge(name, "softmax", key=0, slot=0)
    graph.add_node("softmax", kind="op", name="SoftmaxBackward0", label="p", shape=[3])
    graph.add_node("a", kind="leaf", name="AccumulateGrad", label="a", shape=[3])
    graph.add_edge("softmax", "a", key=0, slot=0)
    return graph


def crowd(count: int = 8):
    """Return a chain node whose gradient goes to ``count`` leaves and to the next op."""
    graph = fan_out(count)
    graph.add_node("next", kind="op", name="MulBackward0", label="m")
    graph.add_edge("top", "next", key=0, slot=count)
    graph.add_edge("next", "l0", key=0, slot=0)
    return graph


def diamond():
    """``c = b * x`` with ``b = f(x)``: MulBackward0 sends to x twice, once through
    PowBackward0; drawn left to right, the long edge's label at its middle lay over
    PowBackward0's box."""
    graph = nx.MultiDiGraph()
    graph.add_node("sum", kind="op", name="SumBackward0", label="r", shape=[])
    graph.add_node("mul", kind="op", name="MulBackward0", label="c", shape=[3],
                   value={"shape": [3], "data": [2.0, 2.0, 2.0]})
    graph.add_node("pow", kind="op", name="PowBackward0", label="b", shape=[3],
                   value={"shape": [3], "data": [1.0, 1.0, 1.0]})
    graph.add_node("x", kind="leaf", name="AccumulateGrad", label="x", shape=[3])
    for source, target, slot in (("sum", "mul", 0), ("mul", "pow", 0), ("mul", "x", 1),
                                 ("pow", "x", 0)):
        graph.add_edge(source, target, key=0, slot=slot)
    return graph


def over_boxes(lay, boxes: dict) -> list:
    """Return (edge, node) where a label covers a node's box (by more than a pixel)."""
    nodes = {n: (x + 1, y + 1, w - 2, h - 2) for n, (x, y, w, h) in node_boxes(lay).items()}
    return [(key, n) for key, box in boxes.items() for n, nbox in nodes.items() if meet(box, nbox)]


GRAPHS = {"diamond": diamond, "narrow_mul": narrow_mul, "fan_in": fan_in, "fan_out_2": lambda: fan_out(2),
          "fan_out_3": lambda: fan_out(3), "crowd": crowd}


@pytest.mark.parametrize("text", [WIDEST, SHORT])
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
@pytest.mark.parametrize("name", list(GRAPHS))
def test_no_two_labels_overlap(name, rankdir, text):
    lay = layout(GRAPHS[name](), rankdir=rankdir)
    boxes = place_labels(lay, dict.fromkeys(lay.routes, text))
    assert set(boxes) == set(lay.routes)
    assert not overlapping(boxes), (name, rankdir)


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_a_narrow_nodes_two_labels_stay_beside_their_own_edges_on_the_outside(rankdir):
    """The printopts walk's MulBackward0: each label next to its edge, off every box;
    top-down, the left edge's label left of it and the right one's right of it."""
    lay = layout(narrow_mul(), rankdir=rankdir)
    texts = {k: WIDEST for k in lay.routes}
    boxes = place_labels(lay, texts)
    for key, box in boxes.items():
        assert box in candidates(lay.routes[key], WIDEST, lay.label_sides.get(key, 0))
        for node, nbox in node_boxes(lay).items():
            assert not meet(box, nbox), (key, node)
    if rankdir == "TB":
        left, right = sorted(boxes, key=lambda k: lay.routes[k][-1][0])
        assert boxes[left][0] + boxes[left][2] / 2 < route_middle(lay.routes[left])[0][0]
        assert boxes[right][0] + boxes[right][2] / 2 > route_middle(lay.routes[right])[0][0]


@pytest.mark.parametrize("text", [WIDEST, SHORT])
def test_a_fan_ins_labels_are_outside_it_not_between_its_edges(text):
    """The retain_graph_error lesson: the right edge runs down to the left into the shared
    target, so its label goes right of it (a fan-out's left would put it between the two
    lines, read as the other edge's); the left edge's goes left of it; each label alone
    (a step shows one) takes the same place."""
    lay = layout(fan_in())
    into = [k for k in lay.routes if k[1] == "softmax"]
    left, right = sorted(into, key=lambda k: lay.routes[k][0][0])
    for key in into:
        for texts in ({k: text for k in into}, {key: text}):
            box = place_labels(lay, texts)[key]
            middle = route_middle(lay.routes[key])[0][0]
            if key == left:
                assert box[0] + box[2] < middle, texts
            else:
                assert box[0] > middle, texts


@pytest.mark.parametrize("text", [WIDEST, SHORT])
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
@pytest.mark.parametrize("name", ["diamond", "narrow_mul", "fan_in", "fan_out_2", "fan_out_3",
                                  "blocks"])
def test_no_label_covers_a_nodes_box(name, rankdir, text):
    from gradstep.drawing import samples

    graph = samples.scoped_blocks(12) if name == "blocks" else GRAPHS[name]()
    lay = layout(graph, rankdir=rankdir)
    boxes = place_labels(lay, dict.fromkeys(lay.routes, text))
    assert not over_boxes(lay, boxes)
    assert not overlapping(boxes)


def test_the_diamonds_long_edge_label_stays_beside_its_edge():
    """Off PowBackward0's box, and still one of the places along its own edge."""
    lay = layout(diamond(), rankdir="LR")
    boxes = place_labels(lay, dict.fromkeys(lay.routes, SHORT))
    key = ("mul", "x", 0)
    assert not meet(boxes[key], node_boxes(lay)["pow"])
    assert boxes[key] in candidates(lay.routes[key], SHORT, lay.label_sides.get(key, 0))


def test_a_label_free_of_others_is_where_it_always_was():
    """A chain's labels meet nothing: each keeps ``edge_label_box``'s place."""
    from gradstep.drawing import samples
    from gradstep.drawing.edge_geometry import edge_label_box

    lay = layout(samples.chain(6))
    boxes = place_labels(lay, dict.fromkeys(lay.routes, WIDEST))
    assert boxes == {k: edge_label_box(r, WIDEST) for k, r in lay.routes.items()}


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_the_places_follow_the_labels_shown_not_the_order_they_came(rankdir):
    """Steps forward, back and jumps: the places after each change are those of the same
    labels placed at once (what an export of that step draws)."""
    lay = layout(crowd(12), rankdir=rankdir)
    keys = list(lay.routes)
    rng = random.Random(7)
    places = LabelPlaces(lay)
    shown: dict = {}
    for _ in range(120):  # a step changes one or two labels (moved in place), a jump many
        count = rng.choice([1, 1, 1, 2, 8])
        change = {k: rng.choice(["", SHORT, WIDEST, WIDEST, "[2.]"]) for k in rng.sample(keys, count)}
        before = dict(places.boxes)
        moved = places.set_texts(change)
        shown = {k: v for k, v in {**shown, **change}.items() if v}
        assert places.boxes == place_labels(lay, shown)
        assert not overlapping(places.boxes)
        for key in set(before) | set(places.boxes):  # each change is said, for the repaint
            if before.get(key) != places.boxes.get(key):
                assert moved[key] == (before.get(key), places.boxes.get(key))


def test_the_window_and_the_svg_place_the_labels_alike(qapp, tmp_path):
    from gradstep.drawing.qt_scene import GraphScene
    from gradstep.drawing.svg_picture import write_svg

    graph = narrow_mul()
    lay = layout(graph)
    texts = {k: WIDEST for k in lay.routes}
    scene = GraphScene(graph, lay)
    scene.set_edge_labels(texts)
    pills = {k: (r.x(), r.y(), r.width(), r.height()) for k, r in scene.pills.items()}
    assert pills == place_labels(lay, texts) and not overlapping(pills)
    svg = write_svg(graph, lay, tmp_path / "g.svg", edge_labels=texts).read_text(encoding="utf-8")
    rects = [r for r in svg.split("<rect ")[1:] if 'rx="4"' in r]
    found = sorted(tuple(float(r.split(f'{a}="')[1].split('"')[0]) for a in ("x", "y"))
                   for r in rects)
    assert len(found) == 2
    for (x, y), pill in zip(found, sorted(pills.values())):  # the SVG's are the window's
        assert (x, y) == (pytest.approx(pill[0], abs=0.01), pytest.approx(pill[1], abs=0.01))
    # a step that takes one label away moves the other back to its own place if it had left it
    first = next(iter(texts))
    scene.set_edge_labels({first: ""})
    other = next(k for k in texts if k != first)
    assert (scene.pills[other].x(), scene.pills[other].y()) == place_labels(
        lay, {other: WIDEST})[other][:2]


def test_the_widest_label_is_still_the_widest():
    assert style.text_width(WIDEST, style.DETAIL_PX) <= style.EDGE_LABEL_PX
