"""Edge pieces (pure numpy): a view's parts are the ones cutting every piece whole gives."""

import numpy as np
import pytest

from gradstep.drawing import samples
from gradstep.drawing.edge_pieces import PAD, SPLIT_PX, EdgePieces
from gradstep.drawing.layout import layout


def every_part_then_kept(start, control, end, curve, move, near, per_part):
    """Cut each piece into all its parts, then keep those whose padded box meets ``near``:
    what ``edge_pieces._cut`` did before it made only the parts that can meet it."""
    extent = np.maximum(np.abs(end - start).max(axis=1), np.abs(control - start).max(axis=1))
    parts = np.clip(np.ceil(extent * per_part), 1, 4096).astype(np.int64)
    piece = np.repeat(np.arange(len(parts)), parts)
    k = np.arange(len(piece)) - (np.cumsum(parts) - parts)[piece]
    a, b = (k / parts[piece])[:, None], ((k + 1) / parts[piece])[:, None]
    p0, c, p1 = start[piece], control[piece], end[piece]

    def at(t):
        return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t ** 2 * p1

    s = np.where(a == 0.0, p0, at(a))
    e = np.where(b == 1.0, p1, at(b))
    blossom = (1 - a) * (1 - b) * p0 + ((1 - a) * b + a * (1 - b)) * c + a * b * p1
    mid = np.where(curve[piece][:, None], blossom, s)
    corners = np.stack([s, mid, e], axis=1)
    lo, hi = corners.min(axis=1) - PAD, corners.max(axis=1) + PAD
    x0, y0, x1, y1 = near
    keep = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
    new_run = np.where(k == 0, move[piece], False)
    new_run[1:] |= ~keep[:-1]
    new_run = new_run[keep]
    new_run[:1] = True
    return s[keep], mid[keep], e[keep], curve[piece][keep], new_run, piece[keep]


def cut_as_every_part(pieces, shown, near, scale):
    """Return ``pieces.cut(shown, near, scale)``, asserting it is, array for array, what
    cutting every piece whole and keeping the parts that meet ``near`` gives."""
    split = min(SPLIT_PX, max(32.0, max(near[2] - near[0], near[3] - near[1]) * scale / 2))
    move = np.ones(len(shown), bool)
    move[1:] = (np.diff(shown) != 1) | (pieces.edge[shown[1:]] != pieces.edge[shown[:-1]])
    want = every_part_then_kept(pieces.start[shown], pieces.control[shown], pieces.end[shown],
                                pieces.curve[shown], move, near, scale / split)
    got = pieces.cut(shown, near, scale)
    for got_array, want_array in zip(got, want):
        assert np.array_equal(got_array, want_array)
    return got


@pytest.mark.parametrize("graph, direction, long_edges", [
    (samples.layered_dag(3000, width=60, seed=5), "TB", True),
    (samples.layered_dag(2000, width=40, seed=1), "LR", True),
    (samples.chain(300), "TB", False),
])
def test_the_parts_cut_for_a_view_are_those_of_cutting_every_piece_whole(graph, direction,
                                                                         long_edges):
    pieces = EdgePieces(layout(graph, rankdir=direction).routes)
    rng = np.random.default_rng(0)
    x_max, y_max = pieces.hi.max(axis=0)
    cut_somewhere = 0
    for _ in range(120):
        x0, y0 = rng.uniform(-200, x_max), rng.uniform(-200, y_max)
        near = (x0, y0, x0 + rng.uniform(5, 3000), y0 + rng.uniform(5, 3000))
        scale = float(rng.choice([0.15, 0.3, 1.0, 2.0, 4.0]))
        shown = pieces.in_rect(*near)
        if len(shown) == 0:
            continue
        got = cut_as_every_part(pieces, shown, near, scale)
        cut_somewhere += len(got.start) != len(shown)
    assert (cut_somewhere > 10) == long_edges  # the premise: views of a DAG cut long pieces


def test_a_run_starts_again_after_a_piece_none_of_whose_parts_were_made():
    """A line through the view, then an edge (from the random DAG) whose first bend in the
    view makes no part at all and whose next bend's first part is kept: that part starts a
    new run (a move), it does not join the line's last part (found by comparing views of
    the 80,853-node DAG with cutting every piece whole)."""
    route = [(46830.46, 23682.28), (43590.0, 23769.01), (43975.28, 23858.3),
             (42021.31, 23947.59), (39477.24, 24036.88), (37506.71, 24126.17),
             (35860.33, 24215.46), (35972.3, 24275.18)]
    pieces = EdgePieces({("c", "d", 0): [(40000.0, 23500.0), (45000.0, 23600.0)],
                         ("a", "b", 0): route})
    near, scale = (41237.5, 22968.6, 43595.9, 24215.5), 0.3
    shown = pieces.in_rect(*near)
    got = cut_as_every_part(pieces, shown, near, scale)
    assert not got.move.all()  # runs do continue elsewhere: the test is about this one


def test_a_piece_with_a_point_not_finite_leaves_the_others_found():
    routes = {(0, 1, 0): [(0.0, 0.0), (0.0, 100.0)], (1, 2, 0): [(10.0, 0.0), (10.0, 100.0)],
              (2, 3, 0): [(float("nan"), 0.0), (20.0, 100.0)],
              (3, 4, 0): [(float("inf"), 0.0), (30.0, 100.0)]}
    with np.errstate(invalid="ignore"):  # the arrowhead of a route through NaN
        pieces = EdgePieces(routes)
    lo, hi = pieces.lo, pieces.hi
    scan = np.flatnonzero((hi[:, 0] >= -5) & (lo[:, 0] <= 15) & (hi[:, 1] >= -5) & (lo[:, 1] <= 50))
    assert pieces.in_rect(-5, -5, 15, 50).tolist() == scan.tolist() == [0, 1]


@pytest.mark.parametrize("transform", [(1e8, 1e8, 0.0, 0.0), (-3e9, 2e9, 5e9, -5e9),
                                       (0.01, 0.01, -2.0**40, 2.0**40), (0.5, 0.5, 32767.5, -32768.5)])
def test_far_out_chords_past_the_int32_range_are_held_at_the_packing_edge(transform):
    # chord ends are rounded into int32 only once held to +-(2**15 - 1): a coordinate times
    # the scale (plus the shift) past 2**31 must not wrap round to the other side
    pieces = EdgePieces({("a", "b", 0): [(-40.0, -3.0), (25.0, 60.0), (70.0, 130.0)],
                         ("b", "c", 0): [(3.0, 8.0), (-1.0, 120.0)]})
    table, first, count = pieces._chord_table()
    sx, sy, dx, dy = transform
    scaled = table * np.array([[sx], [sy], [sx], [sy]]) + np.array([[dx], [dy], [dx], [dy]])
    expected = np.clip(np.rint(scaled), -2**15 + 1, 2**15 - 1)
    for shown in (np.arange(len(pieces)), np.array([1])):
        ends = pieces.chord_ends(shown, transform)
        columns = np.concatenate([np.arange(first[i], first[i] + count[i]) for i in shown])
        assert ends.dtype == np.int32 and (ends == expected[:, columns]).all()


@pytest.mark.parametrize("transform", [(0.005, 0.005, 10.0, 223.0), (0.013, 0.02, -7.5, 3.25),
                                       (-0.01, 0.01, 900.0, 0.5), (3.0, 3.0, 0.0, 0.0),
                                       (1e8, 1e8, 0.0, 0.0)])
def test_the_box_around_every_chord_and_every_piece_scaled_row_by_row(transform):
    """``chord_box`` is the least and greatest of every chord's ends as ``chord_ends`` gives
    them (None where they would be held at the packing edge), read from four numbers; every
    piece's chords scaled row by row equal the whole table scaled, shifted and rounded."""
    routes = {(f"n{i}", f"n{i + 1}", 0): [(i * 37.0 % 500, i * 90.0), (i * 53.0 % 700, i * 90.0 + 45),
                                                 (i * 11.0 % 300, i * 90.0 + 90)]
              for i in range(60)}
    routes[("a", "b", 0)] = [(-250.5, 3.0), (1200.25, 6000.0)]
    pieces = EdgePieces(routes)
    table, first, count = pieces._chord_table()
    sx, sy, dx, dy = transform
    scaled = table * np.array([[sx], [sy], [sx], [sy]]) + np.array([[dx], [dy], [dx], [dy]])
    expected = np.rint(np.clip(scaled, -2**15 + 1, 2**15 - 1))
    every = pieces.chord_ends(np.arange(len(pieces)), transform)
    assert every.dtype == np.int32 and (every == expected).all()
    box = pieces.chord_box(transform)
    if (np.abs(scaled) > 2**15 - 1).any():
        assert box is None
    else:
        x, y = every[[0, 2]], every[[1, 3]]
        assert box == (x.min(), y.min(), x.max(), y.max())
    scan = pieces.in_rect(-1e9, -1e9, 1e9, 1e9)  # around every piece: all, in order
    assert scan.tolist() == list(range(len(pieces)))


@pytest.mark.parametrize("part", [1, 7, 64, 10**9])
def test_the_chord_table_made_in_parts_is_every_piece_s_chords_made_one_by_one(monkeypatch, part):
    """``far_step`` makes the far-out chord table ``part`` pieces a step (a window calls it
    between frames), then its bounds: each piece's columns are its chords as its own points
    give them (a line's ends; a curve's start to its halfway point ``(s + 2c + e) / 4``,
    then to its end), bit for bit, and the bounds are the table's; a paint that comes half
    way finishes it with the same numbers (the parts made stay made)."""
    from gradstep.drawing import edge_pieces

    monkeypatch.setattr(edge_pieces, "CHORD_PART", part)
    routes = layout(samples.layered_dag(300, width=20, seed=3)).routes
    pieces, painted = EdgePieces(routes), EdgePieces(routes)
    steps = 0
    while not pieces.far_step():
        steps += 1
    assert steps == -(-len(pieces) // part) and pieces.far_step()  # a step a part, then done
    table, first, count = pieces._chord_table()
    want = []
    for i in range(len(pieces)):
        s, c, e = pieces.start[i], pieces.control[i], pieces.end[i]
        if pieces.curve[i]:
            middle = (s + 2 * c + e) / 4
            want += [[*s, *middle], [*middle, *e]]
        else:
            want.append([*s, *e])
    assert table.shape == (4, len(want)) and table.tobytes() == np.array(want).T.tobytes()
    assert (count == np.where(pieces.curve, 2, 1)).all() and (first == np.cumsum(count) - count).all()
    x, y = table[[0, 2]], table[[1, 3]]
    assert pieces._chord_range.tolist() == [[x.min(), x.max()], [y.min(), y.max()]]
    transform = (0.01, 0.012, 5.0, 7.0)
    for _ in range(3):  # a frame far out before the steps are done
        painted.far_step()
    every = np.arange(len(pieces))
    assert painted.chord_box(transform) == pieces.chord_box(transform) is not None
    assert (painted.chord_ends(every, transform) == pieces.chord_ends(every, transform)).all()
    assert painted._chord_table()[0].tobytes() == table.tobytes() and painted.far_step()
