"""The wide DAG's frame far out with the chords Qt steps along x set as its runs in numpy
(``far_spans.line_pixels``) and with Qt drawing them (main's way), in turns in one process
(docs/speed.md item 84).

    bash -c "ulimit -s unlimited; env PYTHONPATH=. QT_QPA_PLATFORM=offscreen \
        .venv/bin/python bench/far_runs_ab.py [--rounds 40]"

The window is made as ``bench_ui.py`` makes it; each round, from the root at 100%, one
frame at the first scale past the detail scale (the bench's first frame far out) and one at
the least scale the wheel reaches (1%), each way in turns (who goes first alternates).
Printed: the CPU medians, and whether each way's pixels are the same (the first four
rounds: the window grabbed at each scale, the view's part of it, both ways in a round).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ui  # noqa: E402 (this folder's: the window as its bench makes it)

NUMPY, QT = "runs in numpy", "Qt draws them"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippet", type=Path, default=Path("bench/snippets/dag100k.py"))
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    from PySide6 import QtCore

    from gradstep.drawing import far_spans, qt_paint

    app, window = bench_ui.stepped_window(args.snippet)
    view = window.graph_view
    far = 1.0
    while far >= qt_paint.DETAIL_LOD:
        far /= 1.2
    few = {NUMPY: far_spans.LINES_FEW, QT: 10 ** 9}
    scales = {f"{far:.3f}": far, "0.010": 0.01 / 1.0}
    for scale in scales.values():  # (the view's first frames there: where it scrolls to)
        view.show_start()
        app.processEvents()
        view.zoom(scale)
        app.processEvents()
    times = {(way, s): [] for way in few for s in scales}
    pictures = {}
    for round_ in range(args.rounds):
        for way in (list(few) if round_ % 2 == 0 else list(few)[::-1]):
            far_spans.LINES_FEW = few[way]
            for name, scale in scales.items():
                view.show_start()
                app.processEvents()
                start = time.process_time()
                view.zoom(scale)
                app.processEvents()
                times[way, name].append((time.process_time() - start) * 1000)
                if round_ < 4:  # the view's part of the window grabbed: at its offset
                    corner = view.viewport().mapTo(window, QtCore.QPoint(0, 0))
                    pictures.setdefault((way, name), []).append(window.grab().toImage().copy(
                        QtCore.QRect(corner, view.viewport().size())))
    for name in scales:
        a, b = (statistics.median(times[way, name]) for way in few)
        same = all(x == y for x, y in zip(pictures[NUMPY, name], pictures[QT, name]))
        print(f"100% -> {name}: {NUMPY} {a:.2f} ms, {QT} {b:.2f} ms CPU (medians of "
              f"{args.rounds}; new/old {a / b:.3f}); the window's pixels the same: {same}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
