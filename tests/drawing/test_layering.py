"""The layers and bend points against the plain loops they were first written as."""

import random

import numpy as np

from gradstep.drawing.layering import LayeredGraph, _topological_order, assign_layers


def plain_assign_layers(n, src, dst):
    order, preds, succs = _topological_order(n, src, dst)
    layer = [0] * n
    for v in order:
        if preds[v]:
            layer[v] = max(layer[u] for u in preds[v]) + 1
    for v in reversed(order):
        if succs[v] and len(set(succs[v])) >= len(set(preds[v])):
            lowest = min(layer[s] for s in succs[v]) - 1
            if lowest > layer[v]:
                layer[v] = lowest
    return layer


def plain_layered_graph(ranks, src, dst):
    layer, up, down, chains = list(ranks), [[] for _ in ranks], [[] for _ in ranks], []
    for u, v in zip(src, dst):
        chain = [u]
        for r in range(ranks[u] + 1, ranks[v]):
            layer.append(r)
            up.append([])
            down.append([])
            chain.append(len(layer) - 1)
        chain.append(v)
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        chains.append(chain)
    return layer, up, down, chains


def random_dag(rng):
    """Edges from lower to higher index: parallel edges, several predecessors and successors
    (some repeated), long edges."""
    n = rng.choice([1, 2, 5, 40, 300])
    src, dst = [], []
    for _ in range(rng.randrange(0, 3 * n)):
        u, v = sorted(rng.sample(range(n), 2)) if n > 1 else (0, 0)
        if u != v:
            for _ in range(rng.choice([1, 1, 1, 2])):
                src.append(u)
                dst.append(v)
    return n, src, dst


def test_assign_layers_is_the_plain_loop():
    rng = random.Random(3)
    for _ in range(300):
        n, src, dst = random_dag(rng)
        assert assign_layers(n, src, dst) == plain_assign_layers(n, src, dst)


def test_layered_graph_is_the_plain_loop():
    rng = random.Random(4)
    for _ in range(300):
        n, src, dst = random_dag(rng)
        ranks = assign_layers(n, src, dst)
        if rng.random() < 0.3:  # layers of any spread, not only the layering's
            ranks = [r * rng.choice([1, 2, 5]) for r in ranks]
        aug = LayeredGraph(ranks, src, dst)
        assert (aug.layer, aug.up, aug.down, aug.chains) == plain_layered_graph(ranks, src, dst)


def test_edge_arrays_list_every_node_s_edges_down_in_order():
    rng = random.Random(5)
    for _ in range(100):
        n, src, dst = random_dag(rng)
        aug = LayeredGraph(assign_layers(n, src, dst), src, dst)
        eu, ev = aug.edge_arrays()
        pairs = [(v, w) for v in range(aug.size) for w in aug.down[v]]
        assert list(zip(eu.tolist(), ev.tolist())) == pairs
        assert eu.dtype == ev.dtype == np.int64


def test_flips_and_layers_are_feedback_edges_then_assign_layers():
    from gradstep.drawing.layering import feedback_edges, flips_and_layers

    rng = random.Random(8)
    for _ in range(60):
        n = rng.choice([1, 2, 5, 30, 200])
        acyclic = rng.random() < 0.5
        src, dst = [], []
        for _ in range(rng.randrange(0, 3 * n)):
            u, v = rng.randrange(n), rng.randrange(n)
            if u == v:
                continue  # (the layout leaves self-loops out)
            if acyclic and u > v:
                u, v = v, u
            src.append(u)
            dst.append(v)
            if rng.random() < 0.1:  # parallel edges
                src.append(u)
                dst.append(v)
        flipped = feedback_edges(n, src, dst)
        up_src = [d if f else s for s, d, f in zip(src, dst, flipped)]
        up_dst = [s if f else d for s, d, f in zip(src, dst, flipped)]
        assert flips_and_layers(n, src, dst) == (flipped, assign_layers(n, up_src, up_dst))


def test_chain_and_down_arrays_are_the_lists_flattened():
    rng = random.Random(3)
    n = 80
    src, dst = [], []
    for _ in range(200):
        u, v = sorted(rng.sample(range(n), 2))
        src.append(u)
        dst.append(v)
    aug = LayeredGraph(assign_layers(n, src, dst), src, dst)
    for arrays, lists in ((aug.chain_arrays(), aug.chains), (aug.down_arrays(), aug.down),
                          (aug.up_arrays(), aug.up)):
        lengths, flat = arrays
        assert lengths.dtype == flat.dtype == np.int64
        assert lengths.tolist() == [len(x) for x in lists]
        assert flat.tolist() == [v for x in lists for v in x]
    assert aug.edge_arrays()[1].tolist() == aug.down_arrays()[1].tolist()
    assert aug.layer_array().tolist() == aug.layer
    # the lists hold Python ints, as the loop made them (not numpy's)
    assert {type(v) for x in (aug.layer, *aug.up, *aug.down, *aug.chains) for v in
            (x if isinstance(x, list) else [x])} == {int}


def test_layered_graph_is_the_plain_loop_for_any_ranks_and_edges():
    # ends in one layer, edges going up a layer or more, self-loops: the loop gave each
    # of them no bend point (a chain of its two ends), and so must the arrays
    rng = random.Random(8)
    for _ in range(200):
        n = rng.choice([1, 2, 3, 10, 40])
        ranks = [rng.randrange(0, 9) for _ in range(n)]
        m = rng.randrange(0, 3 * n)
        src = [rng.randrange(n) for _ in range(m)]
        dst = [rng.randrange(n) for _ in range(m)]
        aug = LayeredGraph(ranks, src, dst)
        assert (aug.layer, aug.up, aug.down, aug.chains) == plain_layered_graph(ranks, src, dst)
