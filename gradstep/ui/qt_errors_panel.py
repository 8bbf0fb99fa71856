"""The Errors panel: torch's message, the plain explanation, the fix; a click jumps to the line."""

from __future__ import annotations

import html
import math
import re

from PySide6 import QtCore, QtWidgets

from gradstep.ui.error_words import for_window
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.words import tr


def _with_code(text: str) -> str:
    """Return gradstep's own words as HTML, a `code` span in the code font (the words mark
    code with backticks, as the command line prints them; a panel showed the backticks)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def error_html(err: dict) -> str:
    """Return the error as HTML: title, where (a link to the line), torch's message,
    explanation, fix, worded for the window (``error_words.for_window``)."""
    esc = html.escape
    err = for_window(err)
    title = err.get("title") or err.get("type") or tr("Error")
    parts = [f"<h3 style='color:#d32f2f'>{esc(title)}</h3>"]
    if err.get("line"):
        where = esc(tr("line {0}").format(err["line"]))
        parts.append(f"<p><a href='line:{err['line']}'>{where}</a>"
                     + (f": <code>{esc(err['code'])}</code>" if err.get("code") else "") + "</p>")
    elif "pass" in err:  # raised in a pass gradstep ran, not on a snippet line
        parts.append("<p>" + esc(tr("in the backward pass gradstep ran from the root (Backward "
                                    "again), not on a line of the snippet")) + "</p>")
    kind = err.get("type") if err.get("type") not in (None, "", "None") else ""
    parts.append(f"<p>{f'<b>{esc(kind)}</b>: ' if kind else ''}{esc(err.get('message') or '')}</p>")
    if err.get("explanation"):
        what = esc(tr("What happened."))
        parts.append(f"<p><b>{what}</b> {_with_code(err['explanation'])}</p>")
    if err.get("fix"):
        how = esc(tr("How to fix it."))
        parts.append(f"<p><b>{how}</b> {_with_code(err['fix'])}</p>")
    return "".join(parts)


class QtErrorsPanel(QtWidgets.QTextBrowser):
    """Shows the model's error.

    Signals
    -------
    sigJumpToLine(int)   the user clicked the error's line
    sigShown(bool)       it now shows an error (True) or "No errors." (False)
    """

    sigJumpToLine = QtCore.Signal(int)
    sigShown = QtCore.Signal(bool)  # an error's text came (True: also another's), or went

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_link)
        self.empty = True  # "No errors." is shown
        self.setMinimumHeight(self.empty_height())  # the dock may be that low (fit_error_room)
        model.sigTraceChanged.connect(self._refresh)
        model.sigTimelineChanged.connect(self._refresh)
        model.sigStepChanged.connect(self._refresh)
        self._refresh()

    def _refresh(self, *_args) -> None:
        err = self.model.error
        html_text = error_html(err) if err else "<p>" + self.tr("No errors.") + "</p>"
        changed = html_text != getattr(self, "_shown", None)
        if changed:  # steps seldom change it: no re-layout
            self._shown = html_text
            self.setHtml(html_text)
        if self.empty != (not err) or (changed and err):  # (another error: its own room)
            self.empty = not err
            self.sigShown.emit(bool(err))

    def empty_height(self) -> int:
        """Return the height that shows "No errors." whole: its line, the document's margins,
        the paragraph's and the frame."""
        doc = self.document()
        return (self.fontMetrics().lineSpacing() + math.ceil(2 * doc.documentMargin())
                + 2 * self.frameWidth() + 2 * self.fontMetrics().height() // 3)

    def text_height(self) -> int:
        """Return the height that shows the text shown now whole at the panel's width: the
        document laid out beside a scroll bar (Qt hides the bar only once the text laid out
        so fits: a text that fitted without it kept it, and 13 px scrolled), and the
        frame."""
        bar = self.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        doc = self.document().clone()
        doc.setTextWidth(self.contentsRect().width() - bar)
        return math.ceil(doc.size().height()) + 2 * self.frameWidth()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self._refresh()
        elif event.type() == QtCore.QEvent.Type.FontChange:  # View › Zoom
            self.setMinimumHeight(self.empty_height())
        super().changeEvent(event)

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
