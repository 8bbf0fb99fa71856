"""The Errors panel: torch's message, the plain explanation, the fix; a click jumps to the line."""

from __future__ import annotations

import html

from PySide6 import QtCore, QtWidgets

from app.ui.models import SessionModel


def error_html(err: dict) -> str:
    """Return the error as HTML: title, line, torch's message, explanation, fix."""
    esc = html.escape
    where = f"line {err['line']}" if err.get("line") else "no line"
    parts = [f"<h3 style='color:#d32f2f'>{esc(err.get('title') or err.get('type') or 'Error')}</h3>",
             f"<p><a href='line:{err.get('line') or 0}'>{where}</a>"
             + (f": <code>{esc(err['code'])}</code>" if err.get("code") else "") + "</p>",
             f"<p><b>{esc(err.get('type') or '')}</b>: {esc(err.get('message') or '')}</p>"]
    if err.get("explanation"):
        parts.append(f"<p><b>What happened.</b> {esc(err['explanation'])}</p>")
    if err.get("fix"):
        parts.append(f"<p><b>How to fix it.</b> {esc(err['fix'])}</p>")
    return "".join(parts)


class QtErrorsPanel(QtWidgets.QTextBrowser):
    """Shows the model's error.

    Signals
    -------
    sigJumpToLine(int)   the user clicked the error's line
    """

    sigJumpToLine = QtCore.Signal(int)

    def __init__(self, model: SessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_link)
        model.sigTraceChanged.connect(self._refresh)
        model.sigTimelineChanged.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        err = self.model.error
        self.setHtml(error_html(err) if err else "<p>No errors.</p>")

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().mouseReleaseEvent(event)
        # a click anywhere on the error (not only the link) goes to its line
        err = self.model.error
        if err and err.get("line") and not self.anchorAt(event.position().toPoint()):
            self.sigJumpToLine.emit(int(err["line"]))

    def _on_link(self, url) -> None:
        text = url.toString()
        if text.startswith("line:") and int(text[5:]) > 0:
            self.sigJumpToLine.emit(int(text[5:]))
