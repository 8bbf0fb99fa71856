"""Crossing counts of the ordering stage against a brute-force count of the same pairs."""

import random
from itertools import chain

import networkx as nx
import numpy as np

from gradstep.drawing import samples
from gradstep.drawing.layering import LayeredGraph, assign_layers, feedback_edges
from gradstep.drawing.ordering import (
    _breadth_first_order,
    _breadth_first_walk,
    _joined,
    _ordered_inversions,
    _positions,
    _up_lists,
    _WideLayers,
    count_layer_crossings,
    initial_order,
)


def brute_segment_inversions(values, first):
    segment = np.cumsum(first)
    n = len(values)
    return sum(1 for i in range(n) for j in range(i + 1, n)
               if segment[i] == segment[j] and values[i] > values[j])


def test_ordered_inversions_matches_brute_force():
    rng = np.random.default_rng(1)
    for size in (1, 2, 3, 9, 64, 200):
        for top in (1, 2, 5, 70):
            values = rng.integers(0, top, size)
            first = rng.random(size) < 0.1
            first[0] = True
            assert _ordered_inversions(values, first) == brute_segment_inversions(values, first)


def brute_layer_crossings(aug, pos):
    edges = [(u, w) for u in range(aug.size) for w in aug.down[u]]
    return sum(1 for u, w in edges for x, y in edges
               if aug.layer[u] == aug.layer[x] and pos[u] < pos[x] and pos[w] > pos[y])


def test_count_layer_crossings_matches_brute_force():
    for seed in range(4):
        graph = samples.layered_dag(120, width=12, seed=seed)
        index = {n: i for i, n in enumerate(graph.nodes)}
        src = [index[u] for u, _ in graph.edges()]
        dst = [index[v] for _, v in graph.edges()]
        aug = LayeredGraph(assign_layers(len(index), src, dst), src, dst)
        layers = initial_order(aug, len(index))
        rng = random.Random(seed)
        for layer in layers:
            rng.shuffle(layer)
        pos = _positions(layers, aug.size)
        assert count_layer_crossings(aug, pos) == brute_layer_crossings(aug, pos.tolist()) > 0


def test_count_layer_crossings_takes_places_that_are_not_0_to_n():
    """Places with gaps or ties (not what the sweeps make) go the way of a full sort."""
    for seed in range(3):
        graph = samples.layered_dag(150, width=10, seed=seed)
        index = {n: i for i, n in enumerate(graph.nodes)}
        src = [index[u] for u, _ in graph.edges()]
        dst = [index[v] for _, v in graph.edges()]
        aug = LayeredGraph(assign_layers(len(index), src, dst), src, dst)
        pos = _positions(initial_order(aug, len(index)), aug.size)
        rng = np.random.default_rng(seed)
        for places in (pos * 3 + 1, rng.integers(0, 4, aug.size)):
            assert count_layer_crossings(aug, places) == brute_layer_crossings(aug, places.tolist())


def test_breadth_first_order_level_by_level_is_the_node_by_node_walk(monkeypatch):
    from gradstep.drawing import ordering

    monkeypatch.setattr(ordering, "_WIDE_LEVELS", 0)  # the level walk even where levels are narrow
    for seed in range(40):
        rng = random.Random(seed)
        if seed % 2:
            graph = samples.layered_dag(rng.choice([1, 5, 60, 400]), width=rng.choice([1, 3, 30]),
                                        seed=seed, reach=rng.choice([0, 2, 10]))
        else:  # cycles, parallel edges, several sources
            n = rng.choice([1, 3, 30, 200])
            graph = nx.MultiDiGraph()
            graph.add_nodes_from(range(n))
            for _ in range(rng.randrange(0, 3 * n)):
                graph.add_edge(rng.randrange(n), rng.randrange(n))
        index = {node: i for i, node in enumerate(graph.nodes)}
        pairs = [(index[u], index[v]) for u, v in graph.edges() if u != v]
        flipped = feedback_edges(len(index), [u for u, _ in pairs], [v for _, v in pairs])
        src = [v if f else u for (u, v), f in zip(pairs, flipped)]
        dst = [u if f else v for (u, v), f in zip(pairs, flipped)]
        aug = LayeredGraph(assign_layers(len(index), src, dst), src, dst)
        sources = [v for v in range(len(index)) if not aug.up[v]]
        assert _breadth_first_order(aug, len(index)) == _breadth_first_walk(aug, sources)


def _flat_lists(lists: list) -> tuple[np.ndarray, np.ndarray]:
    """Return (lengths, all items one list after another) of a list of int lists."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    return lengths, np.fromiter(chain.from_iterable(lists), dtype=np.int64,
                                count=int(lengths.sum()))


def test_joined_flat_lists_are_the_joined_lists_flat():
    rng = random.Random(2)
    for _ in range(100):
        n = rng.randrange(0, 30)
        a = [[rng.randrange(100) for _ in range(rng.randrange(0, 4))] for _ in range(n)]
        b = [[rng.randrange(100) for _ in range(rng.randrange(0, 4))] for _ in range(n)]
        lengths, flat = _joined(_flat_lists(a), _flat_lists(b))
        want_lengths, want_flat = _flat_lists([x + y for x, y in zip(a, b)])
        assert lengths.tolist() == want_lengths.tolist() and flat.tolist() == want_flat.tolist()


def lexsorted_layer(wide, i, side, pos):
    """The wide layer's sort as it was: a lexsort by barycenter, then place."""
    nodes, steps, sides = wide.layers[i]
    owner, flat, _, degree = sides[side]
    here = pos[nodes]
    has = np.bincount(owner, minlength=len(nodes)) > 0
    key = np.where(has, np.bincount(owner, weights=pos[flat], minlength=len(nodes)) / degree, here)
    ordered = nodes[np.lexsort((here, key))]
    pos[ordered] = steps
    return ordered.tolist()


def test_wide_layer_sort_is_the_lexsort_by_barycenter_then_place():
    """Ties (nodes with the same neighbours, nodes with none on a side) keep their places."""
    for seed in range(6):
        graph = samples.layered_dag(600, width=40, seed=seed, reach=seed % 3)
        index = {n: i for i, n in enumerate(graph.nodes)}
        src = [index[u] for u, _ in graph.edges()]
        dst = [index[v] for _, v in graph.edges()]
        aug = LayeredGraph(assign_layers(len(index), src, dst), src, dst)
        layers = initial_order(aug, len(index))
        wide = _WideLayers(aug, layers)
        assert wide.layers
        rng = random.Random(seed)
        for layer in layers:
            rng.shuffle(layer)
        span = np.maximum(np.bincount(aug.layer_array())[aug.layer_array()] - 1, 1).astype(float)
        frac = _positions(layers, aug.size) / span
        want = frac.copy()
        for side in ("up", "down", "both", "up"):
            for i in wide.layers:
                expected = lexsorted_layer(wide, i, side, want)
                layers[i] = wide.sort(i, side, frac, layers[i])
                assert layers[i].tolist() == expected
                assert frac.tolist() == want.tolist()


def test_start_order_hands_reduce_crossings_the_count_it_would_make():
    from gradstep.drawing.ordering import reduce_crossings, start_order

    for seed in range(6):
        graph = samples.layered_dag(300, width=6 + 10 * seed, seed=seed, reach=seed % 3)
        index = {n: i for i, n in enumerate(graph.nodes)}
        src = [index[u] for u, _ in graph.edges()]
        dst = [index[v] for _, v in graph.edges()]
        aug = LayeredGraph(assign_layers(len(index), src, dst), src, dst)
        layers, crossings = start_order(aug, len(index))
        assert layers == initial_order(aug, len(index))
        assert crossings == count_layer_crossings(aug, _positions(layers, aug.size))
        assert (reduce_crossings(aug, [list(x) for x in layers], crossings)
                == reduce_crossings(aug, [list(x) for x in layers]))


def test_up_lists_are_the_nodes_own_up_lists():
    rng = random.Random(6)
    for _ in range(60):
        n = rng.choice([1, 2, 10, 80])
        src, dst = [], []
        for _ in range(rng.randrange(0, 3 * n)):
            u, v = sorted(rng.sample(range(n), 2)) if n > 1 else (0, 0)
            if u != v:
                src.append(u)
                dst.append(v)
        aug = LayeredGraph(assign_layers(n, src, dst), src, dst)
        nodes = rng.sample(range(aug.size), rng.randrange(0, aug.size + 1))
        got = _up_lists(aug, nodes)
        assert list(got) == nodes and got == {v: aug.up[v] for v in nodes}
        assert {type(w) for ups in got.values() for w in ups} <= {int}
