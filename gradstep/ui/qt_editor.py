"""The snippet editor: line numbers, Python colours, the failing line marked with its error."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.ui.qt_highlighter import QtHighlighter


def is_dark(palette: QtGui.QPalette) -> bool:
    """Return True when the palette's base colour is dark."""
    return palette.color(QtGui.QPalette.ColorRole.Base).lightness() < 128


class _LineNumbers(QtWidgets.QWidget):
    """The gutter; it asks the editor to paint it."""

    def __init__(self, editor: QtEditor):
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self._editor.paint_gutter(event)


class QtEditor(QtWidgets.QPlainTextEdit):
    """A plain-text Python editor.

    Signals
    -------
    sigRunRequested()     Ctrl+Enter was pressed
    sigFileDropped(str)   a file was dropped on the editor (it is not run)
    """

    sigRunRequested = QtCore.Signal()
    sigFileDropped = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        self.setAcceptDrops(True)
        self.setPlaceholderText(self.tr("Type a PyTorch snippet, then press Ctrl+Enter to run it."))
        self._gutter = _LineNumbers(self)
        self.banner = QtWidgets.QLabel(self)  # the whole error, under the text, when it fails
        self.banner.setWordWrap(True)
        # cut to a third of the editor, it shows its start ("Line 13: RuntimeError: ..."),
        # not the middle of torch's message (a QLabel centres its text vertically)
        self.banner.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.banner.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.banner.setStyleSheet("QLabel { background: #fde7e7; color: #8e1212; "
                                  "border-top: 2px solid #d32f2f; padding: 4px 6px; }")
        self.banner.hide()
        self.banner.mousePressEvent = lambda _e: self.go_to_line(self.error_line or 1)
        self._highlighter = QtHighlighter(self.document(), dark=is_dark(self.palette()))
        self.error_line: int | None = None
        self.error_column: int | None = None
        self.error_text = ""
        self.pass_line: int | None = None
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self._update_gutter_width()

    # -- the error marker ---------------------------------------------------------------
    def set_error(self, line: int | None, text: str = "", column: int | None = None) -> None:
        """Mark 1-based ``line`` as failing with ``text`` written after it, and the character
        at 1-based ``column`` when given; None clears."""
        self.error_line = line if line and line >= 1 else None
        self.error_text = text if self.error_line else ""
        self.error_column = column if self.error_line and column and column >= 1 else None
        self._update_selections()
        self.banner.setText(self.tr("Line {0}: {1}").format(self.error_line, self.error_text)
                            if self.error_line else "")
        self.banner.setVisible(bool(self.error_line and self.error_text))
        self._place_banner()
        self.viewport().update()
        self._gutter.update()

    def set_pass_line(self, line: int | None) -> None:
        """Highlight 1-based ``line``: the snippet line whose backward pass is being stepped."""
        self.pass_line = line if line and line >= 1 else None
        self._update_selections()

    def _line_selection(self, line: int, colour: QtGui.QColor):
        block = self.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return None
        sel = QtWidgets.QTextEdit.ExtraSelection()
        sel.format.setBackground(colour)
        sel.format.setProperty(QtGui.QTextFormat.Property.FullWidthSelection, True)
        sel.cursor = QtGui.QTextCursor(block)
        return sel

    def _update_selections(self) -> None:
        """Colour the stepped pass's line (blue), the failing line (red) and its column."""
        selections = []
        if self.pass_line and self.pass_line != self.error_line:
            sel = self._line_selection(self.pass_line, QtGui.QColor(60, 130, 240, 55))
            if sel is not None:
                selections.append(sel)
        if self.error_line:
            sel = self._line_selection(self.error_line, QtGui.QColor(255, 80, 80, 70))
            if sel is not None:
                selections.append(sel)
                if self.error_column:
                    mark = QtWidgets.QTextEdit.ExtraSelection()
                    mark.format.setBackground(QtGui.QColor(211, 47, 47, 150))
                    mark.format.setUnderlineStyle(QtGui.QTextCharFormat.UnderlineStyle.WaveUnderline)
                    mark.format.setUnderlineColor(QtGui.QColor("#d32f2f"))
                    cursor = QtGui.QTextCursor(sel.cursor.block())
                    length = sel.cursor.block().length() - 1
                    column = min(self.error_column - 1, max(0, length - 1))
                    cursor.movePosition(QtGui.QTextCursor.MoveOperation.Right,
                                        QtGui.QTextCursor.MoveMode.MoveAnchor, column)
                    cursor.movePosition(QtGui.QTextCursor.MoveOperation.Right,
                                        QtGui.QTextCursor.MoveMode.KeepAnchor, 1)
                    mark.cursor = cursor
                    selections.append(mark)
        self.setExtraSelections(selections)

    def _place_banner(self) -> None:
        """Put the error banner across the bottom of the text area, tall enough for its text."""
        if not self.banner.isVisible():
            self.setViewportMargins(self.gutter_width(), 0, 0, 0)
            return
        cr = self.contentsRect()
        bar = self.horizontalScrollBar()
        bar_height = bar.height() if bar.isVisible() else 0
        # heightForWidth leaves out the stylesheet's padding and border: add them
        height = min(self.banner.heightForWidth(cr.width() - 12) + 14, cr.height() // 3)
        self.banner.setGeometry(cr.left(), cr.bottom() - bar_height - height + 1, cr.width(), height)
        self.setViewportMargins(self.gutter_width(), 0, 0, height)

    def go_to_line(self, line: int) -> None:
        """Put the cursor at the start of 1-based ``line`` and show it."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        self.setTextCursor(QtGui.QTextCursor(block))
        self.centerCursor()
        self.setFocus()

    # -- keys and drops -------------------------------------------------------------------
    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt override)
        enter = event.key() in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter)
        if enter and event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            self.sigRunRequested.emit()
            return
        if event.key() == QtCore.Qt.Key.Key_Tab and not event.modifiers():
            self.insertPlainText("    ")
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 (Qt override)
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.sigFileDropped.emit(urls[0].toLocalFile())
        else:
            super().dropEvent(event)

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.setPlaceholderText(self.tr("Type a PyTorch snippet, then press Ctrl+Enter to "
                                            "run it."))
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self._highlighter.set_dark(is_dark(self.palette()))
        if event.type() == QtCore.QEvent.Type.FontChange and hasattr(self, "banner"):
            # the banner (styled) kept its first font: View › Zoom left the error small
            self.banner.setFont(self.font())
            self._place_banner()
        super().changeEvent(event)

    # -- painting -----------------------------------------------------------------------------
    def gutter_width(self) -> int:
        """Return the gutter width in pixels for the current number of lines."""
        digits = len(str(max(1, self.blockCount())))
        return 14 + self.fontMetrics().horizontalAdvance("9") * max(2, digits)

    def _update_gutter_width(self, *_args) -> None:
        bottom = self.banner.height() if getattr(self, "banner", None) and self.banner.isVisible() else 0
        self.setViewportMargins(self.gutter_width(), 0, 0, bottom)

    def _update_gutter(self, rect: QtCore.QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QtCore.QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))
        self._place_banner()

    def paint_gutter(self, event: QtGui.QPaintEvent) -> None:
        """Paint line numbers; the failing line's number in red."""
        painter = QtGui.QPainter(self._gutter)
        pal = self.palette()
        painter.fillRect(event.rect(), pal.color(QtGui.QPalette.ColorRole.AlternateBase))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            number = block.blockNumber() + 1
            if block.isVisible():
                failing = number == self.error_line
                color = QtGui.QColor("#d32f2f") if failing else pal.color(
                    QtGui.QPalette.ColorRole.PlaceholderText)
                painter.setPen(color)
                painter.drawText(0, top, self._gutter.width() - 6, height,
                                 QtCore.Qt.AlignmentFlag.AlignRight, str(number))
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if self.error_line and self.error_text:
            self._paint_error_note()

    def _paint_error_note(self) -> None:
        """Write the error after the failing line's text, in red, clipped to the view."""
        block = self.document().findBlockByNumber(self.error_line - 1)
        if not block.isValid() or not block.isVisible():
            return
        geom = self.blockBoundingGeometry(block).translated(self.contentOffset())
        metrics = self.fontMetrics()
        x = metrics.horizontalAdvance(block.text()) + 4 * metrics.horizontalAdvance(" ")
        x += round(self.contentOffset().x()) + round(self.document().documentMargin())
        painter = QtGui.QPainter(self.viewport())
        painter.setPen(QtGui.QColor("#d32f2f"))
        text = "◀ " + " ".join(self.error_text.split())
        width = max(0, self.viewport().width() - x - 4)
        elided = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, width)
        painter.drawText(QtCore.QRectF(x, geom.top(), width, geom.height()),
                         QtCore.Qt.AlignmentFlag.AlignVCenter, elided)
        painter.end()
