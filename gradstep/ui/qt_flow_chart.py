"""The gradient-flow chart: one bar per layer (or parameter), input side on the left.

Each bar is ``log10(|grad| / |weight|)`` (``grad_flow.FlowRow.ratio``); the lines mark
the vanishing threshold (``VANISHING_RELATIVE`` times the largest ratio) and the
exploding one (``EXPLODING_RATIO``). A flagged bar is hatched (vanishing: diagonal
lines, exploding: crossed, dead: dotted) and labelled with its kind above it, so no
flag is told by colour alone. A click on a bar emits its row.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.grad_flow import EXPLODING_RATIO, VANISHING_RELATIVE
from gradstep.ui.qt_tensor_plot import PLOT_TOP

BAR = "#4a78b5"
FLAG_LOOK = {  # kind -> (colour, brush pattern)
    "vanishing": ("#8e6fc4", QtCore.Qt.BrushStyle.BDiagPattern),
    "exploding": ("#c0392b", QtCore.Qt.BrushStyle.DiagCrossPattern),
    "dead": ("#7f8c8d", QtCore.Qt.BrushStyle.Dense4Pattern),
}
MAX_TICKS = 24  # names written under the bars; more bars: every k-th name
WORDS_UP_TO = 8  # bars labelled with words; more bars get a one-character tag (see LEGEND)
TAGS = {"vanishing": "↓", "exploding": "↑", "dead": "0"}
LABEL_GAP = 6  # pixels kept between two bars' names
X_FROM, X_TO = -0.7, -0.3  # the x range: first bar's centre - 0.7 to last bar's + 0.7


class QtFlowChart(pg.PlotWidget):
    """Bars of the gradient-to-weight ratio per row.

    Signals
    -------
    sigRowClicked(int)   the index of the bar the user clicked
    """

    sigRowClicked = QtCore.Signal(int)

    def __init__(self, parent=None):
        base = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Base)
        super().__init__(parent=parent, background=base)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.getPlotItem().layout.setContentsMargins(1, PLOT_TOP, 1, PLOT_TOP)  # end ticks' texts
        self.rows: list = []
        self.flags: dict[int, str] = {}
        self._items: list = []
        text = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Text)
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen(text)
            self.getAxis(axis).setPen(text)
        self.getAxis("left").enableAutoSIPrefix(False)
        self.setLabel("left", self.tr("log10 |grad| / |weight|"))  # (set again on a switch)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.setMinimumHeight(180)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "rows", None) and event.oldSize().width() != event.size().width():
            self.set_rows(self.rows, self.flags)  # names and labels fitted to the new room

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.setLabel("left", self.tr("log10 |grad| / |weight|"))
        super().changeEvent(event)

    def set_rows(self, rows: list, flags: dict[int, str]) -> None:
        """Draw ``rows`` (FlowRow, input side first); ``flags`` maps a row index to its kind."""
        self.rows, self.flags = list(rows), dict(flags)
        for item in self._items:
            self.removeItem(item)
        self._items = []
        heights = [_log_ratio(r) for r in self.rows]
        known = [h for h in heights if h is not None]
        if not self.rows:
            self._add(pg.TextItem(self.tr("no gradients yet"), anchor=(0.5, 0.5)))
            self.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
            self.getAxis("bottom").setTicks([[]])
            return
        if not known:  # every gradient holds NaN/Inf (or none flowed): no ratio to draw
            floor, top = -1.0, 1.0
        else:
            floor = math.floor(min(known + [math.log10(EXPLODING_RATIO)]) - 1)
            top = max(known + [math.log10(EXPLODING_RATIO)]) + 1.6
        for index, height in enumerate(heights):
            if height is not None:
                self._bar(index, floor, height)
            self._flag_text(index, height if height is not None else floor + 0.2)
        if known:
            self._threshold_lines(known)
        self._ticks()
        self.setXRange(X_FROM, len(self.rows) + X_TO, padding=0)
        self.setYRange(floor, top, padding=0)

    def _bar(self, index: int, floor: float, height: float) -> None:
        kind = self.flags.get(index)
        colour, pattern = FLAG_LOOK.get(kind, (BAR, QtCore.Qt.BrushStyle.SolidPattern))
        brush = QtGui.QBrush(QtGui.QColor(colour), pattern)
        pen = pg.mkPen(colour, width=1.5)
        self._add(pg.BarGraphItem(x=[index], y0=[floor], height=[height - floor], width=0.7,
                                  brush=brush, pen=pen))

    def _flag_text(self, index: int, height: float) -> None:
        kind = self.flags.get(index)
        row = self.rows[index]
        label = {"vanishing": self.tr("vanishing"), "exploding": self.tr("exploding"),
                 "dead": self.tr("dead")}.get(kind)
        if kind and len(self.rows) > WORDS_UP_TO:
            label = TAGS[kind]
        if row.nonfinite:
            label = self.tr("NaN/Inf")
        elif row.grad_norm is None:
            label = self.tr("no grad")
        if label:
            colour = FLAG_LOOK.get(kind, ("#c0392b", None))[0]
            # a word wider than a bar's room reads upward: side by side the bars' "NaN/Inf"
            # ran together (a GPT-2 with NaN everywhere: 15 bars in a 380 px chart)
            upward = not kind and self.fontMetrics().horizontalAdvance(label) + LABEL_GAP > self._bar_room()
            anchor = (0.0, 0.5) if upward else (0.5, 1.0) if kind else (0.5, 0.0)
            item = pg.TextItem(label, color=colour, anchor=anchor, angle=90 if upward else 0)
            item.setPos(index, height)
            self._add(item)

    def _bar_room(self) -> float:
        """Return the pixels between two bars' centres (the chart's width over the bars)."""
        width = self.getPlotItem().vb.width() or self.width()
        return width / max(1.0, len(self.rows) + X_TO - X_FROM)

    @staticmethod
    def legend() -> str:
        """Return the words for the bar looks and tags (shown under the chart)."""
        return QtCore.QCoreApplication.translate(
            "QtFlowChart", "↓ vanishing (hatched /)   ↑ exploding (crossed)   0 dead (dotted)")

    def _threshold_lines(self, known: list[float]) -> None:
        calm = [h for h in known if h <= math.log10(EXPLODING_RATIO)]
        lines = [(math.log10(EXPLODING_RATIO), self.tr("exploding above"))]
        if calm:
            lines.append((max(calm) + math.log10(VANISHING_RELATIVE), self.tr("vanishing below")))
        for y, text in lines:
            line = pg.InfiniteLine(pos=y, angle=0, pen=pg.mkPen("#888888", style=QtCore.Qt.PenStyle.DashLine),
                                   label=text, labelOpts={"position": 0.02, "color": "#666666",
                                                          "anchors": [(0, 1), (0, 1)]})
            self._add(line)

    def _ticks(self) -> None:
        """Name every k-th bar, k as small as lets each name keep clear of the next: the names
        ran into each other where 15 bars had less room than a name (a GPT-2's modules)."""
        metrics = self.fontMetrics()
        names = [_short(r.name) for r in self.rows]
        widths = [metrics.horizontalAdvance(name) for name in names]
        room = max(1.0, self._bar_room())
        every = max(1, math.ceil(len(names) / MAX_TICKS),
                    math.ceil((max(widths, default=0) + LABEL_GAP) / room))

        def fits(i: int) -> bool:  # pyqtgraph drops a name that would cross an edge
            half = widths[i] / 2
            return (i - X_FROM) * room >= half and (len(names) + X_TO - i) * room >= half

        start = next((i for i in range(min(every, len(names))) if fits(i)), 0)
        ticks = [(i, names[i]) for i in range(start, len(names), every) if fits(i)]
        self.getAxis("bottom").setTicks([ticks])

    def _add(self, item) -> None:
        self.addItem(item)
        self._items.append(item)

    def row_at(self, x: float) -> int | None:
        """Return the index of the bar at view coordinate ``x`` (None off the bars)."""
        index = round(x)
        return index if 0 <= index < len(self.rows) and abs(x - index) <= 0.45 else None

    def _on_click(self, event) -> None:
        point = self.getPlotItem().vb.mapSceneToView(event.scenePos())
        index = self.row_at(point.x())
        if index is not None:
            self.sigRowClicked.emit(index)


def _log_ratio(row) -> float | None:
    ratio = row.ratio
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return None
    return math.log10(ratio)


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1):]
