"""Screenshots of every lesson in the window at 1280x800, at a few steps of each pass.

    .venv/bin/python tests/ui/lesson_screenshots.py OUTDIR [LESSON_ID ...] [--lr] [--panels]

Each lesson is loaded from the Examples menu and run (in-process session); for every
pass the window steps through it and saves OUTDIR/<lesson>_p<P>_k<K>.png at step 0,
the middle and the end, plus <lesson>_run.png as the run left the window (a failing
lesson: its failing pass at the node torch raised in).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.screenshots import settle, wait_for  # noqa: E402


def shoot(app, window, path: Path) -> None:
    settle(app, 250)
    window.grab().save(str(path))


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    wanted = [a for a in argv[1:] if not a.startswith("--")]
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADSTEP_STATE_DIR", str(out / "state"))
    from PySide6 import QtWidgets

    from gradstep.none_guard import protect_none

    protect_none()  # PySide6 6.12 on Python 3.11: see gradstep/none_guard.py
    from gradstep.autograd.session import Session
    from gradstep.examples import EXAMPLES
    from gradstep.ui.qt_main_window import QtMainWindow

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = QtMainWindow(Session)
    window.resize(1280, 800)
    window.show()
    if "--lr" in argv:
        window.act_lr.setChecked(True)
    for example in EXAMPLES:
        if wanted and example.id not in wanted:
            continue
        window.load_example(example.id)
        window.run()
        wait_for(qapp, window.sigRunFinished)
        while window.runner.busy:
            wait_for(qapp, window.runner.sigBusyChanged, 60_000)
        shoot(qapp, window, out / f"{example.id}_run.png")
        for p in range(len(window.model.passes)):
            window.model.choose_timeline(p)
            n = window.model.step_count
            for k in sorted({0, n // 2, n}):
                window.model.set_step(k)
                shoot(qapp, window, out / f"{example.id}_p{p + 1}_k{k}.png")
                if "--panels" in argv and k in (0, n):
                    for dock in ("saved", "leaves"):
                        window.docks[dock].raise_()
                        shoot(qapp, window, out / f"{example.id}_p{p + 1}_k{k}_{dock}.png")
                    window.docks["values"].raise_()
        print(example.id, len(window.model.passes), "passes", flush=True)
    window.files.mark_saved()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
