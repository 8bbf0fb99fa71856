"""A/B of a backward step on the Values panel: an old copy of
gradstep/ui/qt_values_panel.py (two-line text rows) and this tree's (rows as high as their
text, ``QtLinesLabel``), in turns in one process: each round steps each panel through a
pass (the step's layout and paint done: the event loop runs after each step), CPU seconds,
per-round medians of new/old. The two panels must show the same header and row texts.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. .venv/bin/python bench/values_rows_ab.py OLD_PANEL_PY ROUNDS
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time

from PySide6 import QtWidgets

from gradstep.autograd.session import Session
from gradstep.none_guard import protect_none
from gradstep.ui import qt_values_panel as new
from gradstep.ui.qt_session_model import QtSessionModel

SNIPPET = ("import torch\nx = torch.linspace(-1, 1, 6, requires_grad=True)\nh = x\n"
           "for i in range(30):\n    h = (h * 1.5).sigmoid() + h.sin()\n"
           "h.sum().backward()\n")


def panel(module, result: dict):
    model = QtSessionModel()
    model.set_run_result(result)
    shown = module.QtValuesPanel(model)
    shown.resize(576, 900)
    shown.show()
    return model, shown


def walk(app, model, shown) -> tuple[float, list]:
    texts = []
    start = time.process_time()
    for k in range(model.step_count + 1):
        model.set_step(k)
        app.processEvents()
        texts.append((shown.header.text(), shown.grad_change.text()))
    return time.process_time() - start, texts


def main() -> None:
    protect_none()  # (as the window does: PySide6 6.12 on Python 3.11)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    spec = importlib.util.spec_from_file_location("values_panel_old", sys.argv[1])
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    rounds = int(sys.argv[2])
    result = Session().run(SNIPPET)
    pairs = {"old": panel(old, result), "new": panel(new, result)}
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(rounds):
        texts = {}
        for name, (model, shown) in pairs.items():
            model.set_step(0)
            app.processEvents()
            took, texts[name] = walk(app, model, shown)
            times[name].append(took)
        assert texts["old"] == texts["new"]
    steps = pairs["new"][0].step_count + 1
    ratios = [n / o for n, o in zip(times["new"], times["old"])]
    print(f"{steps} steps a walk; old {statistics.median(times['old']) / steps * 1e3:.3f} ms, "
          f"new {statistics.median(times['new']) / steps * 1e3:.3f} ms a step (medians); "
          f"new/old median {statistics.median(ratios):.3f}, new faster in "
          f"{sum(r < 1 for r in ratios)} of {rounds}")


if __name__ == "__main__":
    main()
