"""Screenshots of the classroom features at 1280x800, to look at them.

    .venv/bin/python tests/ui/classroom_screenshots.py OUTDIR

Saves: the Values panel with the formulas of the mse lesson's MseLossBackward0 and of
the softmax lesson's SoftmaxBackward0 (values_mse.png, values_softmax.png), the window
with the text zoomed to 150% (zoom_150.png), presentation mode (presentation.png), a
node's hover text (tooltip.png) and the window's animated export (from_window.gif).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.screenshots import settle, wait_for  # noqa: E402


def run_example(qapp, window, example: str) -> None:
    window.load_example(example)
    window.run()
    wait_for(qapp, window.sigRunFinished)
    if not window.model.passes:
        wait_for(qapp, window.sigBackwardFinished)
    settle(qapp, 300)


def step_to(qapp, window, name: str) -> None:
    """Step until the ▶ node is ``name`` and its details (the saved numbers) arrived."""
    model = window.model
    model.reset_steps()
    while model.current_step() and model.current_step()["name"] != name:
        model.step_forward()
    settle(qapp, 600)


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADSTEP_STATE_DIR", str(out / "state"))
    from PySide6 import QtCore, QtWidgets

    import gradstep.ui  # noqa: F401  (the PySide6 6.12 None guard)
    from gradstep.autograd.session import Session
    from gradstep.ui.qt_main_window import QtMainWindow

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = QtMainWindow(Session)
    window.resize(1280, 800)
    window.show()
    run_example(qapp, window, "mse_backward")
    step_to(qapp, window, "MseLossBackward0")
    window.grab().save(str(out / "values_mse.png"))
    run_example(qapp, window, "softmax_jacobian")
    step_to(qapp, window, "SoftmaxBackward0")
    window.grab().save(str(out / "values_softmax.png"))
    window.exports.export_animation(str(out / "from_window.gif"))
    window.font_zoom.set_factor(1.5)
    settle(qapp, 300)
    window.grab().save(str(out / "zoom_150.png"))
    window.font_zoom.reset()
    view = window.graph_view
    node = window.model.focus_node()
    text = view.node_tooltip(node, view.graph_scene.graph.nodes[node])
    label = QtWidgets.QLabel(text)
    label.setStyleSheet("background: #ffffdc; padding: 6px; border: 1px solid gray")
    label.adjustSize()
    label.grab().save(str(out / "tooltip.png"))
    window.presentation.enter("presentation")
    window.resize(1280, 800)  # offscreen "full screen" is the virtual screen; show the usual size
    settle(qapp, 500)
    window.presentation._fit()
    settle(qapp, 300)
    window.grab().save(str(out / "presentation.png"))
    window.presentation.leave()
    settle(qapp, 300)
    window.grab().save(str(out / "after_presentation.png"))
    print("saved", sorted(p.name for p in out.glob("*.*")))
    QtCore.QTimer.singleShot(0, window.close)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
