"""BoxIndex: the boxes meeting a rectangle by binary search are the ones a scan of every box
finds, in the same order."""

import numpy as np
import pytest

from gradstep.drawing.box_index import BoxIndex


def scan(lo, hi, x0, y0, x1, y1):
    return np.flatnonzero((hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1))


def layered_boxes(rng, count):
    """Boxes in layers, as a layout places them: wide rows, short columns."""
    centres = np.column_stack([rng.uniform(0, 80_000, count), rng.integers(0, 400, count) * 110.0])
    half = np.column_stack([rng.uniform(20, 150, count), rng.uniform(10, 30, count)])
    return centres - half, centres + half


@pytest.mark.parametrize("seed", range(4))
def test_same_boxes_as_the_scan(seed):
    rng = np.random.default_rng(seed)
    lo, hi = layered_boxes(rng, 5_000)
    index = BoxIndex(lo, hi)
    for _ in range(200):
        x0, y0 = rng.uniform(-1_000, 81_000), rng.uniform(-1_000, 45_000)
        w, h = rng.choice([1.0, 50.0, 470.0, 2_000.0, 100_000.0]), rng.choice([1.0, 660.0, 50_000.0])
        want = scan(lo, hi, x0, y0, x0 + w, y0 + h)
        got = index.meeting(x0, y0, x0 + w, y0 + h)
        assert got.tolist() == want.tolist()


def test_edges_touching_count_and_boxes_on_a_corner_are_found():
    lo = np.array([[0.0, 0.0], [10.0, 10.0], [20.0, 0.0]])
    hi = np.array([[10.0, 10.0], [20.0, 20.0], [30.0, 5.0]])
    index = BoxIndex(lo, hi)
    for rect in ((10, 10, 10, 10), (20, 5, 25, 9), (-5, -5, -1, -1), (30, 5, 40, 40)):
        assert index.meeting(*rect).tolist() == scan(lo, hi, *rect).tolist()


def test_nan_and_infinite_corners_fall_back_to_the_scan():
    rng = np.random.default_rng(7)
    lo, hi = layered_boxes(rng, 500)
    lo[3] = np.nan
    hi[8, 0] = np.inf
    index = BoxIndex(lo, hi)
    for x0 in (0.0, 40_000.0, 79_000.0):
        rect = (x0, 100.0, x0 + 500.0, 800.0)
        assert index.meeting(*rect).tolist() == scan(lo, hi, *rect).tolist()


def test_no_boxes():
    index = BoxIndex(np.zeros((0, 2)), np.zeros((0, 2)))
    assert index.meeting(0.0, 0.0, 10.0, 10.0).tolist() == []


def test_a_box_that_only_touches_the_rectangle_is_found_when_its_width_rounds_down():
    """``hi - lo`` rounds down for a box from just below 0 to 1: the run must still start
    at that box (the review's case)."""
    lo = np.array([[-1e-17, 0.0]] + [[100.0 + i, 100.0] for i in range(5)])
    hi = np.array([[1.0, 1.0]] + [[100.5 + i, 100.5] for i in range(5)])
    assert BoxIndex(lo, hi).meeting(1.0, 0.0, 2.0, 0.5).tolist() == [0]


def test_corners_are_kept_as_four_contiguous_rows_in_each_order():
    # a run of boxes is then four slices: gathering rows of (x, y) pairs and reading their
    # columns strided cost ~4x as much for a pan's strip of a 100,000-node graph
    from gradstep.drawing.edge_pieces import EdgePieces

    rng = np.random.default_rng(7)
    lo, hi = layered_boxes(rng, 300)
    index = BoxIndex(lo, hi)
    corners = np.concatenate([lo, hi], axis=1)
    for axis, order in enumerate(index._order):
        rows = index._sorted[axis]
        assert rows.flags.c_contiguous and (rows == corners[order].T).all()
    assert index._corners.flags.c_contiguous and (index._corners == corners.T).all()
    pieces = EdgePieces({("a", "b", 0): [(0.0, 0.0), (5.0, 40.0), (9.0, 80.0)],
                         ("b", "c", 0): [(3.0, 80.0), (1.0, 120.0)]})
    for rows in (pieces._boxes, pieces._corners):
        assert rows.shape == (4, len(pieces)) and rows.flags.c_contiguous
    assert (pieces._corners == np.concatenate([pieces.lo, pieces.hi], axis=1).T).all()
    assert pieces.in_rect(0, 0, 10, 10).tolist() == [0]


def test_a_rectangle_around_every_box_gives_them_all_without_a_scan(monkeypatch):
    rng = np.random.default_rng(11)
    lo, hi = layered_boxes(rng, 2_000)
    index = BoxIndex(lo, hi)
    x0, y0, x1, y1 = lo[:, 0].min(), lo[:, 1].min(), hi[:, 0].max(), hi[:, 1].max()
    scanned = []
    real = np.flatnonzero
    monkeypatch.setattr(np, "flatnonzero", lambda a: scanned.append(1) or real(a))
    got = index.meeting(x0 - 1, y0 - 1, x1 + 1, y1 + 1)  # the whole graph in view
    assert got.tolist() == list(range(2_000)) and not scanned
    for rect in ((x0 + 1, y0 - 1, x1 + 1, y1 + 1), (x0, y0, x1 - 300, y1)):  # not all: as before
        assert index.meeting(*rect).tolist() == scan(lo, hi, *rect).tolist()
    lo[5, 1] = np.nan  # a corner not a number: the scan's answer (it leaves that box out)
    index = BoxIndex(lo, hi)
    rect = (x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    assert index.meeting(*rect).tolist() == scan(lo, hi, *rect).tolist() != list(range(2_000))
    assert (index.corners == np.concatenate([lo, hi], axis=1).T).sum() == 4 * 2_000 - 1


@pytest.mark.parametrize("seed", range(3))
def test_meet_any_says_what_the_scan_says_for_each_rectangle(seed):
    """In bulk (chunks of a few, so several chunks), touching edges included."""
    rng = np.random.default_rng(seed)
    lo, hi = layered_boxes(rng, 3_000)
    index = BoxIndex(lo, hi)
    x0, y0 = rng.uniform(-1_000, 81_000, 500), rng.uniform(-1_000, 45_000, 500)
    w, h = rng.choice([1.0, 50.0, 470.0, 2_000.0], 500), rng.choice([1.0, 14.0, 660.0], 500)
    rects = np.column_stack([x0, y0, x0 + w, y0 + h])
    rects[:3] = [[*lo[0], *lo[0]], [*hi[1], *hi[1] + 5], [-9e9, -9e9, -8e9, -8e9]]  # (touch, none)
    want = [len(scan(lo, hi, *r)) > 0 for r in rects]
    assert index.meet_any(rects, chunk=64).tolist() == want
    assert 0 < sum(want) < len(want)
    assert BoxIndex(lo[:0], hi[:0]).meet_any(rects).tolist() == [False] * len(rects)


def test_meets_says_whether_meeting_finds_any():
    rng = np.random.default_rng(5)
    lo, hi = layered_boxes(rng, 3_000)
    index = BoxIndex(lo, hi)
    found = []
    for _ in range(400):
        x0, y0 = rng.uniform(-1_000, 81_000), rng.uniform(-1_000, 45_000)
        w, h = rng.choice([1.0, 50.0, 470.0, 100_000.0]), rng.choice([1.0, 14.0, 660.0])
        found.append(index.meets(x0, y0, x0 + w, y0 + h))
        assert found[-1] == (len(scan(lo, hi, x0, y0, x0 + w, y0 + h)) > 0)
    assert any(found) and not all(found)
    for rect in ((*lo[0], *lo[0]), (*hi[1], *hi[1] + 5)):  # a corner touched: met
        assert index.meets(*rect)
    assert not BoxIndex(lo[:0], hi[:0]).meets(0, 0, 1, 1)
