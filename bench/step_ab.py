"""The wide DAG's window step three ways, in turns in one process (docs/speed.md item 85):
why ``bench_ui.py`` printed a step dearer than "a full repaint of the view".

    bash -c "ulimit -s unlimited; env PYTHONPATH=. QT_QPA_PLATFORM=offscreen \
        .venv/bin/python bench/step_ab.py [--rounds 10] [--steps 20]"

The window is made as ``bench_ui.py`` makes it; each round, from the middle of the pass,
``--steps`` steps each way (who goes first turns round):

* ``step``: the model steps and the event loop runs (what a person's → costs; the bench's
  "one step");
* ``full, no loop``: the view's updates off while the model steps, then ``repaint()`` of the
  view, and no event loop (how ``bench_ui.py`` timed "with a full repaint of the view" until
  item 85): what the side panels post (their layout requests, their plots' paints) is not
  delivered, and a later turn of the loop paints it all once for many steps;
* ``full, then the loop``: the same, then the event loop, as ``bench_ui.py`` times it now.

Printed: the CPU median of a step each way (this process, Qt's painting threads included)
and what the event loop did after the ``full, no loop`` steps, once for all of them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ui  # noqa: E402 (this folder's: the window as its bench makes it)

WAYS = ("step", "full, no loop", "full, then the loop")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippet", type=Path, default=Path("bench/snippets/dag100k.py"))
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    app, window = bench_ui.stepped_window(args.snippet)
    bench_ui.first_far_ms(app, window)  # (the first frame far out made: as in bench_ui)
    model, view = window.model, window.graph_view.viewport()
    cpu: dict = {way: [] for way in WAYS}
    left: list = []  # the loop's CPU ms after a round of "full, no loop" steps
    for round_ in range(args.rounds):
        ways = WAYS[round_ % 3:] + WAYS[:round_ % 3]
        for way in ways:
            model.set_step(model.step_count // 2)
            app.processEvents()
            for _ in range(args.steps):
                start = time.process_time()
                if way == "step":
                    model.step_forward()
                    app.processEvents()
                else:
                    view.setUpdatesEnabled(False)
                    model.step_forward()
                    view.setUpdatesEnabled(True)
                    view.repaint()
                    if way == "full, then the loop":
                        app.processEvents()
                cpu[way].append((time.process_time() - start) * 1000)
            if way == "full, no loop":
                start = time.process_time()
                app.processEvents()
                left.append((time.process_time() - start) * 1000)
    base = statistics.median(cpu["step"])
    for way in WAYS:
        median = statistics.median(cpu[way])
        print(f"{way:22s} CPU median {median:6.2f} ms a step (of {len(cpu[way])}; "
              f"/ step {median / base:.3f})")
    print(f"the event loop after {args.steps} 'full, no loop' steps: CPU median "
          f"{statistics.median(left):.2f} ms, once for all of them")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
