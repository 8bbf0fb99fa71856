"""The Output panel: what the snippet printed, bounded so a flood cannot eat memory."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from gradstep.ui.qt_session_model import QtSessionModel

MAX_CHARS = 200_000  # beyond this only the tail is shown
MAX_LINES = 5_000


def bounded(text: str, limit: int = MAX_CHARS, max_lines: int = MAX_LINES) -> str:
    """Return ``text``, or its tail (at most ``limit`` characters and ``max_lines`` lines)
    after a note saying how much was cut."""
    tail = text[-limit:]
    lines = tail.split("\n")
    if len(lines) > max_lines:
        tail = "\n".join(lines[-max_lines:])
    if len(tail) == len(text):
        return text
    return f"[… {len(text) - len(tail)} earlier characters not shown …]\n" + tail


class QtOutputPanel(QtWidgets.QPlainTextEdit):
    """Read-only view of the last run's printed output."""

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES + 1)  # + the note saying what was cut
        self.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("What the snippet prints appears here.")
        model.sigTraceChanged.connect(self._refresh)

    def _refresh(self) -> None:
        self.setPlainText(bounded(self.model.output))
