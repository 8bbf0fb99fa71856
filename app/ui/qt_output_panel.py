"""The Output panel: what the snippet printed, bounded so a flood cannot eat memory."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from app.ui.models import SessionModel

MAX_CHARS = 200_000  # beyond this only the tail is shown
MAX_LINES = 5_000


def bounded(text: str, limit: int = MAX_CHARS) -> str:
    """Return ``text``, or its last ``limit`` characters after a note saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} earlier characters not shown …]\n" + text[-limit:]


class QtOutputPanel(QtWidgets.QPlainTextEdit):
    """Read-only view of the last run's printed output."""

    def __init__(self, model: SessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("What the snippet prints appears here.")
        model.sigTraceChanged.connect(self._refresh)

    def _refresh(self) -> None:
        self.setPlainText(bounded(self.model.output))
