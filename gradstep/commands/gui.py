"""`gradstep [gui] [FILE] [--run]`: open the window (opening a file never runs it).

`gradstep gui --data FILE` (``-``: standard input) opens it on a graph and its passes
sent as data by ``gradstep.show`` from the user's own program (``ui/shown_data.py``).

Where no window can be opened (no display, Qt's platform plugin failing) the
command says so in one line and exits with status 2, instead of letting Qt abort.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from gradstep.display import HEADLESS_FIX, NO_WINDOW, display_problem
from gradstep.drawing.formats import unwritten
from gradstep.i18n import _
from gradstep.none_guard import protect_none
from gradstep.policies.gc_pause import freeze_intakes
from gradstep.policies.whole_file import replacing
from gradstep.ui.qt_icons import app_icon
from gradstep.ui.qt_main_window import QtMainWindow

__all__ = ["HEADLESS_FIX", "NO_WINDOW", "display_problem", "run"]

SCREENSHOT_ENV = "GRADSTEP_SCREENSHOT"  # save a screenshot after the first paint, then quit
SCREENSHOT_DELAY_MS = 400


def _platform_failure(messages: list[str]) -> str:
    """Return one line for Qt's messages when its platform plugin could not start."""
    text = "\n".join(messages)
    if "could not connect to display" in text:
        reason = _("cannot connect to the display DISPLAY={display}",
                   display=os.environ.get("DISPLAY", ""))
    elif "xcb-cursor0" in text:
        reason = _("Qt's xcb plugin needs the system library libxcb-cursor0 (apt install "
                   "libxcb-cursor0)")
    else:
        reason = (messages[-1] if messages else _("Qt could not start")).splitlines()[0]
    return _("gradstep: cannot open the window: {reason}; {fix}", reason=reason,
             fix=_(HEADLESS_FIX))


def _make_application():
    """Return the QApplication; exit with one clear line (status 2) where Qt cannot start one.

    Qt aborts the process (SIGABRT) when its platform plugin fails; a message
    handler sees the fatal message first and exits cleanly instead.
    """
    app = QtWidgets.QApplication.instance()
    if app is not None:
        return app
    seen: list[str] = []

    def on_message(mode, _context, message: str) -> None:
        seen.append(message)
        if mode == QtCore.QtMsgType.QtFatalMsg:
            print(_platform_failure(seen), file=sys.stderr, flush=True)
            os._exit(NO_WINDOW)

    previous = QtCore.qInstallMessageHandler(on_message)
    try:
        app = QtWidgets.QApplication(sys.argv[:1])
    finally:
        QtCore.qInstallMessageHandler(previous)
    for message in seen:  # warnings of a start that worked after all: show them as Qt would
        print(message, file=sys.stderr)
    return app


def _close_on_ctrl_c(window) -> None:
    """Make Ctrl+C in the terminal close the window (saving the text) instead of being ignored.

    Python handles signals only when it runs; the timer lets it run while Qt waits.
    """
    signal.signal(signal.SIGINT, lambda *_: window.close())
    timer = QtCore.QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def _screenshot_when_ready(app, window, path: str, wait_for_run: bool) -> None:
    """Save ``window`` to ``path`` once it has painted (after the run when one was asked for)."""
    def shoot() -> None:
        try:
            with replacing(path) as into:  # whole or not at all
                if not window.grab().save(str(into)):  # the same suffix: the same format
                    raise unwritten(path)  # Qt only said it failed: the old file stays
        except (OSError, ValueError) as exc:  # said; the window quits all the same
            print(unwritten(path, exc) if isinstance(exc, OSError) else exc, file=sys.stderr)
        finally:
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
    if args.file and not Path(args.file).exists():
        print(_("gradstep: No such file: {file}. Check the path and the spelling (it is "
                "relative to the current folder).", file=args.file), file=sys.stderr)
        return NO_WINDOW
    shown = None
    if getattr(args, "data", None):  # a graph sent by gradstep.show (gradstep.window_data)
        from gradstep.window_data import read_shown_data

        try:
            shown = read_shown_data(args.data)
        except ValueError as exc:
            print(f"gradstep: {exc}", file=sys.stderr)
            return NO_WINDOW
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return NO_WINDOW
    protect_none()  # PySide6 6.12 on Python 3.11 drops a reference to None per void call
    freeze_intakes()  # this process is the window's alone: a big graph is frozen, not walked
    app = _make_application()

    app.setApplicationName("gradstep")
    app.setOrganizationName("gradstep")
    app.setDesktopFileName("gradstep")  # matches gradstep.desktop (Wayland finds the icon by it)
    app.setWindowIcon(app_icon())
    if shown is not None:
        from gradstep.ui.shown_data import shown_window

        window = shown_window(shown)
    else:
        window = QtMainWindow()
    _close_on_ctrl_c(window)
    if args.file and not window.open_file(args.file):
        print(_("gradstep: cannot open {file}", file=args.file), file=sys.stderr)
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
