"""A fast layered (Sugiyama-style) layout: networkx graph in, positions and edge routes out.

Pure Python + numpy, no Qt and no system binary. The stages:

1. break cycles (autograd graphs have none; any other graph may);
2. layers: longest path from the roots (root at the top), then nodes with more
   edges below than above are pulled down next to their successors;
3. every edge that spans several layers gets a chain of dummy points;
4. crossing reduction: a depth-first initial order, then barycenter sweeps
   down and up, keeping the order with the fewest crossings;
5. coordinates: each node is pulled towards the weighted mean of its
   neighbours (long-edge chains weigh most, so they run straight) and then
   projected back to a non-overlapping order in its layer; all layers at once
   with numpy;
6. routes: polylines from the source box's border through the dummy points to
   the target box's border; parallel edges (``x * x``) are bowed apart.

``layout_dot`` runs Graphviz ``dot`` instead, where it is installed.
Coordinates are scene units (one unit = one pixel at 100%), y grows downwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np

from graphviz_views import style

NODE_GAP = 18.0  # between two boxes of one layer
DUMMY_GAP = 8.0  # between a long edge's bend point and its neighbours
DUMMY_WIDTH = 4.0
RANK_GAP = 36.0  # between two layers
SWEEPS = 12  # barycenter sweep pairs (down + up), at most
COORD_ITERATIONS = 40
PARALLEL_SPREAD = 16.0  # how far parallel edges bow apart
_EDGE_WEIGHT = (1.0, 2.0, 8.0)
_MAX_POOL_ROUNDS = 60
_TRANSPOSE_LIMIT = 5000  # above this many points, transposing costs more than the 1 s budget
_L2_ITERATIONS = 10  # plain least squares first, to spread things out
_IRLS_DELTA = 2.0  # edges shorter than this count as straight  # real-real, real-dummy, dummy-dummy (as dot weighs them)


@dataclass
class Layout:
    """Where everything goes.

    positions: {node: (x, y)} box centres; sizes: {node: (w, h)};
    routes: {(u, v, key): [(x, y), ...]} from the source box's border to the
    target box's border (the arrowhead goes at the last point);
    bounds: (x0, y0, x1, y1) around all boxes and routes; ranks: {node: layer}.
    """

    positions: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    routes: dict = field(default_factory=dict)
    bounds: tuple = (0.0, 0.0, 0.0, 0.0)
    rankdir: str = "TB"
    ranks: dict = field(default_factory=dict)


class DotNotFoundError(RuntimeError):
    """Graphviz ``dot`` is not installed."""


# --------------------------------------------------------------------------------------
# the public entry points


def layout(graph, *, rankdir: str = "TB", sizes: dict | None = None) -> Layout:
    """Return the layered Layout of ``graph`` (any networkx graph), root at the top for TB.

    ``sizes`` maps node to (width, height); missing nodes get the size of their
    label (``style.node_size``). ``rankdir`` is ``TB`` (top-down) or ``LR``.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR', not {rankdir!r}")
    nodes = _ordered_nodes(graph)
    all_sizes = {n: (sizes or {}).get(n) or style.node_size(graph.nodes[n]) for n in nodes}
    if not nodes:
        return Layout(rankdir=rankdir)
    index = {n: i for i, n in enumerate(nodes)}
    edges = _edge_list(graph, index)
    src = [index[u] for u, _, _ in edges]
    dst = [index[v] for _, v, _ in edges]
    flipped = _feedback_edges(len(nodes), src, dst)
    up_src = [dst[i] if flipped[i] else src[i] for i in range(len(edges))]
    up_dst = [src[i] if flipped[i] else dst[i] for i in range(len(edges))]
    ranks = _assign_layers(len(nodes), up_src, up_dst)
    aug = _Augmented(ranks, up_src, up_dst)
    layers = _initial_order(aug, len(nodes))
    layers = _reduce_crossings(aug, layers)
    breadth = [all_sizes[n][0 if rankdir == "TB" else 1] for n in nodes]
    depth = [all_sizes[n][1 if rankdir == "TB" else 0] for n in nodes]
    along = _assign_coordinates(aug, layers, breadth, len(nodes))
    rank_pos = _rank_positions(ranks, depth)
    return _build_layout(nodes, edges, flipped, aug, along, rank_pos, all_sizes, rankdir,
                         _self_loop_keys(graph))


def layout_dot(graph, *, rankdir: str = "TB", sizes: dict | None = None,
               timeout: float | None = None) -> Layout:
    """Return the Layout that Graphviz ``dot`` computes for ``graph`` (``dot -Tjson``).

    Raises DotNotFoundError when ``dot`` is not on PATH.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFoundError(
            "Graphviz 'dot' is not installed (not found on PATH); install Graphviz "
            "(e.g. 'apt install graphviz') or use the built-in layout (--layout layered)."
        )
    from graphviz_views.dot import layout_input_dot

    nodes = _ordered_nodes(graph)
    all_sizes = {n: (sizes or {}).get(n) or style.node_size(graph.nodes[n]) for n in nodes}
    if not nodes:
        return Layout(rankdir=rankdir)
    text = layout_input_dot(graph, all_sizes, rankdir=rankdir)
    done = subprocess.run([exe, "-Tjson"], input=text, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.strip()}")
    return _parse_dot_json(json.loads(done.stdout), nodes, all_sizes, rankdir)


# --------------------------------------------------------------------------------------
# graph indexing


def _ordered_nodes(graph) -> list:
    """Return the nodes, roots first, then in insertion order (``n0`` first for a trace)."""
    roots = style.root_ids(graph)
    return [n for n in graph.nodes if n in roots] + [n for n in graph.nodes if n not in roots]


def _edge_list(graph, index: dict) -> list:
    """Return ``[(u, v, key)]`` without self-loops, in a stable order (source, then key)."""
    if graph.is_multigraph():
        edges = [(u, v, k) for u, v, k in graph.edges(keys=True) if u != v]
    else:
        edges = [(u, v, 0) for u, v in graph.edges() if u != v]
    edges.sort(key=lambda e: (index[e[0]], _sort_key(e[2])))
    return edges


def _self_loop_keys(graph) -> list:
    """Return ``[(node, key)]`` of self-loops (left out of the layering; autograd makes none)."""
    if graph.is_multigraph():
        return [(u, k) for u, v, k in graph.edges(keys=True) if u == v]
    return [(u, 0) for u, v in graph.edges() if u == v]


def _sort_key(key):
    return (0, key, "") if isinstance(key, (int, float)) else (1, 0, str(key))


def _feedback_edges(n: int, src: list, dst: list) -> list:
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


# --------------------------------------------------------------------------------------
# layering


def _topological_order(n: int, src: list, dst: list) -> tuple[list, list, list]:
    """Return (order, predecessors, successors) of an acyclic graph."""
    preds = [[] for _ in range(n)]
    succs = [[] for _ in range(n)]
    indeg = [0] * n
    for u, v in zip(src, dst):
        preds[v].append(u)
        succs[u].append(v)
        indeg[v] += 1
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


def _assign_layers(n: int, src: list, dst: list) -> list:
    """Return a layer per node: longest path from the sources, then nodes pulled down.

    A node with more successors than predecessors shortens the total edge
    length by sitting just above its highest successor.
    """
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


class _Augmented:
    """The layered graph with dummy points: every edge joins two adjacent layers.

    ``chains[e]`` lists the augmented nodes of original edge ``e`` from its
    upper end to its lower end; ``up``/``down`` are neighbour lists.
    """

    def __init__(self, ranks: list, src: list, dst: list):
        self.layer = list(ranks)
        n = len(ranks)
        self.up = [[] for _ in range(n)]
        self.down = [[] for _ in range(n)]
        self.chains = []
        for u, v in zip(src, dst):
            chain = [u]
            for r in range(ranks[u] + 1, ranks[v]):
                chain.append(self._new_dummy(r))
            chain.append(v)
            for a, b in zip(chain, chain[1:]):
                self.down[a].append(b)
                self.up[b].append(a)
            self.chains.append(chain)

    def _new_dummy(self, rank: int) -> int:
        self.layer.append(rank)
        self.up.append([])
        self.down.append([])
        return len(self.layer) - 1

    @property
    def size(self) -> int:
        return len(self.layer)

    def edge_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (upper, lower) arrays of all augmented edges (cached)."""
        if not hasattr(self, "_edges"):
            eu = [v for v in range(self.size) for _ in self.down[v]]
            ev = [w for v in range(self.size) for w in self.down[v]]
            self._edges = (np.asarray(eu, dtype=np.int64), np.asarray(ev, dtype=np.int64))
        return self._edges

    def layer_array(self) -> np.ndarray:
        if not hasattr(self, "_layer_arr"):
            self._layer_arr = np.asarray(self.layer, dtype=np.int64)
        return self._layer_arr


# --------------------------------------------------------------------------------------
# crossing reduction


def _initial_order(aug: _Augmented, n_real: int) -> list:
    """Return the layers in the better of two starting orders: depth-first (good for trees)
    and breadth-first (good for wide graphs; a trace's ids are breadth-first)."""
    depth_first = _depth_first_order(aug, n_real)
    breadth_first = _breadth_first_order(aug, n_real)
    pos = [0] * aug.size
    _set_positions(depth_first, pos)
    dfs_count = count_layer_crossings(aug, pos)
    _set_positions(breadth_first, pos)
    return breadth_first if count_layer_crossings(aug, pos) < dfs_count else depth_first


def _breadth_first_order(aug: _Augmented, n_real: int) -> list:
    """Return the layers filled in breadth-first order from the sources, in index order."""
    layers = [[] for _ in range(max(aug.layer) + 1)]
    seen = [False] * aug.size
    starts = [v for v in range(n_real) if not aug.up[v]] + list(range(aug.size))
    for start in starts:
        if seen[start]:
            continue
        seen[start] = True
        queue = [start]
        for v in queue:  # the list grows while we walk it: a FIFO without popping
            layers[aug.layer[v]].append(v)
            for w in aug.down[v]:
                if not seen[w]:
                    seen[w] = True
                    queue.append(w)
    return layers


def _depth_first_order(aug: _Augmented, n_real: int) -> list:
    """Return the layers filled by a depth-first walk from the sources."""
    nlayers = max(aug.layer) + 1
    layers = [[] for _ in range(nlayers)]
    seen = [False] * aug.size
    for start in range(n_real):
        if seen[start] or aug.up[start]:
            continue
        _dfs_append(aug, start, seen, layers)
    for v in range(aug.size):  # nodes reachable only from a cycle's reversed edge
        if not seen[v]:
            _dfs_append(aug, v, seen, layers)
    return layers


def _dfs_append(aug: _Augmented, start: int, seen: list, layers: list) -> None:
    stack = [start]
    while stack:
        v = stack.pop()
        if seen[v]:
            continue
        seen[v] = True
        layers[aug.layer[v]].append(v)
        stack.extend(reversed(aug.down[v]))


def _reduce_crossings(aug: _Augmented, layers: list) -> list:
    """Return the layers reordered by barycenter sweeps (and transposes); the best order
    seen is kept. Wide layers are sorted with numpy, narrow ones in plain Python."""
    pos = [0] * aug.size
    _set_positions(layers, pos)
    best = [list(layer) for layer in layers]
    best_count = count_layer_crossings(aug, pos)
    if best_count == 0:
        return best
    both = [u + d for u, d in zip(aug.up, aug.down)]
    wide = _WideLayers(aug, layers, both)
    stale = 0
    for sweep in range(SWEEPS):
        # The first pair of sweeps looks at one neighbour layer (above going down, below
        # going up); later ones at both, which settles far better than one-sided
        # sweeps that undo each other. The direction alternates; after a worse
        # round we start again from the best order seen.
        for down in ((True, False) if sweep % 2 == 0 else (False, True)):
            side = ("up" if down else "down") if sweep == 0 else "both"
            neighbours = {"up": aug.up, "down": aug.down, "both": both}[side]
            pos = _sweep(aug, layers, pos, wide, down, side, neighbours)
        if aug.size <= _TRANSPOSE_LIMIT:
            _transpose(layers, aug, pos)
        count = count_layer_crossings(aug, pos)
        if count < best_count:
            best_count, best = count, [list(layer) for layer in layers]
            stale = 0
        else:
            stale += 1
            layers[:] = [list(layer) for layer in best]
            _set_positions(layers, pos)
        if best_count == 0 or stale >= 3:
            break
    return best


def _sweep(aug: _Augmented, layers: list, pos: list, wide, down: bool, side: str,
           neighbours: list) -> list:
    """Sort every layer by the barycenter of its ``side`` neighbours (up, down or both),
    layer by layer top to bottom (``down``) or bottom to top; return the new positions."""
    order = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
    # positions as fractions of their layer's width, so layers of different widths compare
    span = np.maximum(np.asarray([len(layers[r]) for r in aug.layer], dtype=float) - 1, 1)
    frac = np.asarray(pos, dtype=float) / span
    for i in order:
        if len(layers[i]) < 2:
            continue
        if i in wide.layers:
            layers[i] = wide.sort(i, side, frac)
        else:
            _sort_by_barycenter(layers[i], neighbours, frac)
    out = [0] * aug.size
    _set_positions(layers, out)
    return out


class _WideLayers:
    """Neighbour arrays of the layers wide enough for numpy to beat plain Python."""

    MIN_WIDTH = 24

    def __init__(self, aug: _Augmented, layers: list, both: list):
        self.layers = {}
        for i, layer in enumerate(layers):
            if len(layer) >= self.MIN_WIDTH:
                nodes = np.asarray(layer, dtype=np.int64)
                self.layers[i] = (nodes, {"up": self._csr(nodes, aug.up),
                                          "down": self._csr(nodes, aug.down),
                                          "both": self._csr(nodes, both)})

    @staticmethod
    def _csr(nodes, neighbours):
        """Return (owner slot per neighbour entry, neighbour ids, degree per slot)."""
        lists = [neighbours[v] for v in nodes.tolist()]
        degree = np.asarray([len(ns) for ns in lists], dtype=np.int64)
        flat = np.asarray([u for ns in lists for u in ns], dtype=np.int64)
        return np.repeat(np.arange(len(nodes)), degree), flat, degree

    def sort(self, i: int, side: str, pos: np.ndarray) -> list:
        """Return layer ``i`` sorted by barycenter of its ``side`` neighbours; ``pos`` is
        updated in place."""
        nodes, sides = self.layers[i]
        owner, flat, degree = sides[side]
        here = pos[nodes]
        total = np.bincount(owner, weights=pos[flat], minlength=len(nodes))
        key = np.where(degree > 0, total / np.maximum(degree, 1), here)
        ordered = nodes[np.lexsort((here, key))]
        pos[ordered] = np.arange(len(ordered)) / max(len(ordered) - 1, 1)
        return ordered.tolist()


def _set_positions(layers: list, pos: list) -> None:
    for layer in layers:
        for i, v in enumerate(layer):
            pos[v] = i


def _sort_by_barycenter(layer: list, neighbours: list, pos) -> None:
    """Reorder ``layer`` in place by the mean position of each node's neighbours
    (``pos``: fractions of the layer width, updated)."""
    keys = []
    for v in layer:
        ns = neighbours[v]
        if ns:
            keys.append((sum([pos[u] for u in ns]) / len(ns), pos[v], v))
        else:  # no neighbour on that side: stay where it is
            keys.append((pos[v], pos[v], v))
    keys.sort()
    last = max(len(keys) - 1, 1)
    for i, key in enumerate(keys):
        v = key[2]
        layer[i] = v
        pos[v] = i / last


def _transpose(layers: list, aug: _Augmented, pos: list, passes: int = 4) -> None:
    """Swap neighbours in a layer wherever that lowers the crossings (dot's "transpose")."""
    for _ in range(passes):
        improved = 0
        for layer in layers:
            for i in range(len(layer) - 1):
                v, w = layer[i], layer[i + 1]
                before = _pair_crossings(aug.up[v], aug.up[w], pos) + _pair_crossings(
                    aug.down[v], aug.down[w], pos)
                if before == 0:
                    continue
                after = _pair_crossings(aug.up[w], aug.up[v], pos) + _pair_crossings(
                    aug.down[w], aug.down[v], pos)
                if after < before:
                    layer[i], layer[i + 1] = w, v
                    pos[v], pos[w] = i + 1, i
                    improved += before - after
        if not improved:
            return


def _pair_crossings(left: list, right: list, pos: list) -> int:
    """Return the crossings between the edges of a node with neighbours ``left`` placed just
    before a node with neighbours ``right`` (pairs a, b with pos[a] > pos[b])."""
    if not left or not right:
        return 0
    if len(left) == 1 and len(right) == 1:
        return 1 if pos[left[0]] > pos[right[0]] else 0
    rights = sorted(pos[b] for b in right)
    count = 0
    for a in left:
        pa = pos[a]
        count += bisect_left(rights, pa)
    return count


def count_layer_crossings(aug: _Augmented, pos: list) -> int:
    """Return the number of edge crossings between adjacent layers for the current order."""
    eu, ev = aug.edge_arrays()
    if len(eu) == 0:
        return 0
    at = np.asarray(pos)
    return count_inversions(aug.layer_array()[eu], at[eu], at[ev])


def count_inversions(group, a, b) -> int:
    """Return how many pairs (i, j) in the same group have a_i < a_j and b_i > b_j.

    Pairs of straight segments between two lines, from ``a`` on one to ``b`` on
    the other, cross exactly when they form such a pair. Vectorised merge
    counting: at each level, count the pairs whose two members first meet in one
    block, for all blocks of all groups at once; O(n log^2 n).
    """
    group = np.asarray(group)
    order = np.lexsort((b, a, group))
    g = np.unique(group[order], return_inverse=True)[1].astype(np.int64)  # dense ranks
    v = np.unique(np.asarray(b)[order], return_inverse=True)[1].astype(np.int64)
    n = len(g)
    if n < 2:
        return 0
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, n])
    idx = np.arange(n) - np.repeat(starts, sizes)
    n_values = int(v.max()) + 1
    total, width = 0, 1
    while width < sizes.max():
        block = idx // (2 * width)
        right = (idx // width) % 2 == 1
        n_blocks = int(block.max()) + 1
        # one int64 key instead of a 4-key lexsort; ties put the left half first, so
        # equal values are no crossing
        key = ((g * n_blocks + block) * n_values + v) * 2 + right
        o = np.argsort(key, kind="stable")
        gb, rs = (g * n_blocks + block)[o], right[o]
        left = (~rs).astype(np.int64)
        before = np.cumsum(left) - left
        new = np.r_[True, gb[1:] != gb[:-1]]
        gid = np.cumsum(new) - 1
        left_before = before - before[new][gid]
        left_total = np.bincount(gid, weights=left)[gid]
        total += int((left_total - left_before)[rs].sum())
        width *= 2
    return total


# --------------------------------------------------------------------------------------
# coordinates


def _assign_coordinates(aug: _Augmented, layers: list, breadth: list, n_real: int) -> np.ndarray:
    """Return the coordinate along the layers (x for TB) of every augmented node.

    Nodes move towards the weighted mean of their neighbours, then each layer is
    projected back to its order with no overlap (mean of a left and a right
    push, which keeps it centred); vectorised over all layers.
    """
    seq = [v for layer in layers for v in layer]
    seq_arr = np.asarray(seq, dtype=np.int64)
    n = aug.size
    width = np.full(n, DUMMY_WIDTH)
    width[:n_real] = breadth
    is_dummy = np.arange(n) >= n_real
    seg = np.asarray([aug.layer[v] for v in seq], dtype=np.int64)
    w_seq = width[seq_arr]
    gap = np.where(is_dummy[seq_arr][1:] | is_dummy[seq_arr][:-1], DUMMY_GAP, NODE_GAP)
    sep = np.r_[0.0, (w_seq[1:] + w_seq[:-1]) / 2 + gap]
    first = np.r_[True, seg[1:] != seg[:-1]]
    sep[first] = 0.0
    offset = np.cumsum(sep)
    offset -= np.maximum.accumulate(np.where(first, offset, -np.inf))  # restart per layer
    layer_len = np.bincount(seg)  # per layer count, used to centre
    last_of = np.r_[np.flatnonzero(first)[1:] - 1, len(seq) - 1]
    layer_span = offset[last_of]
    x_seq = offset - np.repeat(layer_span / 2, layer_len[layer_len > 0])
    eu, ev, ew = _coordinate_edges(aug, n_real)
    x = np.zeros(n)
    x[seq_arr] = x_seq
    if len(eu) == 0:
        return x
    dummy, top, bottom, frac = _dummy_lines(aug)
    # Edges join adjacent layers only, so even and odd layers update in turn
    # (red-black Gauss-Seidel): no oscillation, each half sees the other's latest.
    halves = [seq_arr[seg % 2 == parity] for parity in (0, 1)]
    half_offsets = [offset[seg % 2 == parity] for parity in (0, 1)]
    half_segs = [seg[seg % 2 == parity] for parity in (0, 1)]
    for it in range(COORD_ITERATIONS):
        for half, half_offset, half_seg in zip(halves, half_offsets, half_segs):
            if len(half) == 0:
                continue
            # Iteratively reweighted least squares towards sum w|x_u - x_v| (as dot
            # minimises): an edge that is already short pulls hardest, so chains
            # stay vertical instead of drifting towards their side branches.
            length = np.abs(x[eu] - x[ev])
            weight = ew / np.maximum(length, _IRLS_DELTA) if it >= _L2_ITERATIONS else ew
            wsum = np.bincount(eu, weights=weight, minlength=n)
            wsum += np.bincount(ev, weights=weight, minlength=n)
            pull = np.bincount(eu, weights=weight * x[ev], minlength=n)
            pull += np.bincount(ev, weights=weight * x[eu], minlength=n)
            has = wsum > 0
            want = np.where(has, pull / np.where(has, wsum, 1.0), x)
            # a long edge's bend points go straight onto the line between its ends
            want[dummy] = x[top] + frac * (x[bottom] - x[top])
            node_weight = np.where(has, wsum, wsum[has].min() if has.any() else 1.0)
            x[half] = _project(want[half], node_weight[half], half_offset, half_seg)
    x -= x[:n_real].min() if n_real else 0.0
    return x


def _dummy_lines(aug: _Augmented):
    """Return (dummy, top end, bottom end, fraction of the way down) arrays of all bend points."""
    dummy, top, bottom, frac = [], [], [], []
    for chain in aug.chains:
        last = len(chain) - 1
        for j in range(1, last):
            dummy.append(chain[j])
            top.append(chain[0])
            bottom.append(chain[-1])
            frac.append(j / last)
    as_int = lambda a: np.asarray(a, dtype=np.int64)  # noqa: E731
    return as_int(dummy), as_int(top), as_int(bottom), np.asarray(frac, dtype=float)


def _coordinate_edges(aug: _Augmented, n_real: int):
    """Return (upper, lower, weight) arrays of the augmented edges, weighted as dot does."""
    eu_a, ev_a = aug.edge_arrays()
    kind = (eu_a >= n_real).astype(int) + (ev_a >= n_real).astype(int)
    return eu_a, ev_a, np.asarray(_EDGE_WEIGHT)[kind]


def _project(want, weight, offset, seg):
    """Return positions closest to ``want`` (weighted least squares) keeping each layer's order.

    ``offset`` is each node's packed distance from its layer's first node, so the
    constraint is that ``x - offset`` never decreases within a layer: an isotonic
    regression, solved for all layers at once by pooling adjacent violators
    (every run of decreasing block means is merged per round; merging a whole
    decreasing run is what sequential pooling would do).
    """
    target = want - offset
    n = len(target)
    start = np.arange(n)
    wt = weight * target
    for _ in range(_MAX_POOL_ROUNDS):
        mean = np.add.reduceat(wt, start) / np.add.reduceat(weight, start)
        same_layer = seg[start[1:]] == seg[start[:-1]]
        violated = (mean[:-1] > mean[1:] + 1e-9) & same_layer
        if not violated.any():
            break
        start = start[np.r_[True, ~violated]]
    mean = np.add.reduceat(wt, start) / np.add.reduceat(weight, start)
    return np.repeat(mean, np.diff(np.r_[start, n])) + offset


def _rank_positions(ranks: list, depth: list) -> list:
    """Return the centre coordinate of each layer across the layers (y for TB)."""
    nlayers = max(ranks) + 1
    thick = [0.0] * nlayers
    for v, r in enumerate(ranks):
        thick[r] = max(thick[r], depth[v])
    pos, at = [], 0.0
    for i, t in enumerate(thick):
        if i:
            at += thick[i - 1] / 2 + RANK_GAP + t / 2
        else:
            at = t / 2
        pos.append(at)
    return pos


# --------------------------------------------------------------------------------------
# routes


def _build_layout(nodes, edges, flipped, aug, along, rank_pos, sizes, rankdir,
                  self_loops) -> Layout:
    """Return the Layout: node centres, sizes, edge routes and bounds."""
    def point(v):
        a, r = float(along[v]), rank_pos[aug.layer[v]]
        return (a, r) if rankdir == "TB" else (r, a)

    positions = {n: point(i) for i, n in enumerate(nodes)}
    routes = {}
    parallel = _parallel_index(edges)
    for e, (u, v, key) in enumerate(edges):
        chain = aug.chains[e]
        if flipped[e]:
            chain = chain[::-1]
        inner = [point(d) for d in chain[1:-1]]
        routes[(u, v, key)] = _route(positions[u], sizes[u], positions[v], sizes[v], inner,
                                     parallel[e], rankdir)
    for u, key in self_loops:
        routes[(u, u, key)] = _self_loop_route(positions[u], sizes[u])
    ranks = {n: aug.layer[i] for i, n in enumerate(nodes)}
    return Layout(positions, dict(sizes), routes, _bounds(positions, sizes, routes), rankdir,
                  ranks)


def _parallel_index(edges: list) -> list:
    """Return per edge (i, k): its place among the k edges joining the same two nodes."""
    groups: dict = {}
    for e, (u, v, _) in enumerate(edges):
        groups.setdefault((u, v), []).append(e)
    out = [(0, 1)] * len(edges)
    for members in groups.values():
        if len(members) > 1:
            for i, e in enumerate(members):
                out[e] = (i, len(members))
    return out


def _route(pu, su, pv, sv, inner, parallel, rankdir) -> list:
    """Return the polyline of one edge: border of u, bend points, border of v."""
    i, k = parallel
    shift = (i - (k - 1) / 2) * PARALLEL_SPREAD
    if k > 1 and not inner:  # bow parallel edges apart through a shifted midpoint
        mid = ((pu[0] + pv[0]) / 2, (pu[1] + pv[1]) / 2)
        inner = [(mid[0] + shift, mid[1]) if rankdir == "TB" else (mid[0], mid[1] + shift)]
    elif k > 1:
        inner = [(x + shift, y) if rankdir == "TB" else (x, y + shift) for x, y in inner]
    start = _border_point(pu, su, inner[0] if inner else pv)
    end = _border_point(pv, sv, inner[-1] if inner else pu)
    return [start, *inner, end]


def _border_point(centre, size, toward) -> tuple:
    """Return where the ray from a box's centre towards ``toward`` leaves the box."""
    cx, cy = centre
    dx, dy = toward[0] - cx, toward[1] - cy
    hw, hh = size[0] / 2, size[1] / 2
    if dx == 0 and dy == 0:
        return (cx, cy + hh)
    tx = hw / abs(dx) if dx else float("inf")
    ty = hh / abs(dy) if dy else float("inf")
    t = min(tx, ty)
    return (cx + dx * t, cy + dy * t)


def _self_loop_route(centre, size) -> list:
    x, y = centre
    w, h = size
    right = x + w / 2
    return [(right, y - h / 4), (right + 18, y - h / 4), (right + 18, y + h / 4), (right, y + h / 4)]


def _bounds(positions, sizes, routes) -> tuple:
    """Return (x0, y0, x1, y1) around every box and every route point."""
    if not positions:
        return (0.0, 0.0, 0.0, 0.0)
    names = list(positions)
    xy = np.asarray([positions[n] for n in names], dtype=float)
    wh = np.asarray([sizes[n] for n in names], dtype=float) / 2
    x0, y0 = (xy - wh).min(axis=0)
    x1, y1 = (xy + wh).max(axis=0)
    pts = [p for route in routes.values() for p in route]
    if pts:
        arr = np.asarray(pts, dtype=float)
        x0, y0 = min(x0, arr[:, 0].min()), min(y0, arr[:, 1].min())
        x1, y1 = max(x1, arr[:, 0].max()), max(y1, arr[:, 1].max())
    return (float(x0), float(y0), float(x1), float(y1))


# --------------------------------------------------------------------------------------
# Graphviz dot


_POINTS_PER_INCH = 72.0


def _parse_dot_json(data: dict, nodes: list, sizes: dict, rankdir: str) -> Layout:
    """Return a Layout from ``dot -Tjson`` output (y flipped to grow downwards)."""
    top = float(data["bb"].split(",")[3])
    by_gvid = {}
    positions = {}
    for obj in data.get("objects", []):
        if "pos" not in obj:
            continue
        node = nodes[int(obj["name"][1:])]  # nodes are written as "v<index>"
        by_gvid[obj["_gvid"]] = node
        x, y = (float(c) for c in obj["pos"].split(","))
        positions[node] = (x, top - y)
    routes = {}
    for edge in data.get("edges", []):
        u, v = by_gvid[edge["tail"]], by_gvid[edge["head"]]
        key = json.loads(edge["key"]) if "key" in edge else 0
        routes[(u, v, key)] = _dot_spline_points(edge.get("pos", ""), top)
    return Layout(positions, dict(sizes), routes, _bounds(positions, sizes, routes), rankdir, {})


def _dot_spline_points(pos: str, top: float) -> list:
    """Return the points of a dot edge ``pos`` (``e,x,y x,y ...``): tail first, head last."""
    points, end = [], None
    for part in pos.split():
        fields = part.split(",")
        if fields[0] == "e":
            end = (float(fields[1]), top - float(fields[2]))
        elif fields[0] == "s":
            continue
        else:
            points.append((float(fields[0]), top - float(fields[1])))
    if end is not None:
        points.append(end)
    return points
