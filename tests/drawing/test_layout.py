"""The layered layout: no overlaps, edges from source box to target box, layers follow edges."""

import networkx as nx
import numpy as np
import pytest

from gradstep.drawing import samples
from gradstep.drawing.layout import count_inversions, layout
from gradstep.drawing.metrics import edge_crossings
from tests.drawing.layout_checks import (
    assert_no_overlap,
    assert_routes_join_boxes,
    on_border,
)


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
@pytest.mark.parametrize("make", [samples.multi_edge_graph, lambda: samples.scoped_blocks(4),
                                  lambda: samples.layered_dag(400, width=20, seed=3)])
def test_boxes_disjoint_and_routes_join_their_boxes(make, rankdir):
    graph = make()
    lay = layout(graph, rankdir=rankdir)
    assert set(lay.positions) == set(graph.nodes)
    if rankdir == "LR":  # the same checks with x and y swapped
        swap = layout(graph, rankdir="LR")
        swap.positions = {n: (y, x) for n, (x, y) in swap.positions.items()}
        swap.sizes = {n: (h, w) for n, (w, h) in swap.sizes.items()}
        assert_no_overlap(swap)
    else:
        assert_no_overlap(lay)
    assert_routes_join_boxes(graph, lay)


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_layers_follow_edge_direction(rankdir):
    graph = samples.layered_dag(300, width=15, seed=1)
    lay = layout(graph, rankdir=rankdir)
    axis = 1 if rankdir == "TB" else 0
    for u, v in graph.edges():
        assert lay.ranks[u] < lay.ranks[v]
        assert lay.positions[u][axis] < lay.positions[v][axis]
    root = lay.positions["n0"][axis]
    assert root == min(p[axis] for p in lay.positions.values())  # the root on top


def test_parallel_edges_get_distinct_routes():
    graph = samples.multi_edge_graph()
    lay = layout(graph)
    a, b = lay.routes[("n1", "n3", 0)], lay.routes[("n1", "n3", 1)]
    assert a != b
    assert max(abs(p[0] - q[0]) for p, q in zip(a, b)) > 5  # visibly apart


def test_long_edges_bend_through_the_layers_between():
    graph = nx.MultiDiGraph(root="a")
    nx.add_path(graph, ["a", "b", "c", "d"])
    graph.add_edge("a", "d")
    lay = layout(graph)
    long_route = lay.routes[("a", "d", 0)]
    assert len(long_route) == 4  # border, two bend points (layers of b and c), border
    assert [p[1] for p in long_route] == sorted(p[1] for p in long_route)


def test_a_cycle_is_laid_out_too():
    graph = nx.MultiDiGraph()
    nx.add_cycle(graph, ["a", "b", "c"])
    graph.add_edge("c", "c")
    lay = layout(graph)
    assert_no_overlap(lay)
    assert set(lay.routes) == set(graph.edges(keys=True))
    route = lay.routes[("c", "a", 0)]  # the reversed edge still starts at c and ends at a
    assert on_border(route[0], lay.positions["c"], lay.sizes["c"])
    assert on_border(route[-1], lay.positions["a"], lay.sizes["a"])


def test_empty_and_single_node():
    assert layout(nx.MultiDiGraph()).positions == {}
    graph = nx.MultiDiGraph()
    graph.add_node("n0", name="SumBackward0", kind="op")
    lay = layout(graph)
    w, h = lay.sizes["n0"]
    x0, y0, x1, y1 = lay.bounds
    assert (x1 - x0, y1 - y0) == pytest.approx((w, h))


def test_sizes_given_are_used():
    graph = samples.multi_edge_graph()
    sizes = {n: (100.0, 50.0) for n in graph}
    lay = layout(graph, sizes=sizes)
    assert lay.sizes == sizes
    assert_no_overlap(lay)


def test_ten_thousand_node_chain_and_dag_lay_out():
    chain = samples.chain(10_000)
    lay = layout(chain)
    xs = {round(x, 6) for x, _ in lay.positions.values()}
    assert len(xs) == 1  # a chain is one straight column
    dag = samples.layered_dag(10_000)
    lay = layout(dag)
    assert len(lay.positions) == 10_000
    assert_no_overlap(lay)
    assert_routes_join_boxes(dag, lay)


def brute_inversions(group, a, b):
    n = len(a)
    return sum(1 for i in range(n) for j in range(n)
               if group[i] == group[j] and a[i] < a[j] and b[i] > b[j])


def test_count_inversions_matches_brute_force():
    rng = np.random.default_rng(0)
    for size in (0, 1, 2, 7, 50, 130):
        group = rng.integers(0, 3, size)
        a = rng.integers(0, 6, size).astype(float)
        b = rng.integers(0, 6, size).astype(float)
        assert count_inversions(group, a, b) == brute_inversions(group, a, b)


def test_edge_crossings_of_a_drawn_x():
    graph = nx.MultiDiGraph([("a", "d"), ("b", "c"), ("a", "c")])
    positions = {"a": (0, 0), "b": (10, 0), "c": (0, 10), "d": (10, 10)}
    assert edge_crossings(graph, positions) == 1  # a-d crosses b-c; a-c meets a-d at a
    positions["d"], positions["c"] = (0, 10), (10, 10)
    assert edge_crossings(graph, positions) == 0


def test_edge_crossings_cuts_long_edges_at_every_rank():
    graph = nx.MultiDiGraph([("a", "e"), ("b", "c"), ("c", "d")])
    positions = {"a": (0, 0), "e": (30, 20), "b": (10, 0), "c": (10, 10), "d": (20, 20)}
    # a-e passes x=15 at y=10, right of c: it crosses b-c (x 10) and c-d? c-d runs 10..20,
    # a-e runs 15..30 on the same gap: no swap. b-c: 10 vs a-e 0..15: swap -> one crossing.
    assert edge_crossings(graph, positions) == 1


def test_edges_meeting_at_a_node_never_count_as_crossing():
    # a long edge and a short edge into the same node, with centres that are not round numbers
    graph = nx.MultiDiGraph([("a", "c"), ("b", "c"), ("a", "b")])
    positions = {"a": (0.1, 10 / 3), "b": (7.7, 50.123456), "c": (3.3, 96.0000001)}
    assert edge_crossings(graph, positions) == 0


def test_real_crossings_match_a_brute_force_geometric_count():
    graph = samples.layered_dag(120, width=12, seed=5)
    lay = layout(graph)
    ends = [(u, v) for u, v in graph.edges()]
    pos = lay.positions

    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    brute = 0
    for i, (a, b) in enumerate(ends):
        for c, d in ends[i + 1:]:
            if len({a, b, c, d}) < 4:
                continue
            A, B, C, D = pos[a], pos[b], pos[c], pos[d]
            if side(A, B, C) * side(A, B, D) < 0 and side(C, D, A) * side(C, D, B) < 0:
                brute += 1
    assert edge_crossings(graph, pos) == brute


def test_edges_already_in_order_are_listed_as_the_sort_lists_them():
    from gradstep.drawing.graph_files import edge_triples
    from gradstep.drawing.layout import _edge_list, _sort_key, ordered_nodes

    graphs = [samples.chain(40), samples.multi_edge_graph(), samples.layered_dag(300, seed=3)]
    shuffled = nx.MultiDiGraph()  # sources added out of the nodes' order
    shuffled.add_nodes_from(["a", "b", "c"])
    shuffled.add_edges_from([("c", "a"), ("b", "a"), ("a", "b")])
    keyed = nx.MultiDiGraph()  # a bool key, a string key, a key 1 before a key 0 of the source
    keyed.add_edge("a", "b", key=False)
    keyed.add_edge("a", "c", key="s")
    keyed.add_edge("b", "c", key=1)
    keyed.add_edge("b", "a", key=0)
    graphs += [shuffled, keyed]
    for graph in graphs:
        index = {n: i for i, n in enumerate(ordered_nodes(graph))}
        triples = edge_triples(graph)
        expected = sorted((e for e in triples if e[0] != e[1]),
                          key=lambda e: (index[e[0]], _sort_key(e[2])))
        listed = _edge_list(triples, index)
        assert listed == expected
        assert [type(e[2]) for e in listed] == [type(e[2]) for e in expected]


def test_edges_with_int_keys_are_listed_as_the_sort_lists_them_without_its_key(monkeypatch):
    import random

    from gradstep.drawing import layout as layout_module
    from gradstep.drawing.graph_files import edge_triples
    from gradstep.drawing.layout import _edge_list, _sort_key, ordered_nodes

    rng = random.Random(5)
    graphs = [samples.layered_dag(300, seed=3)]
    slotted = nx.MultiDiGraph()  # a trace's edges: keys are slots, added in any order
    slotted.add_nodes_from(range(60))
    for _ in range(400):
        slotted.add_edge(rng.randrange(60), rng.randrange(60), key=rng.choice([0, 1, 2, 7, -3]))
    slotted.graph["root"] = 17  # its root first: the triples are then out of order
    graphs.append(slotted)
    called = []
    for graph in graphs:
        index = {n: i for i, n in enumerate(ordered_nodes(graph))}
        triples = edge_triples(graph)
        expected = sorted((e for e in triples if e[0] != e[1]),
                          key=lambda e, index=index: (index[e[0]], _sort_key(e[2])))
        monkeypatch.setattr(layout_module, "_sort_key", lambda k: called.append(k) or _sort_key(k))
        listed = _edge_list(triples, index)
        monkeypatch.undo()
        assert listed == expected
        assert not called
