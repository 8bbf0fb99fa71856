"""Where a window frame's CPU time goes on the wide random DAG: one step, and the first
frame far out (docs/speed.md item 84).

    bash -c "ulimit -s unlimited; env PYTHONPATH=. QT_QPA_PLATFORM=offscreen \
        .venv/bin/python bench/dag_frame_parts.py [--steps 60] [--rounds 3]"

The window is made as ``bench_ui.py`` makes it (1280 x 800, the run taken in, the first
steps, the first frame far out); then each step from the middle of the pass and each frame
far out (the root at 100%, then one wheel scale past the detail scale) is timed whole and in
parts: the CPU time (``time.process_time``) spent in each of the functions ``instrument``
wraps for this run (a part holds the parts printed under it). Printed: the median per step
or frame of each (what the parts leave is Qt's own work: the other widgets' paints, the
backing store), and in how many steps the graph view's paint covered the whole view. Far
out, in one more frame not timed, the chords Qt draws are counted with the pixels its
one-pixel pen steps over in view (the length of each chord's part in view); then those
chords are drawn again into images of the view's size, timed per image format, and the
pixels they set counted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ui  # noqa: E402 (this folder's: the window as its bench makes it)

SPENT: dict = defaultdict(float)  # part -> CPU seconds since the last reset
LABELS: list = []  # the parts, in the order they are printed (a part above its own parts)
CHORDS: list = []  # (chords, pixels stepped in view) of each draw_lines call far out
DRAWN: list = []  # (chords, colour, device width, height) of each draw_lines of that frame
COUNTING = False  # CHORDS is filled (a frame of its own: the counting is not timed)


def wrap(owner, name: str, label: str) -> None:
    """Add the CPU time of each call of ``owner.name`` to ``SPENT[label]``."""
    inner = getattr(owner, name)

    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - start

    setattr(owner, name, timed)
    LABELS.append(label)


def count_chords(painter, lines) -> None:
    """Note the chords a far-out paint hands Qt (with its pen's colour and the device's
    size) and the pixels they step over in view (each chord cut to the device's
    rectangle, the longer of its two spans)."""
    import numpy as np

    lines = np.array(lines, dtype=float)
    device = painter.device()
    width, height = device.width(), device.height()
    DRAWN.append((lines, painter.pen().color().rgb(), width, height))
    x0, y0, x1, y1 = lines.T
    t = np.linspace(0.0, 1.0, 257)
    xs, ys = x0[:, None] + (x1 - x0)[:, None] * t, y0[:, None] + (y1 - y0)[:, None] * t
    inside = ((xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)).mean(axis=1)
    CHORDS.append((len(lines), float((np.maximum(abs(x1 - x0), abs(y1 - y0)) * inside).sum())))


def instrument() -> None:
    """Wrap the parts a step and a frame far out are made of."""
    import pyqtgraph

    from gradstep.drawing import far_spans, qt_paint, qt_scene
    from gradstep.ui import qt_graph_follower, qt_graph_view, qt_values_panel

    view = qt_graph_view.QtGraphView
    for owner, name, label in (
            (qt_graph_follower.QtGraphFollower, "on_step", "graph view: the step (all below)"),
            (view, "follow", "  scroll to the node"),
            (view, "update_node_states", "  new states"),
            (view, "set_edge_labels", "  edge labels placed"),
            (view, "flush_updates", "  its paint, Qt's included"),
            (view, "viewportEvent", "    the items' paint"),
            (qt_scene.EdgesItem, "paint", "      edges"),
            (qt_paint, "paint_edges", "        Qt's stroke at 100%"),
            (qt_scene.EdgesItem, "_paint_far", "        far out"),
            (far_spans, "line_pixels", "          the chords Qt steps along x, as its runs"),
            (qt_paint, "draw_lines", "          Qt's drawLines of the chords"),
            (qt_scene.NodesItem, "paint", "      boxes"),
            (qt_scene, "_paint_dots", "        far out: the dots' image"),
            (qt_values_panel.QtValuesPanel, "refresh", "the Values panel's step"),
            (pyqtgraph.GraphicsView, "paintEvent", "the Values panel's plots painted")):
        wrap(owner, name, label)
    draw_lines = qt_paint.draw_lines

    def counted(painter, lines):
        if COUNTING:
            count_chords(painter, lines)
        return draw_lines(painter, lines)

    qt_paint.draw_lines = counted


def watch_paints(viewport) -> list:
    """Return a list that each paint of ``viewport`` adds its region's pixels to."""
    from PySide6 import QtCore

    painted: list = []

    class Watch(QtCore.QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt override)
            if event.type() == QtCore.QEvent.Type.Paint:
                painted.append(sum(r.width() * r.height() for r in event.region()))
            return False

    watch = Watch(viewport)
    viewport.installEventFilter(watch)
    return painted


def watch_window(app, window) -> dict:
    """Return a dict that each paint of a widget of ``window`` adds to, under its class's
    name (paints, pixels), and each paint round of the window (an ``UpdateRequest``: Qt
    paints what is dirty, then flushes) under ``"rounds"``."""
    from PySide6 import QtCore, QtWidgets

    seen: dict = defaultdict(lambda: [0, 0])
    paint, update = QtCore.QEvent.Type.Paint, QtCore.QEvent.Type.UpdateRequest

    class Watch(QtCore.QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt override)
            kind = event.type()
            if kind == paint and isinstance(watched, QtWidgets.QWidget):
                entry = seen[type(watched).__name__]
                entry[0] += 1
                entry[1] += sum(r.width() * r.height() for r in event.region())
            elif kind == update and watched is window:
                seen["rounds"][0] += 1
            return False

    watch = Watch(window)
    app.installEventFilter(watch)
    return seen


def report(title: str, totals: list, parts: list) -> None:
    print(f"{title}: CPU median {statistics.median(totals):.2f} ms (of {len(totals)}; "
          f"least {min(totals):.2f}, most {max(totals):.2f})")
    for label in (label for label in LABELS if any(label in frame for frame in parts)):
        print(f"  {label:52s} {statistics.median(f.get(label, 0.0) for f in parts):7.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippet", type=Path, default=Path("bench/snippets/dag100k.py"))
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    instrument()
    app, window = bench_ui.stepped_window(args.snippet)
    bench_ui.first_far_ms(app, window)  # (the first frame's own work: item 82)
    model, view = window.model, window.graph_view
    painted = watch_paints(view.viewport())
    widgets = watch_window(app, window)
    counted: dict = defaultdict(lambda: [0, 0])  # the steps' paints only (not the frames')
    stepped = 0
    steps, step_parts, far, far_parts, shares = [], [], [], [], []
    factor = 1.0
    from gradstep.drawing import qt_paint

    while factor >= qt_paint.DETAIL_LOD:
        factor /= 1.2
    for _ in range(args.rounds):
        model.set_step(model.step_count // 2)
        app.processEvents()
        before = {k: tuple(v) for k, v in widgets.items()}
        for _ in range(args.steps):
            SPENT.clear()
            painted.clear()
            start = time.process_time()
            model.step_forward()
            app.processEvents()
            steps.append((time.process_time() - start) * 1000)
            stepped += 1
            step_parts.append({k: v * 1000 for k, v in SPENT.items()})
            shares.append(sum(painted) / (view.viewport().width() * view.viewport().height()))
        for name, (count, pixels) in widgets.items():
            was = before.get(name, (0, 0))
            counted[name][0] += count - was[0]
            counted[name][1] += pixels - was[1]
        for _ in range(args.steps // 4):
            view.show_start()
            app.processEvents()
            SPENT.clear()
            start = time.process_time()
            view.zoom(factor)
            app.processEvents()
            far.append((time.process_time() - start) * 1000)
            far_parts.append({k: v * 1000 for k, v in SPENT.items()})
        view.show_start()
        app.processEvents()
    global COUNTING
    COUNTING = True
    view.zoom(factor)
    app.processEvents()
    COUNTING = False
    print(f"view {view.viewport().width()} x {view.viewport().height()} px")
    report("one step", steps, step_parts)
    whole = sum(share >= 1.0 for share in shares)
    print(f"  the view's pixels a step paints: all of them in {whole} of {len(shares)} steps; "
          f"the others' least share {min((s for s in shares if s < 1.0), default=1.0):.2f}")
    rounds = counted.pop("rounds", (0, 0))[0]
    print(f"  the window's paint rounds a step (each paints what is dirty, then flushes): "
          f"{rounds / stepped:.2f}; the widgets painted a step, by class (paints, pixels):")
    for name, (count, pixels) in sorted(((k, v) for k, v in counted.items() if v[0]),
                                        key=lambda kv: -kv[1][1]):
        print(f"    {name:34s} {count / stepped:5.2f} {pixels / stepped:9.0f}")
    report(f"a frame far out (100% -> {factor:.3f})", far, far_parts)
    print(f"  chords Qt draws that frame: {sum(c for c, _ in CHORDS)}, stepping over "
          f"{sum(p for _, p in CHORDS):.0f} pixels in view (counted in a frame not timed)")
    window.close()
    qt_formats()
    return 0


def qt_formats() -> None:
    """Time Qt's drawLines of that frame's chords (in its order and colours) into an image
    of the view's size in other formats, and count the pixels they set."""
    import numpy as np
    import shiboken6
    from PySide6 import QtCore, QtGui

    width, height = DRAWN[0][2], DRAWN[0][3]
    formats = QtGui.QImage.Format
    for name in ("Format_ARGB32_Premultiplied", "Format_RGB32", "Format_Alpha8",
                 "Format_Grayscale8", "Format_Mono"):
        image = QtGui.QImage(width, height, getattr(formats, name))
        times = []
        for _ in range(15):
            image.fill(0)
            painter = QtGui.QPainter(image)
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
            start = time.process_time()
            for lines, colour, _, _ in DRAWN:
                painter.setPen(QtGui.QPen(QtGui.QColor.fromRgb(colour), 0))
                painter.drawLines(shiboken6.wrapInstance(lines.ctypes.data, QtCore.QLineF),
                                  len(lines))
            times.append((time.process_time() - start) * 1000)
            painter.end()
        line = f"  drawLines of that frame's chords into a {name[7:]} image: " \
               f"{statistics.median(times):.2f} ms"
        if name == "Format_ARGB32_Premultiplied":
            bits = np.frombuffer(image.constBits(), np.uint32).reshape(height, -1)[:, :width]
            line += f"; pixels set: {np.count_nonzero(bits)} of {width * height}"
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
