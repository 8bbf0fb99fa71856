"""Save screenshots of the window and each panel at 1280x800, to look at them.

    .venv/bin/python tests/ui/screenshots.py OUTDIR [EXAMPLE_ID] [--dark]

Runs the example in an in-process session, steps halfway through backward,
selects the current node, and saves window.png plus one PNG per panel raised.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def wait_for(app, signal, timeout_ms: int = 120_000) -> None:
    """Run the event loop until ``signal`` fires (or the timeout)."""
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    signal.connect(loop.quit)
    QtCore.QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def settle(app, ms: int = 300) -> None:
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    example = next((a for a in argv[1:] if not a.startswith("--")), "grad_fn_chain")
    dark = "--dark" in argv
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADSTEP_STATE_DIR", str(out / "state"))

    from PySide6 import QtWidgets

    from gradstep.none_guard import protect_none

    protect_none()  # PySide6 6.12 on Python 3.11: see gradstep/none_guard.py
    from gradstep.autograd.session import Session
    from gradstep.ui.qt_main_window import QtMainWindow

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    if dark:
        from tests.ui.test_theme import dark_palette

        qapp.setPalette(dark_palette())
    window = QtMainWindow(Session)
    window.resize(1280, 800)
    window.show()
    window.load_example(example)
    window.run()
    wait_for(qapp, window.sigBackwardFinished)
    for _ in range(max(1, window.model.step_count // 2)):
        window.model.step_forward()
    window.model.select(window.model.current_step()["node"] if window.model.current_step() else "")
    settle(qapp, 800)
    suffix = "_dark" if dark else ""
    window.grab().save(str(out / f"window{suffix}.png"))
    for name, dock in window.docks.items():
        dock.raise_()
        settle(qapp, 200)
        window.grab().save(str(out / f"panel_{name}{suffix}.png"))
    print("saved", sorted(p.name for p in out.glob("*.png")))
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
