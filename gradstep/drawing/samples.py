"""Synthetic graphs shaped like traces (same node and edge attributes), for tests and benchmarks.

Pure networkx; node ids ``n0, n1, ...`` with ``n0`` the root, edges from a node
to the node that receives its gradient, edge key = slot.
"""

from __future__ import annotations

import random

import networkx as nx

_OPS = ("AddBackward0", "MulBackward0", "MmBackward0", "ReluBackward0", "SumBackward0",
        "ViewBackward0", "TanhBackward0", "ConvolutionBackward0")


def _op(graph, node_id: str, name: str, scope: str = "", shape=(4,)) -> None:
    graph.add_node(node_id, id=node_id, name=name, kind="op", label=name.split("Backward")[0].lower(),
                   scope=scope, shape=list(shape), dtype="float32", device="cpu", value=None,
                   saved=[])


def _leaf(graph, node_id: str, label: str, scope: str = "", shape=(4,)) -> None:
    graph.add_node(node_id, id=node_id, name="AccumulateGrad", kind="leaf", label=label,
                   scope=scope, shape=list(shape), dtype="float32", device="cpu", value=None,
                   saved=[])


def _edge(graph, u: str, v: str, slot: int) -> None:
    graph.add_edge(u, v, key=slot, slot=slot, input_nr=0)


def chain(n_ops: int) -> nx.MultiDiGraph:
    """Return a chain of ``n_ops`` ops ending in one leaf (``x.sin().sin()...``)."""
    graph = nx.MultiDiGraph(root="n0")
    for i in range(n_ops):
        _op(graph, f"n{i}", _OPS[i % len(_OPS)])
    _leaf(graph, f"n{n_ops}", "x")
    for i in range(n_ops):
        _edge(graph, f"n{i}", f"n{i + 1}", 0)
    return graph


def layered_dag(n_nodes: int, *, width: int = 100, seed: int = 0, reach: int = 6) -> nx.MultiDiGraph:
    """Return a random layered DAG: ``width`` nodes per layer, each fed by 1-3 nodes above.

    A node's inputs come from nearby positions (within ``reach``) of the layer
    above, one in five from two or three layers above, so a good drawing exists
    and crossing counts mean something.
    """
    rng = random.Random(seed)
    graph = nx.MultiDiGraph(root="n0")
    layers = [["n0"]]
    _op(graph, "n0", "SumBackward0")
    count = 1
    while count < n_nodes:
        size = min(width, n_nodes - count, max(1, 2 * len(layers[-1]) + 1))
        layer = []
        for j in range(size):
            node_id = f"n{count}"
            count += 1
            _op(graph, node_id, rng.choice(_OPS))
            layer.append(node_id)
            _feed(graph, layers, node_id, j, size, rng, reach)
        layers.append(layer)
    return graph


def _feed(graph, layers, node_id, j, size, rng, reach) -> None:
    """Add 1-3 edges into ``node_id`` from nodes near position ``j`` of the layers above."""
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        back = 1 if rng.random() < 0.8 or len(layers) < 3 else rng.choice((2, 3))
        above = layers[-min(back, len(layers))]
        centre = int(j * len(above) / size)
        k = max(0, min(len(above) - 1, centre + rng.randint(-reach, reach)))
        source = above[k]
        slot = graph.out_degree(source)
        _edge(graph, source, node_id, slot)


def multi_edge_graph() -> nx.MultiDiGraph:
    """Return the graph of ``y = x * x; z = y * w``: parallel edges from the first mul to x."""
    graph = nx.MultiDiGraph(root="n0")
    _op(graph, "n0", "MulBackward0", shape=(1,))
    _op(graph, "n1", "MulBackward0", shape=(1,))
    _leaf(graph, "n2", "w", shape=(1,))
    _leaf(graph, "n3", "x", shape=(1,))
    _edge(graph, "n0", "n1", 0)
    _edge(graph, "n0", "n2", 1)
    _edge(graph, "n1", "n3", 0)
    _edge(graph, "n1", "n3", 1)
    return graph


def scoped_blocks(n_blocks: int, ops_per_block: int = 4) -> nx.MultiDiGraph:
    """Return a chain of residual blocks with scopes ``model.<i>.fc`` / ``model.<i>.act``.

    Each block: add(x, act(fc(x))) with a weight leaf per fc, scoped like the
    tracer does for ``nn.Sequential`` children.
    """
    graph = nx.MultiDiGraph(root="n0")
    count = 0

    def new(kind, name, scope):
        nonlocal count
        node_id = f"n{count}"
        count += 1
        if kind == "op":
            _op(graph, node_id, name, scope)
        else:
            _leaf(graph, node_id, name, scope)
        return node_id

    top = new("op", "SumBackward0", "")
    for b in range(n_blocks):
        add = new("op", "AddBackward0", f"model.{b}")
        _edge(graph, top, add, 0)
        prev = add
        for k in range(ops_per_block - 1):
            op = new("op", "TanhBackward0" if k % 2 else "MmBackward0", f"model.{b}.fc{k}")
            _edge(graph, prev, op, 0 if prev != add else 1)
            if k % 2 == 0:
                weight = new("leaf", f"model.{b}.fc{k}.weight", f"model.{b}.fc{k}")
                _edge(graph, op, weight, 1)
            prev = op
        _edge(graph, add, prev, 0)  # the residual path joins the block's last op
        top = prev
    x = new("leaf", "x", "")
    _edge(graph, top, x, 0)
    return graph
