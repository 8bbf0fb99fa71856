"""The coordinates stage against plain versions of it: the same floats, bit for bit.

The faster code sums over half the nodes at a time and skips work the plain code
repeats; these references are that plain code (summing over every node of the graph,
every round), so any change in the order of the additions shows up here.
"""

import random

import numpy as np
import pytest

from gradstep.drawing import coordinates, samples
from gradstep.drawing.coordinates import _dummy_lines, _project, assign_coordinates
from gradstep.drawing.layering import LayeredGraph, assign_layers
from gradstep.drawing.ordering import initial_order, reduce_crossings


def reference_project(want, weight, offset, seg):
    target = want - offset
    n = len(target)
    start = np.arange(n)
    wt = weight * target
    for _ in range(coordinates._MAX_POOL_ROUNDS):
        mean = np.add.reduceat(wt, start) / np.add.reduceat(weight, start)
        same_layer = seg[start[1:]] == seg[start[:-1]]
        violated = (mean[:-1] > mean[1:] + 1e-9) & same_layer
        if not violated.any():
            break
        start = start[np.r_[True, ~violated]]
    mean = np.add.reduceat(wt, start) / np.add.reduceat(weight, start)
    return np.repeat(mean, np.diff(np.r_[start, n])) + offset


def reference_coordinates(aug, layers, breadth, n_real):
    """``assign_coordinates`` as first written: every sum over all nodes, every half."""
    seq = [v for layer in layers for v in layer]
    seq_arr = np.asarray(seq, dtype=np.int64)
    n = aug.size
    width = np.full(n, coordinates.DUMMY_WIDTH)
    width[:n_real] = breadth
    is_dummy = np.arange(n) >= n_real
    seg = np.asarray([aug.layer[v] for v in seq], dtype=np.int64)
    w_seq = width[seq_arr]
    gap = np.where(is_dummy[seq_arr][1:] | is_dummy[seq_arr][:-1], coordinates.DUMMY_GAP,
                   coordinates.NODE_GAP)
    sep = np.r_[0.0, (w_seq[1:] + w_seq[:-1]) / 2 + gap]
    first = np.r_[True, seg[1:] != seg[:-1]]
    sep[first] = 0.0
    offset = np.cumsum(sep)
    offset -= np.maximum.accumulate(np.where(first, offset, -np.inf))
    layer_len = np.bincount(seg)
    last_of = np.r_[np.flatnonzero(first)[1:] - 1, len(seq) - 1]
    x_seq = offset - np.repeat(offset[last_of] / 2, layer_len[layer_len > 0])
    eu, ev, ew = coordinates._coordinate_edges(aug, n_real)
    x = np.zeros(n)
    x[seq_arr] = x_seq
    if len(eu) == 0:
        return x
    dummy, top, bottom, frac = reference_dummy_lines(aug)
    halves = [seq_arr[seg % 2 == parity] for parity in (0, 1)]
    half_offsets = [offset[seg % 2 == parity] for parity in (0, 1)]
    half_segs = [seg[seg % 2 == parity] for parity in (0, 1)]
    for it in range(coordinates.COORD_ITERATIONS):
        for half, half_offset, half_seg in zip(halves, half_offsets, half_segs):
            if len(half) == 0:
                continue
            length = np.abs(x[eu] - x[ev])
            weight = (ew / np.maximum(length, coordinates._IRLS_DELTA)
                      if it >= coordinates._L2_ITERATIONS else ew)
            wsum = np.bincount(eu, weights=weight, minlength=n)
            wsum += np.bincount(ev, weights=weight, minlength=n)
            pull = np.bincount(eu, weights=weight * x[ev], minlength=n)
            pull += np.bincount(ev, weights=weight * x[eu], minlength=n)
            has = wsum > 0
            want = np.where(has, pull / np.where(has, wsum, 1.0), x)
            want[dummy] = x[top] + frac * (x[bottom] - x[top])
            node_weight = np.where(has, wsum, wsum[has].min() if has.any() else 1.0)
            x[half] = reference_project(want[half], node_weight[half], half_offset, half_seg)
    x -= x[:n_real].min() if n_real else 0.0
    return x


def reference_dummy_lines(aug):
    dummy, top, bottom, frac = [], [], [], []
    for chain in aug.chains:
        last = len(chain) - 1
        for j in range(1, last):
            dummy.append(chain[j])
            top.append(chain[0])
            bottom.append(chain[-1])
            frac.append(j / last)
    return (np.asarray(dummy, dtype=np.int64), np.asarray(top, dtype=np.int64),
            np.asarray(bottom, dtype=np.int64), np.asarray(frac, dtype=float))


def test_project_is_the_plain_pooling_bit_for_bit():
    rng = np.random.default_rng(7)
    for trial in range(300):
        sizes = rng.integers(1, 200, size=int(rng.integers(1, 30)))
        seg = np.repeat(np.arange(len(sizes)), sizes)
        n = len(seg)
        want = rng.normal(size=n) * 10 ** rng.uniform(0, 5)
        if trial % 3 == 0:
            want = np.round(want)  # ties
        if trial % 7 == 0:
            want[:] = want[0]  # every node wants the same place
        offset = np.concatenate([np.cumsum(rng.uniform(5, 100, size=s)) for s in sizes])
        weight = rng.choice([1.0, 2.0, 8.0, 0.37, 1e-3], size=n)
        got = _project(want, weight, offset, seg)
        assert np.array_equal(got, reference_project(want, weight, offset, seg))


def laid_out(graph):
    index = {n: i for i, n in enumerate(graph.nodes)}
    src = [index[u] for u, _ in graph.edges()]
    dst = [index[v] for _, v in graph.edges()]
    aug = LayeredGraph(assign_layers(len(index), src, dst), src, dst)
    return aug, reduce_crossings(aug, initial_order(aug, len(index))), len(index)


@pytest.mark.parametrize("seed", range(6))
def test_coordinates_are_the_plain_ones_bit_for_bit(seed):
    rng = random.Random(seed)
    graph = samples.layered_dag(rng.choice([2, 30, 400, 1500]), width=rng.choice([1, 4, 40]),
                                seed=seed, reach=rng.choice([0, 3, 12]))
    graph.add_node("alone")  # a node without edges: the least weight of the others
    aug, layers, n_real = laid_out(graph)
    breadth = [rng.uniform(20, 140) for _ in range(n_real)]
    got = assign_coordinates(aug, layers, breadth, n_real)
    assert np.array_equal(got, reference_coordinates(aug, layers, breadth, n_real))
    for mine, plain in zip(_dummy_lines(aug), reference_dummy_lines(aug)):
        assert mine.dtype == plain.dtype and np.array_equal(mine, plain)
