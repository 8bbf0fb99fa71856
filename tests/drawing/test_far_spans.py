"""Far-out chords set as pixels in numpy: the pixels Qt's one-pixel pen sets for them."""

import numpy as np
import pytest

pytest.importorskip("PySide6")
from PySide6 import QtCore, QtGui  # noqa: E402

from gradstep.drawing import far_spans, qt_paint  # noqa: E402

SIZE = 160


def painted(lines: np.ndarray, clip=None, mask=None, corner=(0, 0)) -> np.ndarray:
    """Return the pixels set by Qt drawing ``lines`` (and ``mask`` at ``corner``)."""
    image = QtGui.QImage(SIZE, SIZE, QtGui.QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QtGui.QPainter(image)
    if clip is not None:
        painter.setClipRect(QtCore.QRect(clip[0], clip[1], clip[2] - clip[0], clip[3] - clip[1]))
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
    painter.setPen(QtGui.QPen(QtGui.QColor("#7f7f7f"), 0))
    qt_paint.draw_lines(painter, lines)
    painter.end()
    out = np.frombuffer(image.constBits(), np.uint32, SIZE * SIZE).reshape(SIZE, SIZE) != 0
    if mask is not None:
        x0, y0 = corner
        out = out.copy()
        out[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1]] |= mask
    return out


def chords() -> np.ndarray:
    """Every kind of chord: flat and upright ones, steps of one pixel of every length up to
    past SPAN_PX in all eight directions, longer and steeper ones, and ones out of view."""
    rng = np.random.default_rng(3)
    rows = []
    for length in range(0, far_spans.SPAN_PX + 12):
        for sx in (-1, 1):
            for sy in (-1, 0, 1):
                for along, across in ((length, 1), (1, length), (length, 0), (0, length)):
                    x0, y0 = rng.integers(-10, SIZE + 10, 2)
                    rows.append([x0, y0, x0 + sx * along, y0 + sy * across])
    rows += rng.integers(-40, SIZE + 40, (400, 4)).tolist()  # any slope, in and out of view
    rows += [[-30000, 50, 30000, 50], [70, -30000, 70, 30000], [5, 5, 5, 5], [-3, 9, 4, 10]]
    return np.array(rows, float)


def columns(lines: np.ndarray) -> np.ndarray:
    """Return chords given as rows ``[x0, y0, x1, y1]`` as ``EdgePieces.chord_ends`` gives
    them: four rows of int32."""
    return np.ascontiguousarray(lines.T).astype(np.int32)


@pytest.mark.parametrize("clip", [None, (23, 31, 117, 96)])
def test_chords_set_in_numpy_are_the_pixels_qt_sets_for_them(qtbot, monkeypatch, clip):
    monkeypatch.setattr(far_spans, "worth_it", lambda *counts: True)  # each chord it can set
    lines = chords()
    box = clip or (0, 0, SIZE, SIZE)
    mask, (x, y), rest = far_spans.chord_pixels(columns(lines), box)
    assert box[0] <= x and x + mask.shape[1] <= box[2] and box[1] <= y and y + mask.shape[0] <= box[3]
    assert rest.shape[0] == 4 and rest.shape[1] < len(lines) / 2  # most are set in numpy
    qt_alone = painted(lines, clip)
    assert qt_alone.sum() > 5000
    assert (painted(rest.T, clip, mask, (x, y)) == qt_alone).all()


def test_a_few_chords_are_all_left_to_qt():
    lines = np.array([[10, 10, 20, 10]] * (far_spans.FEW - 1), float)
    mask, _, rest = far_spans.chord_pixels(columns(lines), (0, 0, SIZE, SIZE))
    assert not mask.any() and rest.shape[1] == len(lines)


def test_a_step_longer_than_span_px_or_leaving_the_clip_is_left_to_qt():
    lines = np.array([[10, 10, 10 + far_spans.SPAN_PX + 1, 11],  # too long a step
                      [10, 10, 10 + far_spans.SPAN_PX, 11],  # set in numpy
                      [-2, 10, 5, 11],  # a step that leaves the clip
                      [-2, 10, 5, 10]] + [[0, 0, 0, 0]] * far_spans.FEW, float)  # flat: cut
    _, _, rest = far_spans.chord_pixels(columns(lines), (0, 0, SIZE, SIZE))  # at the clip
    assert rest.T.tolist() == [lines[0].tolist(), lines[2].tolist()]


def test_chords_spread_wide_or_among_many_others_are_left_to_qt():
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 3800, 3000), rng.integers(0, 2100, 3000)
    spread = np.stack([x, y, x + 3, y], 1).astype(float)  # flat ones over a whole 4K screen
    among = np.concatenate([spread // 20, np.stack([x, y, x + 60, y + 100], 1) // 20])  # half
    steep = np.concatenate([among, [[0, 0, 9, 9]]])  # fewer than half flat
    for lines in (spread, steep):
        mask, _, rest = far_spans.chord_pixels(columns(lines), (0, 0, 3840, 2160))
        assert mask.size == 0 and rest.shape[1] == len(lines)  # no mask built over the area
    mask, _, rest = far_spans.chord_pixels(columns(among), (0, 0, 3840, 2160))  # close, half
    assert mask.any() and rest.shape[1] <= len(among) / 2
    assert not far_spans.worth_it(far_spans.FEW - 1, far_spans.FEW, 100)
    assert far_spans.worth_it(3000, 6000, 3000 * far_spans.AREA_PER_CHORD)
    assert not far_spans.worth_it(3000, 6001, 3000)
    assert not far_spans.worth_it(3000, 3000, 3000 * far_spans.AREA_PER_CHORD + 1)


@pytest.mark.parametrize("runs", [3, 3000])  # few runs (set pixel by pixel), many over each other
def test_runs_set_the_pixels_of_each_run(runs):
    rng = np.random.default_rng(runs)
    line, first = rng.integers(0, 20, runs), rng.integers(0, 50, runs)
    last = np.minimum(first + rng.integers(0, 30, runs), 59)
    expected = np.zeros((20, 60), bool)
    for at, start, end in zip(line, first, last):
        expected[at, start:end + 1] = True
    assert (far_spans._runs([(line, first, last)], (0, 0), (20, 60)) == expected).all()
    # runs given as groups, one of single pixels (its first is its last), from a corner
    half = runs // 2 + 1
    dots = (line[:half] + 7, first[:half] + 3, first[:half] + 3)
    dots = (dots[0], dots[1], dots[1])
    expected = np.zeros((30, 70), bool)
    for at, start, end in zip(line, first, last):
        expected[at + 7, start + 3:end + 4] = True
    expected[line[:half] + 7, first[:half] + 3] = True
    got = far_spans._runs([(line + 7, first + 3, last + 3), dots], (0, 0), (30, 70))
    assert (got == expected).all()
    got = far_spans._runs([(line + 7, first + 3, last + 3), dots], (7, 3), (23, 67))
    assert (got == expected[7:, 3:]).all()


def test_chords_known_to_lie_in_the_clip_are_set_as_when_cut_to_it():
    """``inside`` (a whole graph in view: every chord's ends in the clip) leaves out the
    cutting and the quick first count, and gives the same mask, corner and rest."""
    rng = np.random.default_rng(9)
    for _ in range(40):
        n = int(rng.integers(100, 6000))
        x0, y0 = rng.integers(70, 90, n), rng.integers(70, 90, n)
        along, across = rng.integers(-66, 67, n), rng.choice([-2, -1, 0, 1, 2], n)
        rows = rng.random(n) < 0.8  # mostly along rows, some along columns
        x1, y1 = np.where(rows, x0 + along, x0 + across), np.where(rows, y0 + across, y0 + along)
        ends = np.array([x0, y0, x1, y1]).astype(np.int32)
        clip = (0, 0, SIZE, SIZE)
        for forced in (False, True):
            with pytest.MonkeyPatch.context() as patch:
                if forced:
                    patch.setattr(far_spans, "worth_it", lambda *counts: True)
                mask, corner, rest = far_spans.chord_pixels(ends, clip)
                got = far_spans.chord_pixels(ends, clip, inside=True)
            assert got[1] == corner and got[0].shape == mask.shape and (got[0] == mask).all()
            assert got[2].shape == rest.shape and (got[2] == rest).all()


def qt_pixels(lines: np.ndarray, size: tuple[int, int], offset: tuple[int, int]) -> np.ndarray:
    """Return the pixels Qt's aliased one-pixel pen sets for ``lines`` drawn at ``offset``
    on an image of ``size`` (its raster engine's device), in the painter's pixels."""
    width, height = size
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QtGui.QPainter(image)
    painter.translate(*offset)
    painter.setPen(QtGui.QPen(QtGui.QColor("#7f7f7f"), 0))
    qt_paint.draw_lines(painter, lines)
    painter.end()
    return np.frombuffer(image.constBits(), np.uint32).reshape(height, -1)[:, :width] != 0


@pytest.mark.parametrize("seed", range(4))
def test_line_runs_are_the_pixels_qt_sets(seed):
    """Chords of every slope, long and short, points, ends past the device's edges (Qt cuts
    a chord at the device grown by a pixel and two, in floats, before it steps along it),
    drawn at an offset in the device (a widget's in its window's backing store): the
    runs ``line_runs`` makes and Qt's pixels for the rest are Qt's pixels for all."""
    rng = np.random.default_rng(seed)
    size = (int(rng.integers(60, 300)), int(rng.integers(60, 300)))
    offset = (int(rng.integers(-40, 40)), int(rng.integers(-40, 40)))
    lines = rng.integers(-400, 700, (4000, 4)).astype(float)
    lines[:1000, 3] = lines[:1000, 1] + rng.integers(-4, 5, 1000)  # shallow
    lines[1000:1100, 2:] = lines[1000:1100, :2]  # points
    lines[1100:1500, 2] = lines[1100:1500, 0] + rng.integers(-3, 4, 400)  # steep
    lines[1500:1600] = rng.integers(-3, 4, (100, 4)) + [0, 0, size[0], 0]  # along an edge
    (row, first, last), rest = far_spans.line_runs(columns(lines), size, offset)
    assert len(rest) < len(lines) // 2
    got = qt_pixels(lines[rest], size, offset)
    row, first, last = row + offset[1], first + offset[0], last + offset[0]
    inside = (row >= 0) & (row < size[1])
    for y, a, b in zip(row[inside], np.maximum(first[inside], 0), np.minimum(last[inside], size[0] - 1)):
        got[y, a:b + 1] = True
    assert (got == qt_pixels(lines, size, offset)).all()


def test_line_pixels_are_cut_to_the_clip_and_left_to_qt_when_few():
    lines = np.array([[-50, 5, 400, 30], [7, -9, 30, 150]] * 300, float)  # across, steep
    assert far_spans.line_pixels(columns(lines[:far_spans.LINES_FEW - 1]), (0, 0, SIZE, SIZE),
                                 ((SIZE, SIZE), (0, 0))) is None
    mask, corner, rest = far_spans.line_pixels(columns(lines), (10, 4, 60, 30),
                                               ((SIZE, SIZE), (0, 0)))
    assert corner == (10, 4) and mask.shape == (26, 50) and (rest % 2 == 1).all()
    whole = qt_pixels(lines[::2], (SIZE, SIZE), (0, 0))
    assert (mask == whole[4:30, 10:60]).all() and mask.any()
