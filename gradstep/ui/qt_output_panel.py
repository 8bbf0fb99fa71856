"""The Output panel: what the snippet printed, bounded so a flood cannot eat memory."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.i18n.output_note import worded_note
from gradstep.policies.output_cap import cap_text
from gradstep.ui.qt_session_model import QtSessionModel

MAX_CHARS = 200_000  # shown: the first 80 % and the last 20 % (gradstep.policies.output_cap)
MAX_LINES = 5_000


def bounded(text: str, limit: int = MAX_CHARS, max_lines: int = MAX_LINES) -> str:
    """Return ``text`` capped for the panel (at most ``limit`` characters and ``max_lines``
    lines, with a note where some were dropped)."""
    return cap_text(text, limit, max_lines=max_lines, note=worded_note)


class QtOutputPanel(QtWidgets.QPlainTextEdit):
    """Read-only view of the last run's printed output."""

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES + 3)  # + the note saying what was cut
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

    def text_height(self) -> int:
        """Return the height that shows the printed lines whole at the panel's width (its
        lines as wrapped, at least the one of the placeholder), the document's margins and
        the frame."""
        lines = max(1, round(self.document().size().height()))  # (counted in lines)
        margins = self.contentsMargins()
        return (lines * self.fontMetrics().lineSpacing() + round(2 * self.document().documentMargin())
                + margins.top() + margins.bottom())
