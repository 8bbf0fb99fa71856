"""One tensor drawn with pyqtgraph: a number, bars, a heatmap or a histogram."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from app.ui.summaries import as_value, flatten, fmt, stats


def plot_kind(value: dict | None) -> str:
    """Return how to draw a value: none, scalar, bars, heatmap, histogram or stats."""
    if not value:
        return "none"
    if value.get("data") is None:
        return "stats"
    ndim = len(value.get("shape") or [])
    if ndim == 0:
        return "scalar"
    return {1: "bars", 2: "heatmap"}.get(ndim, "histogram")


class QtTensorPlot(QtWidgets.QWidget):
    """A title, a plot (or a big number) and the statistics of one tensor."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.kind = "none"
        self.values = np.zeros(0)
        self._title = QtWidgets.QLabel(f"<b>{title}</b>")
        self._number = QtWidgets.QLabel()
        self._number.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self._number.font()
        font.setPointSize(font.pointSize() + 6)
        self._number.setFont(font)
        self._stats = QtWidgets.QLabel()
        self._stats.setWordWrap(True)
        self._stats.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self._plot = pg.PlotWidget(background=self._colour("Base"))
        self._plot.setMinimumHeight(120)
        self._plot.setMaximumHeight(170)
        self._plot.setMenuEnabled(False)
        self._colorbar = None
        self._style_axes()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        for w in (self._title, self._number, self._plot, self._stats):
            layout.addWidget(w)
        self.set_value(None)

    def _colour(self, role: str):
        """Return the palette colour ``role`` (so plots follow a light or dark theme)."""
        from PySide6 import QtGui

        return self.palette().color(getattr(QtGui.QPalette.ColorRole, role))

    def _style_axes(self) -> None:
        pen = pg.mkPen(self._colour("Text"))
        for name in ("left", "bottom"):
            axis = self._plot.getPlotItem().getAxis(name)
            axis.setPen(pen)
            axis.setTextPen(pen)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self._plot.setBackground(self._colour("Base"))
            self._style_axes()
        super().changeEvent(event)

    def set_value(self, x) -> None:
        """Show ``x`` (value dict, nested list, number or None)."""
        value = as_value(x)
        self.kind = plot_kind(value)
        self._clear_plot()
        self.values = np.asarray(flatten(value["data"]), dtype=float) if (
            value and value.get("data") is not None) else np.zeros(0)
        self._number.setVisible(self.kind == "scalar")
        self._plot.setVisible(self.kind in ("bars", "heatmap", "histogram"))
        if self.kind == "none":
            self._stats.setText("—")
            return
        self._stats.setText(stats(value).replace("\n", "   "))
        if self.kind == "scalar":
            self._number.setText(fmt(self.values[0]) if self.values.size else "")
        elif self.kind == "bars":
            self._draw_bars()
        elif self.kind == "heatmap":
            self._draw_heatmap(np.asarray(self.values).reshape(value["shape"]))
        elif self.kind == "histogram":
            self._draw_histogram()

    def set_message(self, text: str) -> None:
        """Show no plot, only ``text`` (why there is nothing to draw)."""
        self.set_value(None)
        self._stats.setText(text)

    def _clear_plot(self) -> None:
        if self._colorbar is not None:
            self._plot.getPlotItem().layout.removeItem(self._colorbar)
            self._colorbar.setParentItem(None)
            self._colorbar = None
        self._plot.clear()
        self._plot.getPlotItem().invertY(False)

    def _draw_bars(self) -> None:
        v = np.nan_to_num(self.values, nan=0.0, posinf=0.0, neginf=0.0)
        bars = pg.BarGraphItem(x=np.arange(v.size), height=v, width=0.8, brush="#4c8bf5")
        self._plot.addItem(bars)
        self._plot.getPlotItem().enableAutoRange()

    def _draw_heatmap(self, matrix: np.ndarray) -> None:
        m = np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)
        image = pg.ImageItem(m.T)  # ImageItem's first axis is x: columns left to right
        self._plot.addItem(image)
        self._plot.getPlotItem().invertY(True)
        lo, hi = float(m.min()), float(m.max())
        if lo == hi:
            lo, hi = lo - 1.0, hi + 1.0
        self._colorbar = self._plot.getPlotItem().addColorBar(
            image, colorMap="viridis", values=(lo, hi))
        if m.size <= 36:  # small matrices: write each number in its cell
            self._write_cells(matrix, (lo + hi) / 2)

    def _write_cells(self, matrix: np.ndarray, middle: float) -> None:
        for (i, j), v in np.ndenumerate(matrix):
            colour = "#000000" if np.isfinite(v) and v > middle else "#ffffff"
            text = pg.TextItem(fmt(v), color=colour, anchor=(0.5, 0.5))
            text.setPos(j + 0.5, i + 0.5)
            self._plot.addItem(text)

    def _draw_histogram(self) -> None:
        v = self.values[np.isfinite(self.values)]
        if v.size == 0:
            return
        counts, edges = np.histogram(v, bins=min(30, max(5, v.size // 2)))
        self._plot.addItem(pg.PlotDataItem(edges, counts, stepMode="center",
                                           fillLevel=0, brush="#4c8bf580"))
