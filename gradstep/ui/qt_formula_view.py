"""The local gradient of the focus node as formulas: part of the Values panel.

For the ▶ node (or the one clicked) and each input it sends a gradient to: the readable
formula (``∂L/∂xᵢ = 2(xᵢ − yᵢ)/n · g``) with what each letter stands for and its
numbers, what that gives next to what torch sent, and torch's own expression from
derivatives.yaml with the small numbers written in. Saved names are links: a click
shows that buffer in the Saved tensors panel (``sigSavedClicked``). Nodes without a
formula say why; a custom ``autograd.Function`` shows the source of its ``backward``.
Everything comes from ``gradstep.autograd.formula_step.formulas_at`` (pure).
"""

from __future__ import annotations

import html
import math

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.ui.qt_mark_font import with_marks

LINES = 14  # the view's height in text lines at most (the room it may take: ``lines``)
MIN_LINES = 4  # ... or fewer where the panel is short (``fit_lines``), but never less
CODE = "font-family: monospace;"


class QtFormulaView(QtWidgets.QTextBrowser):
    """Shows ``formulas_at``'s answer for one node as rich text.

    Signals
    -------
    sigSavedClicked(str)   a saved value's name was clicked (show it in the Saved panel)
    """

    sigSavedClicked = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.anchorClicked.connect(self._on_link)
        self.shown: dict | None = None
        self._runs_now = False  # the node shown is the step about to run (show_formulas)
        self._heights: dict[tuple, int] = {}  # (font, margin, lines) -> the text's height
        self.lines = LINES
        # the tallest text shown since ``forget_heights`` (px): the view is that high (within
        # ``lines``), so a short formula leaves no blank and a step back and forth among a
        # graph's nodes does not move the plots under it (it was 14 lines, ~9 blank, always)
        self._tallest = 0
        self._fit_height()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.FontChange:  # View › Zoom: keep LINES lines
            self._tallest = 0  # (measured in the old letters: back from 150% the box kept
            self._fit_height()  # the zoomed text's height, blank under it)
            self._grow_to_text()

    def _fit_height(self) -> None:
        height = min(self.height_of(self.lines), max(self.height_of(MIN_LINES), self._tallest))
        if height != self.maximumHeight() or height != self.minimumHeight():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width() and self._tallest:
            # its lines wrap anew: taller where the text now needs it, never lower (at 1280 x
            # 800 the panel's scroll bar comes and goes within a step, 14 px: forgetting the
            # tallest there dropped the box to 4 lines under a step's short message and up
            # again, and left it lower after a shorter formula; the plots under it jumped)
            self._grow_to_text()

    def forget_heights(self) -> None:
        """Let the view be as low as the next texts need (a new graph: its own formulas)."""
        self._tallest = 0
        self._html = None  # the next text is measured, even the same as the last graph's
        self._fit_height()

    def _grow_to_text(self) -> None:
        """Be as high as the text shown now needs (whole, unscrolled), if that is more than
        any before it, within ``lines``: laid out beside a scroll bar (Qt keeps one until the
        text so laid out fits)."""
        doc = self.document()
        if self.verticalScrollBar().isVisible():
            need = doc.size().height()
        else:
            bar = self.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent,
                                           None, self)
            narrow = doc.clone()
            narrow.setTextWidth(max(1, self.viewport().width() - bar))
            need = narrow.size().height()
        need = math.ceil(need) + 2 * self.frameWidth()
        if need > self._tallest:
            self._tallest = need
            self._fit_height()

    def height_of(self, lines: int) -> int:
        """Return the view's height when it shows ``lines`` text lines whole: measured on
        a text laid out as the formulas are (a bold title, a line in italics, then a
        paragraph 6 px lower whose second line is a large formula: ``sample_html``), with
        the document's margins and the frame (``lineSpacing * lines + 10`` cut the 4th line
        a few pixels short, and it scrolled)."""
        font, margin = self.document().defaultFont(), self.document().documentMargin()
        key = (font.key(), margin, lines)
        if key not in self._heights:  # a resize asks often; a zoom or a style changes it
            doc = QtGui.QTextDocument()
            doc.setDefaultFont(font)
            doc.setDocumentMargin(margin)
            doc.setHtml(sample_html(lines))
            self._heights[key] = math.ceil(doc.size().height())
        return self._heights[key] + 2 * self.frameWidth()

    def seen_lines(self) -> int:
        """Return how many of the text's lines the view shows whole, as it is scrolled."""
        bottom = self.viewport().height() + self.verticalScrollBar().value()
        return sum(1 for end in self._line_bottoms() if end <= bottom)

    def text_lines(self) -> int:
        """Return how many lines the text is laid out in (at the view's width)."""
        return len(self._line_bottoms())

    def _line_bottoms(self) -> list[float]:
        return [bottom for _top, bottom in self._line_spans()]

    def _line_spans(self) -> list[tuple[float, float]]:
        """Return each text line's (top, bottom) in the document."""
        return list(self._each_line_span())

    def _each_line_span(self):
        """Yield each text line's (top, bottom) in the document, in the document's order."""
        layout = self.document().documentLayout()
        block = self.document().begin()
        while block.isValid():
            top = layout.blockBoundingRect(block).top()
            lines = block.layout()
            for i in range(lines.lineCount()):
                line = lines.lineAt(i)
                yield top + line.y(), top + line.y() + line.height()
            block = block.next()

    def cut_line_top(self) -> int | None:
        """Return where, in the viewport, the line its foot cuts starts (None: none is cut):
        ``paintEvent`` leaves it out. The height fits whole lines of ``sample_html``; a
        node's real lines (no large formula among the first, other fonts) are a little
        shorter, and the next line's top showed as a sliver under them."""
        scroll = self.verticalScrollBar().value()
        bottom = self.viewport().height() + scroll
        whole = False  # a whole line shown above it (else the cut one is all there is to see)
        # (on every paint: with no table in the text its lines go down the page, and the
        # walk stops at the first line below the foot; a table's cells sit side by side)
        in_order = not self.document().rootFrame().childFrames()
        for top, end in self._each_line_span():
            if top < bottom < end:
                return math.ceil(top) - scroll if whole else None
            if in_order and top >= bottom:  # this line and all after it below the foot
                return None
            whole = whole or (scroll <= top and end <= bottom)
        return None

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        top = self.cut_line_top()
        if top is not None:  # its whole self is there once scrolled to
            painter = QtGui.QPainter(self.viewport())
            painter.fillRect(0, top, self.viewport().width(), self.viewport().height() - top,
                             self.palette().brush(QtGui.QPalette.ColorRole.Base))
            painter.end()

    def fit_lines(self, lines: int) -> None:
        """Be ``lines`` text lines high (``MIN_LINES`` to ``LINES``); the rest scrolls."""
        lines = max(MIN_LINES, min(LINES, lines))
        if lines != self.lines:
            self.lines = lines
            self._fit_height()

    def fit_height(self, room: int) -> None:
        """Be as many text lines high as ``room`` pixels hold whole (``MIN_LINES`` to
        ``LINES``): the Values panel's height shared out when it is resized, never on a
        step."""
        lines = MIN_LINES
        while lines < LINES and self.height_of(lines + 1) <= room:
            lines += 1
        self.fit_lines(lines)

    def _on_link(self, url: QtCore.QUrl) -> None:
        if url.scheme() == "saved":
            self.sigSavedClicked.emit(url.path())

    # -- content ---------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.shown = None
        self._set_html(f"<p style='color: gray'>{html.escape(text)}</p>")

    def show_formulas(self, shown: dict, runs_now: bool = False) -> None:
        """Show ``formulas_at``'s answer (see ``gradstep.autograd.formula_step``);
        ``runs_now``: the node is the step about to run, so what torch sends is told as
        what it sends when it runs (it has sent nothing yet), as the Values panel's
        "Gradient it sends when it runs" is."""
        self.shown, self._runs_now = shown, runs_now
        self._set_html(self.formulas_html(shown))

    def _set_html(self, text: str) -> None:
        if text != getattr(self, "_html", None):  # laying out rich text is the costly part
            self._html = text
            self.setHtml(with_marks(text, self.font()))  # x̂ whole (qt_mark_font)
            if self._tallest < self.height_of(self.lines):  # (at the most: nothing to grow to)
                self._grow_to_text()

    def formulas_html(self, shown: dict) -> str:
        """Return the rich text for ``formulas_at``'s answer."""
        title = self.tr("Local gradient of {0}").format(html.escape(shown["name"]))
        parts = [f"<b>{title}</b>"]
        if not shown["available"]:
            why = self.tr("No formula: {0}.").format(shown["reason"] or "")  # tr outside f-strings:
            parts.append(f"<p>{html.escape(why)}</p>")  # pyside6-lupdate does not look inside them
            parts.append(self._custom_html(shown.get("custom")))
            return "".join(parts)
        if shown.get("about"):
            parts.append(f"<br><i>{html.escape(shown['about'])}</i>")
        if shown.get("where"):
            where = self.tr("where {0}").format(shown["where"])
            parts.append(f"<br>{html.escape(where)}")
        # the inputs a gradient flows to first: those are the lesson
        inputs = sorted(shown["inputs"], key=lambda item: not item["flows"])
        parts.extend(self._input_html(item) for item in inputs)
        return "".join(parts)

    def _input_html(self, item: dict) -> str:
        target = self.tr(" → {0}").format(html.escape(item["to"])) if item.get("to") else ""
        head = self.tr("to {0} (slot {1}{2})").format(
            f"<b>{html.escape(item['input'])}</b>", _slot_text(item["slot"]), target)
        if not item["flows"]:
            quiet = self.tr("{0}: no gradient flows here (this input needs none)").format(head)
            return f"<p style='margin-top: 6px; color: gray'>{quiet}</p>"
        lines = [head]
        if not item["implemented"]:
            lines.append(self.tr("torch has no derivative for this input: backward raises if one is needed"))
        if item["math"]:
            lines.append(f"<span style='font-size: large'>{html.escape(item['math'])}</span>")
            letters = [self._letter_html(letter) for letter in item["letters"]]
            if letters:
                lines.append(self.tr("with {0}").format("; ".join(letters)))
        result = item.get("result")
        if result is not None:
            lines.append(self._result_html(result))
        lines.append(self.tr("torch: {0}").format(f"<span style='{CODE}'>{html.escape(item['expression'])}</span>"))
        if item.get("substituted"):
            lines.append(self.tr("with its numbers: {0}").format(
                f"<span style='{CODE}'>{html.escape(item['substituted'])}</span>"))
        lettered = {letter["means"] for letter in item["letters"]}
        saved = [self._name_html(name) for name in item["names"]
                 if name["exposed"] and name["saved"] not in lettered]
        if saved:
            lines.append(self.tr("also saved: {0}").format(", ".join(saved)))
        return "<p style='margin-top: 6px'>" + "<br>".join(lines) + "</p>"

    def _letter_html(self, letter: dict) -> str:
        if letter["means"] == "grad":
            means = self.tr("the gradient arriving")
        else:
            means = _link(letter["means"])
        value = self._value_text(letter)
        return f"{html.escape(letter['letter'])} = {means}" + (f" = {value}" if value else "")

    def _name_html(self, name: dict) -> str:
        value = self._value_text(name)
        text = _link(name["saved"]) if name["saved"] else html.escape(name["text"])
        return text + (f" = {value}" if value else "")

    def _value_text(self, known: dict) -> str:
        """Return a value as text with its state: numbers, a shape, freed, remembered."""
        state = known.get("state")
        if known.get("value") is not None:
            text = html.escape(known["value"])
            if state == "remembered":
                text += " " + self.tr("(freed now; read before the pass freed it)")
            return text
        if state == "freed":
            return self.tr("(freed)")
        if state == "hidden":
            return self.tr("(kept by torch, not visible from Python)")
        shape = known.get("shape")
        if shape is not None:
            return self.tr("a tensor of shape {0}").format(_shape_text(shape))
        return ""

    def _result_html(self, result: dict) -> str:
        mine = result["formula"] or self.tr("a tensor of shape {0}").format(_shape_text(result["shape"]))
        runs_now = self._runs_now
        if result["agrees"] and result["torch"] not in (None, mine):
            # close enough to agree (_close), but the numbers written differ: both shown
            words = (self.tr("= {0}; torch sends {1} when it runs: they agree within 0.01% "
                             "(or 1e-6) ✓") if runs_now
                     else self.tr("= {0}; torch sent {1}: they agree within 0.01% (or 1e-6) ✓"))
            text = words.format(html.escape(mine), html.escape(result["torch"]))
        elif result["agrees"]:
            words = (self.tr("= {0}, which is what torch sends when it runs ✓") if runs_now
                     else self.tr("= {0}, which is what torch sent ✓"))
            text = words.format(html.escape(mine))
        else:
            torch_sent = result["torch"] or self.tr("a large tensor")
            words = (self.tr("= {0}; torch sends {1} when it runs") if runs_now
                     else self.tr("= {0}; torch sent {1}"))
            text = words.format(html.escape(mine), html.escape(torch_sent))
        return f"<b>{text}</b>"

    def _custom_html(self, custom: dict | None) -> str:
        if not custom:
            return ""
        if not custom.get("source"):
            return f"<p>{html.escape(custom.get('reason') or '')}</p>"
        where = self.tr("{0}.backward, {1} line {2}:").format(
            custom["function"], custom.get("file") or "", custom.get("line") or "?")
        return (f"<p>{html.escape(where)}</p><pre style='{CODE}'>"
                f"{html.escape(custom['source'].rstrip())}</pre>")


def sample_html(lines: int) -> str:
    """Return ``lines`` lines of rich text laid out as ``formulas_html`` lays out a node's
    first input: the bold title, the italic "about" line, then a paragraph with the input's
    head, its formula in the large font and the lines under it."""
    rows = ["<b>M</b>", "<i>M</i>", "M", "<span style='font-size: large'>M</span>"]
    rows += ["M"] * max(0, lines - len(rows))
    rows = rows[:max(1, lines)]
    head, rest = rows[:2], rows[2:]
    text = "<br>".join(head)
    if rest:
        text += "<p style='margin-top: 6px'>" + "<br>".join(rest) + "</p>"
    return text


def _link(name: str) -> str:
    return f"<a href='saved:{html.escape(name, quote=True)}'>{html.escape(name)}</a>"


def _slot_text(slot) -> str:
    if isinstance(slot, list):
        return ", ".join(str(s) for s in slot)
    return "?" if slot is None else str(slot)


def _shape_text(shape) -> str:
    return "×".join(str(s) for s in shape) if shape else "[]"
