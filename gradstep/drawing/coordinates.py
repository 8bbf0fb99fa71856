"""Coordinates of a layered drawing (pure, numpy): where each node sits along its layer.

Each node is pulled towards its neighbours, weighted as dot weighs edges and
reweighted towards dot's sum of |x_u - x_v| (iteratively reweighted least
squares: short edges pull hardest, so chains stay straight); bend points go on
the straight line between their edge's ends; then every layer is projected back
to its order without overlaps (a vectorised isotonic regression). Even and odd
layers update in turn.
"""

from __future__ import annotations

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


def _dummy_lines(aug: LayeredGraph):
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
