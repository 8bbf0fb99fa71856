"""A wrapped text row of fixed height whose new text does not make the panel ask every
label of it how tall it would be."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


def _wrapped(text: str, room: float, metrics: QtGui.QFontMetricsF) -> tuple[int, float]:
    """Return how many lines ``text`` takes word-wrapped at ``room`` px in ``metrics``' font
    (a plain bounding box, no rich-text layout), and its widest line's width."""
    rect = metrics.boundingRect(QtCore.QRectF(0, 0, max(1.0, room), 1e6),
                                QtCore.Qt.TextFlag.TextWordWrap, text)
    return max(1, round(rect.height() / metrics.lineSpacing())), rect.width()


class QtRowLabel(QtWidgets.QLabel):
    """A word-wrapped QLabel that, while its height is fixed, answers its layout's "how
    tall at this width" with that height, without laying its text out.

    A layout clamps the answer between the label's least and greatest height, so for a
    fixed height it is that height whatever the text: the same geometry. QLabel itself
    lays the (rich) text out twice for each ask, and a panel's layout asks again after
    every ``setText`` (Qt re-lays out the panel unless both width and height are fixed):
    ~1 ms of a backward step on the Values panel (docs/speed.md item 36).
    """

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        fixed = self.minimumHeight()
        if fixed == self.maximumHeight():
            return fixed
        return super().heightForWidth(width)

    def fix_lines(self, lines: int) -> None:
        """Fix the label's height at ``lines`` lines of its font (where it is not already)."""
        height = self.fontMetrics().lineSpacing() * lines + 4
        if self.minimumHeight() != height or self.maximumHeight() != height:
            self.setFixedHeight(height)

    def _lay_out(self) -> None:
        """Lay the text out again at a new width (a subclass that measures it)."""

    def _new_font(self) -> None:
        """Measure again in a new font (View › Zoom; a subclass that measures)."""

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._lay_out()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.FontChange:
            self._new_font()


class QtItemsLabel(QtRowLabel):
    """A QtRowLabel for a few short items (a value's statistics: ``min -0.0828``): it
    wraps between items only, never inside one (``std`` / ``0.2118``, ``标准`` / ``差``),
    by writing a line break where the next item would run past its width (again when it
    is resized or its font changes; an item's width is measured once and kept). Its text
    holds no invisible characters: what is copied from it is the items' words. An item
    wider than the label alone is wrapped by Qt, as any text.

    Signals
    -------
    sigLinesChanged(int)   the items now take this many lines (new items, a new width)
    """

    sigLinesChanged = QtCore.Signal(int)

    SEPARATOR = "   "

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[str] = []
        self._widths: dict[str, float] = {}  # item -> its advance in the label's font
        self._metrics: QtGui.QFontMetricsF | None = None  # the font's, until it changes
        self.line_count = 0  # the lines the items take at the label's width (shown_lines)

    def set_items(self, items: list[str]) -> None:
        """Show ``items``, ``SEPARATOR`` between two on one line."""
        self.items = list(items)
        self._lay_out()

    def _lay_out(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin() - 1  # (a pixel to spare)
        if self._metrics is None:  # made once per font, not on every step
            self._metrics = QtGui.QFontMetricsF(self.font())
        metrics = self._metrics
        space = self._width(self.SEPARATOR, metrics)
        lines: list[list[str]] = []
        used = 0.0
        for item in self.items:
            width = self._width(item, metrics)
            if lines and used + space + width <= room:
                lines[-1].append(item)
                used += space + width
            else:
                lines.append([item])
                used = width
        count = sum(self._lines_of(line, room, metrics) for line in lines)
        if count != self.line_count:
            self.line_count = count
            self.sigLinesChanged.emit(count)
        text = "\n".join(self.SEPARATOR.join(line) for line in lines)
        if text != self.text():
            self.setText(text)

    def _lines_of(self, line: list[str], room: float, metrics: QtGui.QFontMetricsF) -> int:
        """Return how many lines Qt writes ``line`` in: one, but an item alone wider than
        the label (a long message) wraps as Qt wraps words."""
        if len(line) > 1 or self._width(line[0], metrics) <= room:
            return 1
        return _wrapped(line[0], room, metrics)[0]

    def _width(self, text: str, metrics: QtGui.QFontMetricsF) -> float:
        width = self._widths.get(text)
        if width is None:
            if len(self._widths) > 256:  # a value's numbers: new ones each step
                self._widths.clear()
            width = self._widths[text] = metrics.horizontalAdvance(text)
        return width

    def _new_font(self) -> None:
        self._widths.clear()
        self._metrics = None
        self._lay_out()


class QtLinesLabel(QtRowLabel):
    """A QtRowLabel as high as its text's lines (1 to ``MOST_LINES``; more is cut), not two
    lines always: a one-line text left a line blank under it (~35 px at 1920 x 1080).

    Its line count is measured on the text's words without rich-text layout, with
    ``QFontMetricsF`` in the bold font (an upper bound: a word is never narrower in bold,
    so the text never takes more lines than counted): one advance when the text fits a
    line (the usual step), a plain word-wrapped bounding box otherwise; a count is kept
    per (words, width). Its height is set only when the count changes, so a step whose
    text takes as many lines lays nothing out again (docs/speed.md item 36).

    Signals
    -------
    sigLinesChanged(int)   it is now this many lines high
    """

    sigLinesChanged = QtCore.Signal(int)

    MOST_LINES = 3

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.words = text  # the text without its markup (what is measured)
        self.line_count = 0
        self._counts: dict[tuple[str, int], int] = {}
        self._metrics: QtGui.QFontMetricsF | None = None  # the bold font's, until it changes
        self._fit()

    def set_text(self, text: str, words: str | None = None) -> None:
        """Show ``text``; ``words``: the same without its markup (rich text), else ``text``."""
        self.words = text if words is None else words
        if text != self.text():
            self.setText(text)
        self._fit()

    def _lines(self) -> int:
        room = max(1, self.contentsRect().width() - 2 * self.margin() - 1)  # (a pixel to spare)
        key = (self.words, room)
        count = self._counts.get(key)
        if count is None:
            if self._metrics is None:
                bold = QtGui.QFont(self.font())
                bold.setBold(True)
                self._metrics = QtGui.QFontMetricsF(bold)
            metrics = self._metrics
            if metrics.horizontalAdvance(self.words) <= room:
                count = 1
            else:
                count, widest = _wrapped(self.words, room, metrics)
                if widest > room:  # a word wider than the label: Qt breaks it too
                    count = self.MOST_LINES
            if len(self._counts) > 256:  # new numbers each step
                self._counts.clear()
            self._counts[key] = count
        return min(count, self.MOST_LINES)

    def _fit(self) -> None:
        count = self._lines()
        if count != self.line_count:
            self.line_count = count
            self.fix_lines(count)
            self.sigLinesChanged.emit(count)

    def _lay_out(self) -> None:
        self._fit()

    def _new_font(self) -> None:
        self._counts.clear()
        self._metrics = None
        self.line_count = 0  # (the height follows the new font's line spacing)
        self._fit()
