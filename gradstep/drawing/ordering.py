"""Crossing reduction for a layered drawing (pure): the order of the nodes in each layer.

A depth-first (or breadth-first) start, then barycenter sweeps: the first round
looks at one neighbour layer, later rounds at both (one-sided sweeps undo each
other and stall); small graphs also get dot's "transpose" step. The order with
the fewest crossings seen is kept.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np

from gradstep.drawing.layering import LayeredGraph

SWEEPS = 12  # rounds of a down and an up sweep, at most
_TRANSPOSE_LIMIT = 5000  # above this many points, transposing costs more than the 1 s budget


def initial_order(aug: LayeredGraph, n_real: int) -> list:
    """Return the layers in the better of two starting orders: depth-first (good for trees)
    and breadth-first (good for wide graphs; a trace's ids are breadth-first)."""
    depth_first = _depth_first_order(aug, n_real)
    breadth_first = _breadth_first_order(aug, n_real)
    pos = [0] * aug.size
    _set_positions(depth_first, pos)
    dfs_count = count_layer_crossings(aug, pos)
    _set_positions(breadth_first, pos)
    return breadth_first if count_layer_crossings(aug, pos) < dfs_count else depth_first


def _breadth_first_order(aug: LayeredGraph, n_real: int) -> list:
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


def _depth_first_order(aug: LayeredGraph, n_real: int) -> list:
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


def _dfs_append(aug: LayeredGraph, start: int, seen: list, layers: list) -> None:
    stack = [start]
    while stack:
        v = stack.pop()
        if seen[v]:
            continue
        seen[v] = True
        layers[aug.layer[v]].append(v)
        stack.extend(reversed(aug.down[v]))


def reduce_crossings(aug: LayeredGraph, layers: list) -> list:
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


def _sweep(aug: LayeredGraph, layers: list, pos: list, wide, down: bool, side: str,
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

    def __init__(self, aug: LayeredGraph, layers: list, both: list):
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


def _transpose(layers: list, aug: LayeredGraph, pos: list, passes: int = 4) -> None:
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


def count_layer_crossings(aug: LayeredGraph, pos: list) -> int:
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
