"""The scene's arrays built in fewer steps, against the way they were built before."""

import networkx as nx
import numpy as np
import pytest

pytest.importorskip("PySide6")

from gradstep.drawing import samples  # noqa: E402
from gradstep.drawing.edge_pieces import PAD, route_points  # noqa: E402
from gradstep.drawing.layout import layout  # noqa: E402
from gradstep.drawing.qt_scene import GraphScene  # noqa: E402


def bits(array) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def graphs():
    loops = nx.MultiDiGraph([("a", "b"), ("b", "b"), ("b", "c"), ("a", "c"), ("c", "a")])
    return [samples.layered_dag(300, width=12, seed=4), samples.chain(20),
            samples.multi_edge_graph(), samples.scoped_blocks(3), loops]


def test_route_points_are_the_points_np_array_reads():
    routes = [[(0, 1), (2.5, -0.0)], [(np.float32(0.1), 3), (float("nan"), float("inf")),
                                       (1e300, -1e-300)], [], [(1, 2)]]
    counts, points = route_points(routes)
    assert counts.tolist() == [2, 3, 0, 1]
    want = np.array([p for r in routes for p in r], dtype=float).reshape(-1, 2)
    assert bits(points) == bits(want)


@pytest.mark.parametrize("graph", graphs())
def test_scene_arrays_are_built_as_before(qtbot, graph):
    lay = layout(graph)
    scene = GraphScene(graph, lay)
    ids = scene.node_ids
    centres = np.asarray([lay.positions[n] for n in ids], float).reshape(-1, 2)
    half = np.asarray([lay.sizes[n] for n in ids], float).reshape(-1, 2) / 2
    assert bits(scene._lo) == bits(centres - half) and bits(scene._hi) == bits(centres + half)
    assert all(a is graph.nodes[n] for a, n in zip(scene.attrs, ids, strict=True))
    item = scene.edges_item
    keys = item.pieces.keys
    assert item._source.tolist() == [scene._index[k[0]] for k in keys]
    edges_of = {}
    for key in keys:
        edges_of.setdefault(key[0], []).append(key)
    assert list(item._edges_of.items()) == list(edges_of.items())
    pieces = item.pieces
    corners = np.stack([pieces.start, pieces.control, pieces.end], axis=1)
    assert bits(pieces.lo) == bits(corners.min(axis=1) - PAD)
    assert bits(pieces.hi) == bits(corners.max(axis=1) + PAD)
