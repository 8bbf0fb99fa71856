"""The wide DAG's step with the window painted once (``qt_one_paint``) and the way before
(each graphics scene paints the window as it hands its items on), in turns in one process
(docs/speed.md item 85).

    bash -c "ulimit -s unlimited; env PYTHONPATH=. QT_QPA_PLATFORM=offscreen \
        .venv/bin/python bench/one_paint_ab.py [--rounds 20] [--steps 20]"

The window is made as ``bench_ui.py`` makes it. First the pictures: at ``--pictures``
steps spread over the pass, each way goes to the step before and takes the step (→), the
event loop run; the window is grabbed as its widgets draw it (``grab``) and as it was
painted (the screen's copy of the window), once the loop settled with the formulas' timer
still running and again after it fired; the two ways' pictures are compared pixel for
pixel. Then each round, from the middle of the pass, ``--steps`` steps each way (who goes
first turns round). Printed: the pictures' comparison, each way's CPU median of a step
(Qt's painting threads included), its paint rounds of the window and its widget paints a
step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ui  # noqa: E402 (this folder's: the window as its bench makes it)

ONCE, BEFORE = "painted once", "the way before"
AGAIN = "the way before, again"  # (what differs from itself: the time)


def pictures(app, window, way_set, steps: list[int]) -> dict:
    """Return {(way, step, when, how): QImage} (``when``: before or after the formulas'
    timer; ``how``: the widgets' grab or the screen's copy)."""
    panel = window.values_panel
    screen = window.screen()
    out = {}
    for k in steps:
        for way in (ONCE, BEFORE, AGAIN):
            way_set(BEFORE if way == AGAIN else way)
            window.model.set_step(k - 1)
            settle(app, window)
            window.model.step_forward()
            for _ in range(3):  # (what the first turn's work posted, the layouts it moved)
                app.processEvents()
            timer = panel._formula_timer.isActive()
            for how in ("grab", "screen"):
                out[way, k, "timer running" if timer else "timer fired", how] = shot(
                    window, screen, how)
            settle(app, window)
            for how in ("grab", "screen"):
                out[way, k, "after the timer", how] = shot(window, screen, how)
    return out


def shot(window, screen, how: str):
    return (window.grab() if how == "grab" else screen.grabWindow(window.winId())).toImage()


def pixels(image):
    """Return ``image``'s pixels as 32-bit ARGB rows (whatever format it came in)."""
    import numpy as np

    argb = image.convertToFormat(image.Format.Format_ARGB32)
    return np.frombuffer(argb.constBits(), np.uint32).reshape(
        argb.height(), -1)[:, :argb.width()].copy()


def where(a, b) -> str | None:
    """Return where images ``a`` and ``b`` differ, in words; None where their pixels are
    the same."""
    import numpy as np

    if a.size() != b.size():
        return f"size {a.size()} / {b.size()}"
    rows, cols = np.nonzero(pixels(a) != pixels(b))
    if not rows.size:
        return None
    return f"x {cols.min()}-{cols.max()}, y {rows.min()}-{rows.max()} ({rows.size} px)"


def settle(app, window) -> None:
    """Run the event loop until the formulas' timer has fired, the node's details asked
    for once stepping paused have come back (the status bar shows a busy bar until then),
    and nothing is left."""
    for _ in range(500):
        app.processEvents()
        if not (window.values_panel._formula_timer.isActive() or window.runner.busy
                or window.control._inspect_timer.isActive()):
            break
        time.sleep(0.01)
    for _ in range(5):  # (a layout done in a turn paints in the next: the status bar's)
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippet", type=Path, default=Path("bench/snippets/dag100k.py"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--pictures", type=int, default=6)
    args = parser.parse_args()

    from PySide6 import QtCore, QtWidgets

    from gradstep.ui import qt_one_paint

    app, window = bench_ui.stepped_window(args.snippet)
    bench_ui.first_far_ms(app, window)  # (the first frame far out made: as in bench_ui)
    model = window.model

    def way_set(way: str) -> None:
        qt_one_paint.HOLD = way == ONCE

    count = model.step_count
    at = [1 + (count - 2) * (i + 1) // (args.pictures + 1) for i in range(args.pictures)]
    shots = pictures(app, window, way_set, at)
    ways = (ONCE, BEFORE, AGAIN)
    keys = sorted({key[1:] for key in shots if all((way,) + key[1:] in shots for way in ways)})
    alone = len({key[1:3] for key in shots if key[1:] not in keys})  # the timer fired in one

    def differ(one: str, two: str) -> list:
        return [(key, spot) for key in keys
                if (spot := where(shots[(one,) + key], shots[(two,) + key]))]

    stale = [key for key in shots if key[3] == "screen"
             and where(shots[key], shots[key[:3] + ("grab",)])]
    print(f"the screen's copy unlike the widgets' grab: {stale or 'none'}")
    print(f"the way before against itself: {len(differ(AGAIN, BEFORE))} of {len(keys)} differ "
          f"{differ(AGAIN, BEFORE)}")
    print(f"pictures at steps {at}: {len(keys)} pairs, {len(differ(ONCE, BEFORE))} differ "
          f"{differ(ONCE, BEFORE)} ({alone} more not compared: the formulas' timer fired "
          "first in one way)")

    paint, update = QtCore.QEvent.Type.Paint, QtCore.QEvent.Type.UpdateRequest
    counts = {"rounds": 0, "paints": 0}

    class Watch(QtCore.QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt override)
            kind = event.type()
            if kind == paint and isinstance(watched, QtWidgets.QWidget):
                counts["paints"] += 1
            elif kind == update and watched is window and not window.one_paint._held:
                # (one held is not a paint: the window's own filter drops it)
                counts["rounds"] += 1
            return False

    cpu: dict = {way: [] for way in (ONCE, BEFORE)}
    seen: dict = {way: {"rounds": 0, "paints": 0} for way in (ONCE, BEFORE)}
    watch = Watch()
    for round_ in range(args.rounds):
        for way in (ONCE, BEFORE) if round_ % 2 == 0 else (BEFORE, ONCE):
            way_set(way)
            model.set_step(count // 2)
            app.processEvents()
            for _ in range(args.steps):
                start = time.process_time()
                model.step_forward()
                app.processEvents()
                cpu[way].append((time.process_time() - start) * 1000)
            # counted in a second run of the same steps (the filter costs each event)
            model.set_step(count // 2)
            app.processEvents()
            before = dict(counts)
            app.installEventFilter(watch)
            for _ in range(args.steps):
                model.step_forward()
                app.processEvents()
            app.removeEventFilter(watch)
            for name in counts:
                seen[way][name] += counts[name] - before[name]
    qt_one_paint.HOLD = True
    steps = args.rounds * args.steps
    base = statistics.median(cpu[BEFORE])
    for way in (ONCE, BEFORE):
        median = statistics.median(cpu[way])
        print(f"{way:15s} CPU median {median:6.2f} ms a step (of {len(cpu[way])}; / the way "
              f"before {median / base:.3f}); the window's paint rounds a step "
              f"{seen[way]['rounds'] / steps:.2f}, widget paints {seen[way]['paints'] / steps:.1f}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
