"""Screenshots of the window in one language at 1280x800, to look at them.

    .venv/bin/python tests/ui/language_screenshots.py OUTDIR [LANGUAGE] [--switch]

LANGUAGE is a code of ``gradstep.i18n.LANGUAGES`` (default zh_CN; ``en`` for the
English ones). Saves, under OUTDIR/LANGUAGE/: the softmax lesson stepped halfway with
each panel raised (``panel_<name>.png``), the error lessons (``error_retain_graph.png``,
with the Saved panel raised ``error_retain_graph_saved.png``, and
``error_requires_grad.png``), the Diagnose view of a snippet that makes NaN
(``diagnose.png``), and open menus drawn onto the window (``menu_<name>.png``). With
``--switch`` the window starts in English and switches through View › Language with
the lesson on screen (``switched.png``): the text, graph and step stay.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.screenshots import settle, wait_for  # noqa: E402

NAN_SNIPPET = """a = torch.tensor([4.0, -1.0, 9.0], requires_grad=True)
r = torch.sqrt(a)
loss = (r * 2).sum()
"""


def run_example(app, window, example: str) -> None:
    window.load_example(example)
    run_and_wait(app, window)


def run_and_wait(app, window) -> None:
    """Run the editor's text (marked saved) and wait until the run and its passes are done."""
    window.files.mark_saved()
    window.run()
    wait_for(app, window.sigRunFinished)
    while window.runner.busy:
        wait_for(app, window.runner.sigBusyChanged, 60_000)
    settle(app, 400)


def with_menu(app, window, menu, path: Path, submenu=None) -> None:
    """Save the window with ``menu`` (and ``submenu``) open on it, as one picture."""
    from PySide6 import QtCore, QtGui

    bar = window.menuBar()
    action = menu.menuAction()
    at = bar.mapToGlobal(bar.actionGeometry(action).bottomLeft())
    menu.popup(at)
    settle(app, 250)
    shots = [(menu.grab(), menu.pos())]
    if submenu is not None:
        menu.setActiveAction(submenu.menuAction())
        submenu.popup(menu.mapToGlobal(menu.actionGeometry(submenu.menuAction()).topRight()))
        settle(app, 250)
        shots.append((submenu.grab(), submenu.pos()))
    picture = window.grab()
    painter = QtGui.QPainter(picture)
    origin = window.mapToGlobal(QtCore.QPoint(0, 0))
    for pixmap, pos in shots:
        painter.drawPixmap(pos - origin, pixmap)
    painter.end()
    picture.save(str(path))
    if submenu is not None:
        submenu.hide()
    menu.hide()


def main(argv: list[str]) -> int:
    out_root = Path(argv[0])
    code = next((a for a in argv[1:] if not a.startswith("--")), "zh_CN")
    switch = "--switch" in argv
    out = out_root / code
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADSTEP_STATE_DIR", str(out_root / f"state_{code}"))
    from PySide6 import QtWidgets

    import gradstep.ui  # noqa: F401  (the PySide6 6.12 None guard)
    from gradstep.autograd.session import Session
    from gradstep.ui.qt_language import remember_choice
    from gradstep.ui.qt_main_window import QtMainWindow

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    remember_choice("en" if switch else code)
    window = QtMainWindow(Session)
    window.resize(1280, 800)
    window.show()
    run_example(qapp, window, "softmax_jacobian")
    window.model.choose_timeline(0)
    window.model.set_step(window.model.step_count // 2)
    if switch:
        window.grab().save(str(out / "before_switch.png"))
        window.set_language(code)
        settle(qapp, 600)
        window.grab().save(str(out / "switched.png"))
    settle(qapp, 400)
    for name, dock in window.docks.items():
        dock.raise_()
        settle(qapp, 300)
        window.grab().save(str(out / f"panel_{name}.png"))
    window.docks["values"].raise_()
    with_menu(qapp, window, window.view_menu, out / "menu_view.png", window.language_menu)
    with_menu(qapp, window, window.examples_menu, out / "menu_examples.png")
    run_example(qapp, window, "retain_graph_error")
    window.grab().save(str(out / "error_retain_graph.png"))
    window.docks["saved"].raise_()  # the graph's state words: the pass failed, what is freed
    settle(qapp, 300)
    window.grab().save(str(out / "error_retain_graph_saved.png"))
    window.docks["values"].raise_()
    run_example(qapp, window, "requires_grad_error")
    window.grab().save(str(out / "error_requires_grad.png"))
    window.editor.setPlainText(NAN_SNIPPET)
    window.files.mark_saved()
    window.run()
    wait_for(qapp, window.sigRunFinished)
    while window.runner.busy:
        wait_for(qapp, window.runner.sigBusyChanged, 60_000)
    window.diagnose_view.diagnose()
    settle(qapp, 800)
    window.grab().save(str(out / "diagnose.png"))
    print("saved", sorted(p.name for p in out.glob("*.png")))
    window.files.mark_saved()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
