"""Coordinates of a layered drawing (pure, numpy): where each node sits along its layer.

Each node is pulled towards its neighbours, weighted as dot weighs edges and
reweighted towards dot's sum of |x_u - x_v| (iteratively reweighted least
squares: short edges pull hardest, so chains stay straight); bend points go on
the straight line between their edge's ends; then every layer is projected back
to its order without overlaps (a vectorised isotonic regression). Even and odd
layers update in turn.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from gradstep.drawing.layering import LayeredGraph

NODE_GAP = 18.0  # between two boxes of one layer
DUMMY_GAP = 8.0  # between a long edge's bend point and its neighbours
DUMMY_WIDTH = 4.0
RANK_GAP = 36.0  # between two layers
RANK_GAP_LR = 150.0  # between two layers drawn left to right: room for a 4-number gradient
COORD_ITERATIONS = 40
_EDGE_WEIGHT = (1.0, 2.0, 8.0)  # real-real, real-dummy, dummy-dummy (as dot weighs them)
_MAX_POOL_ROUNDS = 60
_L2_ITERATIONS = 10  # plain least squares first, to spread things out
_IRLS_DELTA = 2.0  # edges shorter than this count as straight


def assign_coordinates(aug: LayeredGraph, layers: list, breadth: list, n_real: int) -> np.ndarray:
    """Return the coordinate along the layers (x for TB) of every augmented node.

    Nodes move towards the weighted mean of their neighbours, then each layer is
    projected back to its order with no overlap (mean of a left and a right
    push, which keeps it centred); vectorised over all layers.
    """
    seq_arr = np.fromiter(chain.from_iterable(layers), dtype=np.int64,
                          count=sum(map(len, layers)))
    n = aug.size
    width = np.full(n, DUMMY_WIDTH)
    width[:n_real] = breadth
    is_dummy = np.arange(n) >= n_real
    seg = aug.layer_array()[seq_arr]
    w_seq = width[seq_arr]
    gap = np.where(is_dummy[seq_arr][1:] | is_dummy[seq_arr][:-1], DUMMY_GAP, NODE_GAP)
    sep = np.r_[0.0, (w_seq[1:] + w_seq[:-1]) / 2 + gap]
    first = np.r_[True, seg[1:] != seg[:-1]]
    sep[first] = 0.0
    offset = np.cumsum(sep)
    offset -= np.maximum.accumulate(np.where(first, offset, -np.inf))  # restart per layer
    layer_len = np.bincount(seg)  # per layer count, used to centre
    last_of = np.r_[np.flatnonzero(first)[1:] - 1, len(seq_arr) - 1]
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
    # Every edge has one end in each half: its weight adds to that end's sums only.
    upper_parity = aug.layer_array()[eu] % 2
    by_parity = np.argsort(upper_parity, kind="stable")  # keeps each node's edges in order
    eu, ev, ew = eu[by_parity], ev[by_parity], ew[by_parity]
    split = int(np.count_nonzero(upper_parity == 0))
    halves = [_Half(seq_arr[seg % 2 == parity], offset[seg % 2 == parity],
                    seg[seg % 2 == parity], eu, ev, split, parity, (dummy, top, bottom, frac), n)
              for parity in (0, 1)]
    for it in range(COORD_ITERATIONS):
        for half in halves:
            if len(half.nodes) == 0:
                continue
            # Iteratively reweighted least squares towards sum w|x_u - x_v| (as dot
            # minimises): an edge that is already short pulls hardest, so chains
            # stay vertical instead of drifting towards their side branches.
            x_up, x_low = x[eu], x[ev]
            weight = ew / np.maximum(np.abs(x_up - x_low), _IRLS_DELTA) if it >= _L2_ITERATIONS else ew
            wsum, want = half.pulled(x, x_up, x_low, weight)
            node_weight = wsum if (wsum > 0).all() else _node_weight(wsum, eu, ev, weight, n)
            x[half.nodes] = _project(want, node_weight, half.offset, half.seg)
    x -= x[:n_real].min() if n_real else 0.0
    return x


class _Half:
    """The even or the odd layers of ``assign_coordinates``: their nodes (layer by layer,
    in order), and the edges as seen from them.

    The edges come sorted by their upper end's layer parity, even first (``split`` of
    them); an edge of this half's upper end is one of its lower end's in the other half.
    """

    def __init__(self, nodes, offset, seg, eu, ev, split, parity, dummy_lines, n):
        self.nodes, self.offset, self.seg = nodes, offset, seg
        local = np.zeros(n, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        self.below = slice(0, split) if parity == 0 else slice(split, len(eu))  # upper end here
        self.above = slice(split, len(eu)) if parity == 0 else slice(0, split)  # lower end here
        self.upper_local, self.lower_local = local[eu[self.below]], local[ev[self.above]]
        dummy, top, bottom, frac = dummy_lines
        mine = np.zeros(n, dtype=bool)
        mine[nodes] = True
        here = mine[dummy]
        self.dummy, self.top, self.bottom, self.frac = (local[dummy[here]], top[here],
                                                        bottom[here], frac[here])

    def pulled(self, x, x_up, x_low, weight):
        """Return (summed edge weight, wanted position) of this half's nodes: each node at
        the weighted mean of its neighbours (where it has any), a bend point on the line
        between its edge's ends.

        The same floats as summing over every node of the graph: a node's edges are
        added in the same order, those from below after those from above.
        """
        h = len(self.nodes)
        below, above = weight[self.below], weight[self.above]
        # (not +=: an empty bincount is of ints)
        wsum = (np.bincount(self.upper_local, weights=below, minlength=h)
                + np.bincount(self.lower_local, weights=above, minlength=h))
        pull = (np.bincount(self.upper_local, weights=below * x_low[self.below], minlength=h)
                + np.bincount(self.lower_local, weights=above * x_up[self.above], minlength=h))
        has = wsum > 0
        want = np.where(has, pull / np.where(has, wsum, 1.0), x[self.nodes])
        # a long edge's bend points go straight onto the line between its ends
        want[self.dummy] = x[self.top] + self.frac * (x[self.bottom] - x[self.top])
        return wsum, want


def _node_weight(wsum, eu, ev, weight, n):
    """Return ``wsum`` with nodes that have no edge given the least weight of any node in
    the graph that has one (1 when none has)."""
    every = np.bincount(eu, weights=weight, minlength=n)
    every += np.bincount(ev, weights=weight, minlength=n)
    has = every > 0
    return np.where(wsum > 0, wsum, every[has].min() if has.any() else 1.0)


def _dummy_lines(aug: LayeredGraph):
    """Return (dummy, top end, bottom end, fraction of the way down) arrays of all bend points,
    chain by chain from the top."""
    lengths, flat = aug.chain_arrays()
    firsts = np.cumsum(lengths) - lengths
    step = np.arange(len(flat)) - np.repeat(firsts, lengths)  # j: place in its chain
    last = np.repeat(lengths - 1, lengths)
    inner = np.flatnonzero((step > 0) & (step < last))
    top = np.repeat(flat[firsts], lengths)[inner]
    bottom = np.repeat(flat[firsts + lengths - 1], lengths)[inner]
    return flat[inner], top, bottom, step[inner] / last[inner]  # j / last, as floats


def _coordinate_edges(aug: LayeredGraph, n_real: int):
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
    decreasing run is what sequential pooling would do). Each round sums the merged
    blocks' nodes afresh (summing the parts would change the last bits).
    """
    n = len(want)
    # one reduceat sums both rows (half the calls' overhead): weight * (want - offset), and
    # weight, written into one array (not made apart and stacked: ~1.5 ms less a call)
    both = np.empty((2, n))
    wt = np.subtract(want, offset, out=both[0])
    wt *= weight  # (want - offset) * weight: the same double as weight * (want - offset)
    both[1] = weight
    start = np.arange(n)
    block_seg = seg  # each block's layer
    mean = wt / weight  # the blocks start as single nodes: their sums are the nodes' own
    for _ in range(_MAX_POOL_ROUNDS):
        violated = (mean[:-1] > mean[1:] + 1e-9) & (block_seg[1:] == block_seg[:-1])
        if not violated.any():
            break
        keep = np.flatnonzero(np.concatenate(([True], ~violated)))  # (faster than a mask)
        start, block_seg = start[keep], block_seg[keep]
        sums = np.add.reduceat(both, start, axis=1)
        mean = sums[0] / sums[1]
    return np.repeat(mean, np.diff(np.r_[start, n])) + offset


def rank_positions(ranks: list, depth: list, gap: float = RANK_GAP) -> list:
    """Return the centre coordinate of each layer across the layers (y for TB), ``gap``
    apart."""
    nlayers = max(ranks) + 1
    thick = [0.0] * nlayers
    for v, r in enumerate(ranks):
        thick[r] = max(thick[r], depth[v])
    pos, at = [], 0.0
    for i, t in enumerate(thick):
        if i:
            at += thick[i - 1] / 2 + gap + t / 2
        else:
            at = t / 2
        pos.append(at)
    return pos
