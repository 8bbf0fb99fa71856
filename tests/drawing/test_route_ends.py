"""The routes' ends computed for all edges at once against the one-edge code, bit for bit."""

import random

import numpy as np

from gradstep.drawing import layout as layout_module
from gradstep.drawing import samples
from gradstep.drawing.layout import _border_point, _border_points, _parallel_index, layout


def test_border_points_are_border_point_bit_for_bit():
    rng = np.random.default_rng(3)
    n = 5000
    cx, cy = rng.normal(size=n) * 300, rng.normal(size=n) * 300
    w, h = rng.uniform(0, 200, n), rng.uniform(0, 60, n)
    tx, ty = cx + rng.normal(size=n) * 100, cy + rng.normal(size=n) * 100
    tx[::7], ty[::11] = cx[::7], cy[::11]  # straight up or sideways, or onto the centre
    w[::13] = 40  # sizes given as ints are fine
    x, y = _border_points(cx, cy, w, h, tx, ty)
    for i in range(n):
        size = (int(w[i]) if i % 13 == 0 else float(w[i]), float(h[i]))
        want = _border_point((float(cx[i]), float(cy[i])), size, (float(tx[i]), float(ty[i])))
        assert (float(x[i]), float(y[i])) == want


def test_border_points_follow_pythons_min_with_nan_and_signed_zero_sizes():
    # min(tx, ty) is tx unless ty is less: with a NaN height the route still ends finite
    values = [0.0, -0.0, 1.0, 30.0, float("nan"), float("inf")]
    cases = [(w, h, tx, ty) for w in values for h in values
             for tx, ty in ((5.0, 40.0), (0.0, 40.0), (25.0, 0.0), (0.0, 0.0), (-3.0, -90.0))]
    w, h, tx, ty = (np.array(column) for column in zip(*cases))
    zeros = np.zeros(len(cases))
    x, y = _border_points(zeros, zeros, w, h, tx, ty)
    for i, (wi, hi, txi, tyi) in enumerate(cases):
        want = _border_point((0.0, 0.0), (wi, hi), (txi, tyi))
        assert (repr(float(x[i])), repr(float(y[i]))) == tuple(map(repr, want)), cases[i]


def reference_parallel_index(pairs):
    groups = {}
    for e, pair in enumerate(pairs):
        groups.setdefault(pair, []).append(e)
    return {e: (i, len(m)) for m in groups.values() if len(m) > 1 for i, e in enumerate(m)}


def test_parallel_index_numbers_the_edges_between_the_same_two_nodes():
    rng = random.Random(5)
    for n in (1, 2, 5, 40):
        pairs = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randrange(0, 3 * n))]
        src, dst = [u for u, _ in pairs], [v for _, v in pairs]
        assert _parallel_index((src, dst), n) == reference_parallel_index(pairs)


def test_sizes_of_other_number_types_take_the_one_edge_code(monkeypatch):
    """A float32 size would be rounded to a double by numpy, not by Python's arithmetic."""
    graph = samples.layered_dag(60, width=6, seed=2)
    plain = layout(graph)

    def unused(*args):
        raise AssertionError("numpy border points for float32 sizes")

    monkeypatch.setattr(layout_module, "_border_points", unused)
    sizes = {n: (np.float32(w), np.float32(h)) for n, (w, h) in plain.sizes.items()}
    lay = layout(graph, sizes=sizes)
    assert set(lay.routes) == set(plain.routes)


def _held(lay):
    """Everything a Layout holds, floats by their bits (``repr``) and dicts in their order."""
    return repr((list(lay.positions.items()), list(lay.routes.items()), lay.bounds))


def test_routes_at_once_are_the_one_by_one_routes_bit_for_bit(monkeypatch):
    import networkx as nx

    rng = random.Random(11)
    graphs = [samples.layered_dag(200, width=30, seed=1, reach=6), samples.chain(50),
              nx.MultiDiGraph()]
    for _ in range(12):  # cycles (flipped edges) and self-loops, no parallel edges
        n = rng.choice([2, 5, 30, 60])
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(f"v{i}" for i in range(n))
        pairs = {(f"v{rng.randrange(n)}", f"v{rng.randrange(n)}") for _ in range(2 * n)}
        graph.add_edges_from(sorted(pairs))
        graphs.append(graph)
    graphs[-1].add_node("alone")
    cases = []
    for graph in graphs:
        sizes = {node: (rng.randrange(20, 90), 30) for node in graph}  # ints too
        for rankdir in ("TB", "LR"):
            cases += [(graph, rankdir, None), (graph, rankdir, sizes)]
    at_once = [_held(layout(g, rankdir=r, sizes=s)) for g, r, s in cases]
    monkeypatch.setattr(layout_module, "_routes_at_once", lambda *args: None)
    assert at_once == [_held(layout(g, rankdir=r, sizes=s)) for g, r, s in cases]
