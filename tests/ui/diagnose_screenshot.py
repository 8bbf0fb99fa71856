"""Save screenshots of the Diagnose view at 1280x800, to look at them.

    .venv/bin/python tests/ui/diagnose_screenshot.py OUTDIR

``diagnose_nan.png``: a small model whose loss takes sqrt of negative deviations (the
banner, the findings, the origin and carrier marks on the graph, the line in the
editor). ``diagnose_flow.png``: a 10-layer sigmoid MLP (the gradient-flow chart with
its vanishing layers hatched and labelled). The session runs in-process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.screenshots import settle, wait_for  # noqa: E402


def shoot(qapp, window, source: str, path: Path) -> None:
    window.editor.setPlainText(source)
    window.run()
    wait_for(qapp, window.sigRunFinished)
    settle(qapp, 300)
    window.diagnose_view.diagnose()
    wait_for(qapp, window.diagnose_view.panel.sigDiagnosed, 30_000)  # the gradient statistics
    settle(qapp, 800)
    window.grab().save(str(path))


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADSTEP_STATE_DIR", str(out / "state"))

    from PySide6 import QtWidgets

    from gradstep.none_guard import protect_none

    protect_none()  # PySide6 6.12 on Python 3.11: see gradstep/none_guard.py
    from gradstep.autograd.session import Session
    from gradstep.ui.qt_main_window import QtMainWindow
    from tests.autograd.planted import MODEL_WITH_PLANTED_SQRT
    from tests.autograd.test_grad_flow import deep_mlp

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = QtMainWindow(Session)
    window.resize(1280, 800)
    window.show()
    shoot(qapp, window, MODEL_WITH_PLANTED_SQRT.source, out / "diagnose_nan.png")
    shoot(qapp, window, deep_mlp("Sigmoid"), out / "diagnose_flow.png")
    print("saved", sorted(p.name for p in out.glob("diagnose_*.png")))
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
