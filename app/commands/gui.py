"""`gradstep [gui] [FILE] [--run]`: open the window (opening a file never runs it)."""

from __future__ import annotations

import os
import sys

SCREENSHOT_ENV = "GRADSTEP_SCREENSHOT"  # save a screenshot after the first paint, then quit
SCREENSHOT_DELAY_MS = 400


def _screenshot_when_ready(app, window, path: str, wait_for_run: bool) -> None:
    """Save ``window`` to ``path`` once it has painted (after the run when one was asked for)."""
    from PySide6 import QtCore

    def shoot() -> None:
        window.grab().save(path)
        app.quit()

    def later(*_args) -> None:
        QtCore.QTimer.singleShot(SCREENSHOT_DELAY_MS, shoot)

    if wait_for_run:
        window.sigBackwardFinished.connect(later)
        window.sigRunFinished.connect(
            lambda r: None if r.get("ok") and window.model.timeline is None else later())
    else:
        later()


def run(args) -> int:
    """Open the window; return the application's exit status."""
    from PySide6 import QtWidgets

    from app.ui.qt_main_window import QtMainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("gradstep")
    app.setOrganizationName("gradstep")
    window = QtMainWindow()
    if args.file and not window.open_file(args.file):
        print(f"gradstep: cannot open {args.file}", file=sys.stderr)
    if getattr(args, "device", None) and args.device != "cpu":
        index = window.device_selector.findData(args.device)
        if index >= 0 and window.device_selector.is_enabled(args.device):
            window.device_selector.blockSignals(True)
            window.device_selector.setCurrentIndex(index)
            window.device_selector.blockSignals(False)
    window.show()
    shot = os.environ.get(SCREENSHOT_ENV)
    if shot:
        _screenshot_when_ready(app, window, shot, wait_for_run=bool(args.run and args.file))
    if args.run and args.file:
        window.run()
    return app.exec()
