"""The Output panel: what the snippet printed, bounded so a flood cannot eat memory."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.ui.models import SessionModel
from gradstep.ui.words import tr

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
    return tr("[… {0} earlier characters not shown …]").format(len(text) - len(tail)) + "\n" + tail


class QtOutputPanel(QtWidgets.QPlainTextEdit):
    """Read-only view of the last run's printed output."""

    def __init__(self, model: SessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES + 1)  # + the note saying what was cut
        self.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText(self.tr("What the snippet prints appears here."))
        model.sigTraceChanged.connect(self._refresh)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.setPlaceholderText(self.tr("What the snippet prints appears here."))
            self._refresh()
        super().changeEvent(event)

    def _refresh(self) -> None:
        self.setPlainText(bounded(self.model.output))
