"""Layers of a layered drawing (pure): break cycles, assign layers, add bend points.

``LayeredGraph`` is the graph the later stages work on: every original edge
becomes a chain of edges between adjacent layers, through one dummy point per
layer it crosses (nodes ``0..n-1`` are the real ones, dummies follow).
"""

from __future__ import annotations

import numpy as np


def feedback_edges(n: int, src: list, dst: list) -> list:
    """Return per edge whether it must be reversed to make the graph acyclic (DFS back edges)."""
    flipped = [False] * len(src)
    if _is_acyclic(n, src, dst):
        return flipped
    out = [[] for _ in range(n)]
    for i, u in enumerate(src):
        out[u].append(i)
    state = [0] * n  # 0 new, 1 on the stack, 2 finished
    for start in range(n):
        if state[start]:
            continue
        stack = [(start, 0)]
        state[start] = 1
        while stack:
            u, j = stack[-1]
            if j < len(out[u]):
                stack[-1] = (u, j + 1)
                e = out[u][j]
                v = dst[e]
                if state[v] == 1:
                    flipped[e] = True
                elif state[v] == 0:
                    state[v] = 1
                    stack.append((v, 0))
            else:
                state[u] = 2
                stack.pop()
    return flipped


def _is_acyclic(n: int, src: list, dst: list) -> bool:
    """Return True when the directed graph has no cycle (Kahn's algorithm)."""
    indeg = [0] * n
    out = [[] for _ in range(n)]
    for u, v in zip(src, dst):
        indeg[v] += 1
        out[u].append(v)
    todo = [i for i in range(n) if indeg[i] == 0]
    seen = 0
    while todo:
        u = todo.pop()
        seen += 1
        for v in out[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                todo.append(v)
    return seen == n


def _topological_order(n: int, src: list, dst: list) -> tuple[list, list, list]:
    """Return (order, predecessors, successors) of an acyclic graph (of a graph with a cycle,
    the order holds fewer than ``n`` nodes: none on a cycle or below one)."""
    preds = [[] for _ in range(n)]
    succs = [[] for _ in range(n)]
    for u, v in zip(src, dst):
        preds[v].append(u)
        succs[u].append(v)
    indeg = list(map(len, preds))
    todo = [i for i in range(n - 1, -1, -1) if indeg[i] == 0]
    order = []
    while todo:
        u = todo.pop()
        order.append(u)
        for v in succs[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                todo.append(v)
    return order, preds, succs


def flips_and_layers(n: int, src: list, dst: list) -> tuple[list, list]:
    """Return ``feedback_edges(n, src, dst)`` and ``assign_layers`` of the graph with those
    edges turned round; an acyclic graph's topological order (Kahn's) is found once for both."""
    order, preds, succs = _topological_order(n, src, dst)
    if len(order) == n:  # every node reached: no cycle (what _is_acyclic finds)
        return [False] * len(src), _layers(n, order, preds, succs)
    flipped = feedback_edges(n, src, dst)
    up_src = [dst[i] if flipped[i] else src[i] for i in range(len(src))]
    up_dst = [src[i] if flipped[i] else dst[i] for i in range(len(src))]
    return flipped, assign_layers(n, up_src, up_dst)


def assign_layers(n: int, src: list, dst: list) -> list:
    """Return a layer per node: longest path from the sources, then nodes pulled down.

    A node with more successors than predecessors shortens the total edge
    length by sitting just above its highest successor.
    """
    return _layers(n, *_topological_order(n, src, dst))


def _layers(n: int, order: list, preds: list, succs: list) -> list:
    """``assign_layers`` from a topological order and each node's predecessors and successors."""
    layer = [0] * n
    of = layer.__getitem__
    for v in order:
        if preds[v]:
            layer[v] = max(map(of, preds[v])) + 1
    for v in reversed(order):
        below, above = succs[v], preds[v]
        # (one predecessor or none: never more distinct ones than successors)
        if below and (len(above) < 2 or len(set(below)) >= len(set(above))):
            lowest = min(map(of, below)) - 1
            if lowest > layer[v]:
                layer[v] = lowest
    return layer


class LayeredGraph:
    """The layered graph with dummy points: every edge joins two adjacent layers.

    ``chains[e]`` lists the augmented nodes of original edge ``e`` from its
    upper end to its lower end; ``up``/``down`` are neighbour lists.
    """

    def __init__(self, ranks: list, src: list, dst: list):
        self._real = n = len(ranks)
        rank = np.asarray(ranks, dtype=np.int64).reshape(n)
        u, v = (np.asarray(ends, dtype=np.int64).reshape(len(src)) for ends in (src, dst))
        # the bend points, numbered on from the last node, one per layer between (edges in
        # their order, each edge's from the top)
        inner = np.maximum(rank[v] - rank[u] - 1, 0) if len(u) else u
        first = n + np.cumsum(inner) - inner  # each edge's first bend point
        bends = int(inner.sum())
        edge_of = np.repeat(np.arange(len(u)), inner)  # each bend point's edge
        step = np.arange(n, n + bends) - first[edge_of]  # its place in its edge, from 0
        self._layer_arr = np.concatenate([rank, rank[u][edge_of] + 1 + step])
        self.layer = self._layer_arr.tolist()
        bent = inner > 0
        below_u = np.where(bent, first, v)  # the next node down from u along each edge
        above_v = np.where(bent, first + inner - 1, u)  # and up from v
        last_bend = step == inner[edge_of] - 1
        bend_below = np.where(last_bend, v[edge_of], np.arange(n + 1, n + bends + 1))
        bend_above = np.where(step == 0, u[edge_of], np.arange(n - 1, n + bends - 1))
        self._down = _grouped(u, below_u, bend_below, n)
        self._up = _grouped(v, above_v, bend_above, n)
        self.down = _as_lists(*self._down, n)
        self._up_lists = self._chain_lists = None  # made when first asked for
        # each edge's chain: its upper end, its bend points, its lower end
        lengths = inner + 2
        at = np.cumsum(lengths) - lengths
        flat = np.empty(int(lengths.sum()), dtype=np.int64)
        flat[at], flat[at + lengths - 1] = u, v
        flat[np.repeat(at + 1 - first, inner) + np.arange(n, n + bends)] = np.arange(n, n + bends)
        self._chains = (lengths, flat)

    @property
    def up(self) -> list:
        """Every node's list of the nodes above it (made when first asked for: a big graph's
        crossing reduction reads ``up_arrays``)."""
        if self._up_lists is None:
            self._up_lists = _as_lists(*self._up, self._real)
        return self._up_lists

    @property
    def chains(self) -> list:
        """Every edge's augmented nodes, upper end first (made when first asked for: the
        routes of a graph without parallel edges read ``chain_arrays``)."""
        if self._chain_lists is None:
            lengths, flat = self._chains
            self._chain_lists = _as_lists(lengths, flat, len(lengths))  # all of any length
        return self._chain_lists

    @property
    def size(self) -> int:
        return len(self.layer)

    def edge_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (upper, lower) arrays of all augmented edges (cached)."""
        if not hasattr(self, "_edges"):
            degree, ev = self.down_arrays()
            self._edges = (np.repeat(np.arange(self.size, dtype=np.int64), degree), ev)
        return self._edges

    def down_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (how many nodes below each node, all of them one node after another)
        (``down`` as arrays)."""
        return self._down

    def up_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (how many nodes above each node, all of them one node after another)
        (``up`` as arrays)."""
        return self._up

    def chain_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (each chain's length, all chains one after another)."""
        return self._chains

    def down_degrees(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (edges down from each node, each edge's place among its upper end's) of
        ``edge_arrays`` (cached)."""
        if not hasattr(self, "_down_degrees"):
            eu = self.edge_arrays()[0]
            degree = np.bincount(eu, minlength=self.size)
            self._down_degrees = (degree, np.arange(len(eu)) - (np.cumsum(degree) - degree)[eu])
        return self._down_degrees

    def layer_array(self) -> np.ndarray:
        """Return ``layer`` as an int64 array (made with it)."""
        return self._layer_arr


def _grouped(owner: np.ndarray, item: np.ndarray, bend_item: np.ndarray, n: int):
    """Return (lengths, flat) of every node's list: real node ``k``'s ``item`` of each edge
    whose ``owner`` is ``k``, in edge order, then bend point ``n + j``'s one ``bend_item[j]``."""
    order = np.argsort(owner, kind="stable")
    lengths = np.concatenate([np.bincount(owner, minlength=n)[:n],
                              np.ones(len(bend_item), dtype=np.int64)])
    return lengths, np.concatenate([item[order], bend_item])


def _as_lists(lengths: np.ndarray, flat: np.ndarray, n: int) -> list:
    """Return the lists of ``(lengths, flat)``: the first ``n`` of any length, then one item each."""
    real = int(lengths[:n].sum())
    items = flat[:real].tolist()
    ends = np.cumsum(lengths[:n]).tolist()
    return [items[a:b] for a, b in zip([0, *ends], ends)] + [[w] for w in flat[real:].tolist()]
