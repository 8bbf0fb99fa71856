"""Crossing reduction for a layered drawing (pure): the order of the nodes in each layer.

A depth-first (or breadth-first) start, then barycenter sweeps: the first round
looks at one neighbour layer, later rounds at both (one-sided sweeps undo each
other and stall); small graphs also get dot's "transpose" step. The order with
the fewest crossings seen is kept.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import chain

import numpy as np

from gradstep.drawing.layering import LayeredGraph

SWEEPS = 12  # rounds of a down and an up sweep, at most
_TRANSPOSE_LIMIT = 5000  # above this many points, transposing costs more than the 1 s budget
_MANY_SOURCES = 200  # more sources than this: the breadth-first walk goes node by node
# A level of the numpy walk costs ~15 us, the node-by-node walk ~0.5 us a node: levels
# must hold this many nodes on average for the numpy walk to pay (a 100,000-node chain has
# 100,000 levels of one node: 1.5 s against 0.1 s).
_WIDE_LEVELS = 32


def initial_order(aug: LayeredGraph, n_real: int) -> list:
    """Return the layers in the better of two starting orders: depth-first (good for trees)
    and breadth-first (good for wide graphs; a trace's ids are breadth-first)."""
    return start_order(aug, n_real)[0]


def start_order(aug: LayeredGraph, n_real: int) -> tuple[list, int]:
    """Return ``initial_order`` and its crossings (``reduce_crossings`` starts from them)."""
    depth_first = _depth_first_order(aug, n_real)
    breadth_first = _breadth_first_order(aug, n_real)
    dfs_count = count_layer_crossings(aug, _positions(depth_first, aug.size))
    bfs_count = count_layer_crossings(aug, _positions(breadth_first, aug.size))
    return (breadth_first, bfs_count) if bfs_count < dfs_count else (depth_first, dfs_count)


def _breadth_first_order(aug: LayeredGraph, n_real: int) -> list:
    """Return the layers filled in breadth-first order from the sources, in index order."""
    sources = np.flatnonzero(aug.up_arrays()[0][:n_real] == 0).tolist()
    levels = len(sources) * (max(aug.layer, default=-1) + 1)  # at most, over all the walks
    if len(sources) > _MANY_SOURCES or levels * _WIDE_LEVELS > aug.size:
        return _breadth_first_walk(aug, sources)
    eu, ev = aug.edge_arrays()
    degree = aug.down_degrees()[0]
    own_first = np.cumsum(degree) - degree  # node v's edges start at own_first[v] in ev
    seen = np.zeros(aug.size, dtype=bool)
    visits = []

    def walk(start):
        seen[start] = True
        frontier = np.array([start], dtype=np.int64)
        while len(frontier):
            # one level of the walk: the frontier's edges in queue order, each node taken
            # the first time it is reached (as the queue takes it)
            visits.append(frontier)
            counts = degree[frontier]
            taken = np.cumsum(counts) - counts
            found = ev[np.repeat(own_first[frontier] - taken, counts) + np.arange(counts.sum())]
            found = found[np.flatnonzero(~seen[found])]
            first_seen = np.unique(found, return_index=True)[1]
            frontier = found[np.sort(first_seen)]
            seen[frontier] = True

    for start in sources:
        if not seen[start]:
            walk(start)
    for start in np.flatnonzero(~seen).tolist():  # none in a DAG: all hang below a source
        if not seen[start]:
            walk(start)
    return _split_by_layer(aug, np.concatenate(visits))


def _breadth_first_walk(aug: LayeredGraph, sources: list) -> list:
    """``_breadth_first_order`` node by node (many sources, or narrow levels: a walk per
    source, a level at a time in numpy, would cost more)."""
    layer, down = aug.layer, aug.down
    layers = [[] for _ in range(max(layer) + 1)]
    seen = [False] * aug.size
    for start in chain(sources, range(aug.size)):
        if seen[start]:
            continue
        seen[start] = True
        queue = [start]
        for v in queue:  # the list grows while we walk it: a FIFO without popping
            layers[layer[v]].append(v)
            for w in down[v]:
                if not seen[w]:
                    seen[w] = True
                    queue.append(w)
    return layers


def _split_by_layer(aug: LayeredGraph, visited: np.ndarray) -> list:
    """Return the layers, each listing its nodes in the order of ``visited`` (every node once)."""
    layer_of = aug.layer_array()[visited]
    by_layer = visited[np.argsort(layer_of, kind="stable")].tolist()
    counts = np.bincount(layer_of, minlength=int(aug.layer_array().max()) + 1).tolist()
    out, at = [], 0
    for count in counts:
        out.append(by_layer[at:at + count])
        at += count
    return out


def _depth_first_order(aug: LayeredGraph, n_real: int) -> list:
    """Return the layers filled by a depth-first walk from the sources."""
    nlayers = max(aug.layer) + 1
    layers = [[] for _ in range(nlayers)]
    seen = [False] * aug.size
    above = aug.up_arrays()[0].tolist()  # how many nodes each node has above it
    for start in range(n_real):
        if seen[start] or above[start]:
            continue
        _dfs_append(aug, start, seen, layers)
    for v in range(aug.size):  # nodes reachable only from a cycle's reversed edge
        if not seen[v]:
            _dfs_append(aug, v, seen, layers)
    return layers


def _dfs_append(aug: LayeredGraph, start: int, seen: list, layers: list) -> None:
    layer, down = aug.layer, aug.down
    stack = [start]
    pop, push = stack.pop, stack.extend
    while stack:
        v = pop()
        if seen[v]:
            continue
        seen[v] = True
        layers[layer[v]].append(v)
        push(down[v][::-1])


def reduce_crossings(aug: LayeredGraph, layers: list, crossings: int | None = None) -> list:
    """Return the layers reordered by barycenter sweeps (and transposes); the best order
    seen is kept. Wide layers are sorted with numpy, narrow ones in plain Python.
    ``crossings``: those of ``layers`` when already counted (``start_order``)."""
    pos = _positions(layers, aug.size)
    best = [list(layer) for layer in layers]
    best_count = count_layer_crossings(aug, pos) if crossings is None else crossings
    if best_count == 0:
        return best
    wide = _WideLayers(aug, layers)
    # the neighbours above, and on both sides (up, then down), of the nodes the plain
    # Python sorts: the wide layers' come from the arrays, and 300,000 joined lists cost a
    # third of a second
    up = _up_lists(aug, [v for layer in layers if len(layer) < _WideLayers.MIN_WIDTH
                         for v in layer])
    both = {v: above + aug.down[v] for v, above in up.items()}
    # a node's position as a fraction of its layer's width is pos / span
    width = np.bincount(aug.layer_array())
    span = np.maximum(width[aug.layer_array()] - 1, 1).astype(float)
    best_pos = pos.copy()
    stale = 0
    for sweep in range(SWEEPS):
        # The first pair of sweeps looks at one neighbour layer (above going down, below
        # going up); later ones at both, which settles far better than one-sided
        # sweeps that undo each other. The direction alternates; after a worse
        # round we start again from the best order seen.
        for down in ((True, False) if sweep % 2 == 0 else (False, True)):
            side = ("up" if down else "down") if sweep == 0 else "both"
            neighbours = {"up": up, "down": aug.down, "both": both}[side]
            pos = _sweep(layers, pos, span, wide, down, side, neighbours)
        if aug.size <= _TRANSPOSE_LIMIT:
            layers[:] = _as_lists(layers)
            listed = pos.tolist()
            _transpose(layers, aug, listed)
            pos = np.asarray(listed, dtype=np.int64)
        count = count_layer_crossings(aug, pos)
        if count < best_count:
            best_count, best, best_pos = count, _copied(layers), pos.copy()
            stale = 0
        else:
            stale += 1
            layers[:] = _copied(best)
            pos = best_pos.copy()  # the places of ``best``, as _positions would make them
        if best_count == 0 or stale >= 3:
            break
    return _as_lists(best)


def _up_lists(aug: LayeredGraph, nodes: list) -> dict:
    """Return ``{v: aug.up[v]}`` of ``nodes``, read from ``aug.up_arrays`` (not every node's
    list made)."""
    lengths, flat = aug.up_arrays()
    items, ends = flat.tolist(), np.cumsum(lengths).tolist()
    return {v: items[ends[v] - n_above:ends[v]]
            for v, n_above in zip(nodes, lengths[nodes].tolist())} if nodes else {}


def _copied(layers: list) -> list:
    """Return a copy of ``layers`` (lists of nodes, or arrays: ``_WideLayers.sort`` makes those)."""
    return [layer.copy() if isinstance(layer, np.ndarray) else list(layer) for layer in layers]


def _as_lists(layers: list) -> list:
    """Return ``layers`` with every array of nodes made a list of ints."""
    return [layer.tolist() if isinstance(layer, np.ndarray) else layer for layer in layers]


def _sweep(layers: list, pos: np.ndarray, span: np.ndarray, wide, down: bool, side: str,
           neighbours: list) -> np.ndarray:
    """Sort every layer by the barycenter of its ``side`` neighbours (up, down or both),
    layer by layer top to bottom (``down``) or bottom to top; return the new positions."""
    order = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
    # positions as fractions of their layer's width, so layers of different widths compare
    frac = pos / span
    for i in order:
        if len(layers[i]) < 2:
            continue
        if i in wide.layers:
            layers[i] = wide.sort(i, side, frac, layers[i])
        else:
            _sort_by_barycenter(layers[i], neighbours, frac)
    # every fraction is now i / span of its new place i (or the old one: a layer left alone)
    return np.rint(frac * span).astype(np.int64)


class _WideLayers:
    """Neighbour arrays of the layers wide enough for numpy to beat plain Python."""

    MIN_WIDTH = 24

    def __init__(self, aug: LayeredGraph, layers: list):
        wide = [i for i, layer in enumerate(layers) if len(layer) >= self.MIN_WIDTH]
        self.layers = {}
        self.slot = np.zeros(aug.size, dtype=np.int64)  # a wide layer's node: its place in nodes
        if not wide:
            return
        sizes = [len(layers[i]) for i in wide]
        nodes = np.fromiter(chain.from_iterable(layers[i] for i in wide), dtype=np.int64,
                            count=sum(sizes))
        cuts = np.cumsum(sizes)[:-1]
        self.slot[nodes] = np.arange(len(nodes)) - np.repeat(np.r_[0, cuts], sizes)
        up, down = aug.up_arrays(), aug.down_arrays()
        csr = {side: _csr_rows(nodes, cuts, *flat)
               for side, flat in (("up", up), ("down", down), ("both", _joined(up, down)))}
        for j, (i, layer_nodes) in enumerate(zip(wide, np.split(nodes, cuts))):
            steps = np.arange(sizes[j]) / max(sizes[j] - 1, 1)
            self.layers[i] = (layer_nodes, steps, {side: rows[j] for side, rows in csr.items()})

    def sort(self, i: int, side: str, pos: np.ndarray, current) -> np.ndarray:
        """Return layer ``i`` (``current``: its nodes in their order, by place) sorted by
        barycenter of its ``side`` neighbours, then by place; ``pos`` is updated in place.

        A stable sort of the barycenters in the current order: ties keep their places.
        """
        # (~11,600 calls on a 100,000-node graph: positional arguments, the array's own
        # argsort and no asarray of an array save ~3 us a call)
        nodes, steps, sides = self.layers[i]
        owner, flat, has, degree = sides[side]
        total = np.bincount(owner, pos[flat], len(nodes))  # weights, minlength
        key = total / degree if has is None else np.where(has, total / degree, pos[nodes])
        if type(current) is not np.ndarray:
            current = np.asarray(current, dtype=np.int64)
        ordered = current[key[self.slot[current]].argsort(kind="stable")]
        pos[ordered] = steps
        return ordered


def _joined(first: tuple, second: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Return (lengths, items one list after another) of ``[a + b for a, b in zip(...)]``
    from the two lists' own (lengths, items) pairs (``LayeredGraph.up_arrays``, ...)."""
    (len_a, flat_a), (len_b, flat_b) = first, second
    lengths = len_a + len_b
    at = np.cumsum(lengths) - lengths  # where each joined list starts
    flat = np.empty(len(flat_a) + len(flat_b), dtype=np.int64)
    flat[np.repeat(at - (np.cumsum(len_a) - len_a), len_a) + np.arange(len(flat_a))] = flat_a
    flat[np.repeat(at + len_a - (np.cumsum(len_b) - len_b), len_b) + np.arange(len(flat_b))] = flat_b
    return lengths, flat


def _csr_rows(nodes: np.ndarray, cuts: np.ndarray, lengths: np.ndarray,
              flat_all: np.ndarray) -> list:
    """Return per layer of ``nodes`` (split at ``cuts``): (owner slot per neighbour entry,
    neighbour ids, has neighbours (None: all have), degree at least 1), each node's
    neighbours in list order
    (``lengths`` and ``flat_all``: every node's list, one after another)."""
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    degree = lengths[nodes]
    entry_cuts = np.cumsum(degree)
    # the entries of node k run from starts[nodes[k]]; gather them all in one go
    first_entry = np.repeat(starts[nodes] - (entry_cuts - degree), degree)
    flat = flat_all[first_entry + np.arange(int(entry_cuts[-1]) if len(nodes) else 0)]
    rows = []
    for layer_degree, flat_part in zip(np.split(degree, cuts),
                                       np.split(flat, entry_cuts[cuts - 1])):
        owner = np.repeat(np.arange(len(layer_degree)), layer_degree)
        has = layer_degree > 0
        rows.append((owner, flat_part, None if has.all() else has, np.maximum(layer_degree, 1)))
    return rows


def _positions(layers: list, size: int) -> np.ndarray:
    """Return every node's place in its layer."""
    nodes = np.fromiter(chain.from_iterable(layers), dtype=np.int64, count=size)
    lengths = np.fromiter(map(len, layers), dtype=np.int64, count=len(layers))
    pos = np.empty(size, dtype=np.int64)
    pos[nodes] = np.arange(size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pos


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


def count_layer_crossings(aug: LayeredGraph, pos) -> int:
    """Return the number of edge crossings between adjacent layers for the current order."""
    eu, ev = aug.edge_arrays()
    if len(eu) < 2:
        return 0
    at = np.asarray(pos, dtype=np.int64)
    placed = _edges_by_place(aug, at)
    if placed is not None:
        values, first = placed
        return _ordered_inversions(values, first)
    group = aug.layer_array()[eu]
    a, b = at[eu], at[ev]
    width = int(at.max()) + 1
    if (int(group.max()) + 1) * width * width < 2**62:  # one int64 key: layer, upper, lower place
        order = np.argsort((group * width + a) * width + b, kind="stable")
    else:
        order = np.lexsort((b, a, group))
    return _ordered_inversions(b[order], _segment_starts(group[order]))


def _edges_by_place(aug: LayeredGraph, at: np.ndarray):
    """Return (lower ends' places, first of each layer) of the edges sorted by upper end's
    layer, then its place, then the lower end's place; None when ``at`` is not one place
    per node of each layer (0, 1, ... in every layer).

    No sort of all the edges: the nodes are counted into their slots (layer by layer,
    place by place), each node's edges follow in the slots' order, and one stable sort of
    these nearly sorted keys puts a node's own few edges in order.
    """
    layer = aug.layer_array()
    widths = np.bincount(layer)
    layer_first = np.cumsum(widths) - widths
    if len(at) == 0 or at.min() < 0 or (at >= widths[layer]).any():
        return None
    slot = layer_first[layer] + at  # where the node comes in all layers in turn
    if np.bincount(slot, minlength=len(at)).max() > 1:  # two nodes in one place
        return None
    eu, ev = aug.edge_arrays()
    degree, rank_in_node = aug.down_degrees()
    degree_by_slot = np.zeros(len(at), dtype=np.int64)
    degree_by_slot[slot] = degree
    slot_first = np.cumsum(degree_by_slot) - degree_by_slot  # first sorted edge of each slot
    upper_slot = slot[eu]
    place = slot_first[upper_slot] + rank_in_node  # each edge's place, ties not yet broken
    key = np.empty(len(eu), dtype=np.int64)
    key[place] = upper_slot * (int(widths.max()) + 1) + at[ev]
    key.sort(kind="stable")  # sorted already but within each node's own edges
    values = key % (int(widths.max()) + 1)
    first = np.zeros(len(eu), dtype=bool)
    starts = slot_first[layer_first]
    first[starts[starts < len(eu)]] = True
    return values, first


def count_inversions(group, a, b) -> int:
    """Return how many pairs (i, j) in the same group have a_i < a_j and b_i > b_j.

    Pairs of straight segments between two lines, from ``a`` on one to ``b`` on
    the other, cross exactly when they form such a pair.
    """
    group = np.asarray(group)
    if len(group) < 2:
        return 0
    order = np.lexsort((b, a, group))
    values = np.unique(np.asarray(b)[order], return_inverse=True)[1].astype(np.int64)
    return _ordered_inversions(values.reshape(-1), _segment_starts(group[order]))


def _segment_starts(sorted_group: np.ndarray) -> np.ndarray:
    return np.r_[True, sorted_group[1:] != sorted_group[:-1]]


def _ordered_inversions(values: np.ndarray, first: np.ndarray) -> int:
    """Return how many pairs i < j of one segment have values[i] > values[j] (``values``:
    ints >= 0; ``first`` marks each segment's first item).

    Most significant bit first, all segments at once, O(n log max): two values first
    differ at one bit, where the larger has a 1. At each bit, count the 1s before each 0
    of its segment, then split every segment stably into its 0s and then its 1s: the
    segments for the next bit (items with the same higher bits, in their first order).
    """
    n = len(values)
    if n < 2:
        return 0
    total = 0
    values = values.astype(np.int32)  # half the memory traffic of int64 (places < 2**31)
    index = np.arange(n, dtype=np.int32)
    starts = np.flatnonzero(first).astype(np.int32)
    for k in reversed(range(int(values.max()).bit_length())):
        bit = (values >> k) & 1
        ones_upto = np.cumsum(bit, dtype=np.int32)  # 1s up to and including each item
        ends = np.append(starts[1:], np.int32(n))
        sizes = ends - starts
        ones_ahead = ones_upto[starts] - bit[starts]  # 1s before each segment
        ones = ones_upto[ends - 1] - ones_ahead  # 1s in each segment
        # pairs (1, then 0): the 1s before each item of its segment, summed over all items
        # (ones_upto - bit - ones_ahead of its segment), less the 1s' own 0 + ... + (ones - 1)
        ones64 = ones.astype(np.int64)
        total += int(ones_upto.sum(dtype=np.int64) - int(ones_upto[-1])
                     - (sizes.astype(np.int64) * ones_ahead).sum()
                     - (ones64 * (ones64 - 1) // 2).sum())
        if k == 0:
            break
        # a 0 moves back past the 1s before it, a 1 goes after its segment's 0s (to
        # ones_start, plus the 1s before it)
        ones_start = ends - ones
        shift = np.repeat(np.stack([ones_ahead, ones_start - ones_ahead - 1]), sizes, axis=1)
        place = np.where(bit == 1, ones_upto + shift[1], index - ones_upto + shift[0])
        split = np.empty_like(values)
        split[place] = values
        values = split
        # the next segments: every segment's 0s, then its 1s (where it has both)
        both = np.stack([starts, ones_start], axis=1).ravel()
        real = np.stack([np.ones(len(starts), dtype=bool), (ones > 0) & (ones < sizes)],
                        axis=1).ravel()
        starts = both[np.flatnonzero(real)]
    return total
