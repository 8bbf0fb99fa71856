"""One tensor drawn with pyqtgraph: a number, bars, a heatmap or a histogram.

Speed (bench/bench_ui.py): a backward step changes the plotted tensors, so the plot
keeps one item of each kind and updates it in place (``setOpts``/``setImage``/
``setData``) rather than clearing and re-adding items, sets its view range itself
rather than letting auto-range re-scan, and keeps its own size fixed while the kind of
plot stays the same, so a new value does not re-lay out the dock. A plot that cannot be
seen (scrolled out of its panel, or hidden) sets at once only what its size follows (its
texts, the kind of plot), and draws the plot when it comes into view (``draw_when_seen``):
the Values panel's lower plots, below the fold of a window of ordinary size, cost a step
no pyqtgraph work (docs/speed.md item 37). A plot sees its own moves, resizes and shows;
a container that scrolls it must call ``draw_when_seen`` when it scrolls or grows
(``QtValuesPanel`` does, from its body's and viewport's events).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from gradstep.autograd import elements
from gradstep.drawing.style import as_printed
from gradstep.policies.complex_text import is_complex
from gradstep.ui.qt_row_label import QtItemsLabel
from gradstep.ui.tensor_text import as_value, flatten, fmt, stats
from gradstep.ui.words import tr

PLOT_HEIGHT = 150  # px; fixed so a new value of the same kind never changes the layout
PLOT_MIN = 80  # px; ... or less where its panel is short (``fit_plot_height``), never below
STATS_LINES = 2  # the statistics' least height in lines: shape, dtype, min, max, mean and std
PLOT_TOP = 8  # px above the plot's top: the top tick's text is centred on it (not half cut)
MAX_CELL_TEXT = 36  # heatmaps up to this many cells get their numbers written in


def without_complex_data(value: dict | None, dtype: str | None = None) -> dict | None:
    """Return ``value`` without its data when it is a complex tensor's (``dtype`` or its own):
    the JSON writes each element as a ``[real, imag]`` pair, which a plot or a min/max of the
    numbers would read as a real tensor of one more dimension that torch never had."""
    dtype = dtype or (value or {}).get("dtype")
    if not value or value.get("data") is None or not is_complex(dtype):
        return value
    shape = value.get("shape")
    if "dtype" not in value:  # a bare list (a gradient): its shape counted the pairs too
        shape = (shape or [])[:-1]
    return {**{k: v for k, v in value.items() if k != "data"}, "shape": shape, "dtype": dtype}


def plot_kind(value: dict | None) -> str:
    """Return how to draw a value: none, scalar (one number, whatever its shape), bars,
    heatmap, histogram or stats."""
    if not value:
        return "none"
    if value.get("data") is None:
        return "stats"
    shape = value.get("shape") or []
    count = 1
    for size in shape:
        count *= size
    if count == 1:
        return "scalar"
    return {1: "bars", 2: "heatmap"}.get(len(shape), "histogram")


def nice_range(lo: float, hi: float) -> tuple[float, float]:
    """Return (lo, hi) widened to multiples of a 1-2-5 step of about a quarter of their span.

    Round ends read better, and a step whose values move a little keeps the same range,
    so its axes need not be drawn again.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return -1.0, 1.0
    if hi <= lo:
        return lo - 1.0, hi + 1.0
    raw = (hi - lo) / 4
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


class _AxisItem(pg.AxisItem):
    """pyqtgraph's axis, whose label is laid out again only when its text changes, and
    whose picture is made once for each look it had lately.

    pyqtgraph sets the label's HTML on every change of the view's range (for the unit's
    SI prefix), and Qt lays the rich text out each time: two axes of the visible plot on
    every step of a backward pass, ~1 ms of the step on the wide DAG (docs/speed.md item
    37). The same HTML makes the same label, so it is not set again; the rest of
    pyqtgraph's update (the axis' size and picture) is done as before.

    pyqtgraph also drops the axis' picture (its ticks and their texts) on every change of
    range and makes it again, in Python, when painted; on the wide DAG the Forward value's
    range alternates between two on nearly every step. The last ``PICTURES`` pictures are
    kept by what they are made from (``_look``: the range, the axis' place and size on the
    screen, its ticks, scale and SI prefix), with the tick-text size pyqtgraph measured
    while making each, which is handed on again as pyqtgraph hands it on (it sizes the
    axis). Its style, pens, fonts and tick settings are not in the look: setting any of
    them (``_FORGETTING``) forgets every picture (docs/speed.md item 40)."""

    PICTURES = 8
    _label_html: str | None = None
    _text_size = None  # what making the last picture passed to _updateMaxTextSize

    def _updateLabel(self) -> None:  # noqa: N802 (pyqtgraph's name)
        html = self.labelString()
        if html != self._label_html:
            self._label_html = html
            self.label.setHtml(html)
        self._adjustSize()
        self.picture = None
        self.update()

    def _updateMaxTextSize(self, x) -> None:  # noqa: N802 (pyqtgraph's name)
        self._text_size = x
        super()._updateMaxTextSize(x)

    def paint(self, p, opt, widget):
        if self.picture is not None:  # (no annotations here: PySide6 6.12 crashed calling
            self.picture.play(p)  # an annotated override of pyqtgraph's)
            return
        look = self._look()
        kept = self.__dict__.setdefault("_pictures", {})
        if look in kept:
            picture, size = kept.pop(look)
            kept[look] = picture, size  # the most recent last
            if size is not None:  # as generateDrawSpecs does, before the picture is drawn
                super()._updateMaxTextSize(size)
            self.picture = picture
            picture.play(p)
            return
        self._text_size = None
        super().paint(p, opt, widget)
        kept[look] = self.picture, self._text_size
        while len(kept) > self.PICTURES:
            del kept[next(iter(kept))]

    def _look(self) -> tuple:
        """Return what ``generateDrawSpecs`` reads that changes without a setter: the
        range, the axis' rectangle, its transform to the screen, the ticks, scale, SI
        prefix (and the default font where the axis has none of its own)."""
        view = self.getViewWidget()  # (Qt's deviceTransform, as pyqtgraph's own uses:
        t = (QtWidgets.QGraphicsItem.deviceTransform(self, view.viewportTransform())  # called
             if view is not None else QtGui.QTransform())  # from here, pyqtgraph's crashed)
        g = self.mapRectFromParent(self.geometry())
        linked = self.linkedView()
        grid = (None if linked is None or self.grid is False else
                _rect(linked.mapRectToItem(self, linked.boundingRect())))
        return (tuple(self.range), _rect(g), (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy()),
                repr(self._tickLevels), self.scale, self.autoSIPrefixScale, self.grid, grid,
                None if self.style["tickFont"] is not None else QtGui.QFont().key())


def _rect(rect: QtCore.QRectF) -> tuple:
    return rect.x(), rect.y(), rect.width(), rect.height()


_FORGETTING = ("setStyle", "setPen", "setTextPen", "setTickPen", "setTickFont", "setGrid",
               "setLogMode", "setScale", "setTickSpacing", "setTickDensity", "setTicks")


def _forgetting(name: str):
    """Return pyqtgraph's setter ``name``, which first forgets the axis' kept pictures."""
    def setter(self, *args, **kwargs):
        self.__dict__.pop("_pictures", None)
        return getattr(pg.AxisItem, name)(self, *args, **kwargs)

    setter.__name__ = setter.__qualname__ = name
    return setter


for _name in _FORGETTING:
    setattr(_AxisItem, _name, _forgetting(_name))


class QtTensorPlot(QtWidgets.QWidget):
    """A title, a plot (or a big number) and the statistics of one tensor."""

    def __init__(self, title: str, parent=None, *,
                 axes: tuple[str, str] = (QT_TR_NOOP("column"), QT_TR_NOOP("row"))):
        super().__init__(parent)
        self.axes = axes  # names of a heatmap's columns and rows (a Jacobian: j input, i output)
        self.kind = "none"
        self.values = np.zeros(0)
        self._shown: tuple | None = None  # (kind, shape, values, cell texts) drawn now: skip redraws
        self._title = QtWidgets.QLabel(f"<b>{title}</b>")
        self._title.setWordWrap(True)
        self._title_height: tuple = (None, 0)  # ((text, width, font), its height): shown_height
        self._number = QtWidgets.QLabel()
        self._number.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self._number.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        font = self._number.font()
        font.setPointSize(font.pointSize() + 6)
        self._number.setFont(font)
        self._stats = QtItemsLabel()
        self._stats.setWordWrap(True)
        self._stats.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self._stats.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        # two lines at least: the statistics fit; a fixed height keeps another text of as
        # many lines from re-laying out the panel; more lines (a long message, large
        # letters, a narrow panel) make it taller: two cut a long one
        self._fit_stats_height()
        self._stats.sigLinesChanged.connect(self._fit_stats_height)
        self._number.installEventFilter(self)  # its own font: View › Zoom scales it apart
        self._plot = pg.PlotWidget(background=self._colour("Base"), axisItems={
            "left": _AxisItem("left"), "bottom": _AxisItem("bottom")})
        self._plot.setMenuEnabled(False)
        self._plot.getPlotItem().layout.setContentsMargins(1, PLOT_TOP, 1, 1)
        self._plot.setMouseEnabled(False, False)
        self._plot.hideButtons()
        self._make_items()
        self._style_axes()
        # the number and the plot share one fixed-height slot, so switching kinds moves nothing
        self._stack = QtWidgets.QStackedWidget()
        # nothing to draw: why, at the top of the room the last plot or number had
        self._note = QtWidgets.QLabel()
        self._note.setWordWrap(True)
        self._note.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self._note.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self._note.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self._stack.addWidget(self._note)
        self._stack.addWidget(self._number)
        self._stack.addWidget(self._plot)
        self._slot = -1  # the stack's page shown now
        self._message: list[str] | None = None  # what is written where nothing is drawn
        self._slot_heights = {0: 0, 1: self._number.sizeHint().height(), 2: PLOT_HEIGHT}
        self._pending: tuple | None = None  # (kind, shape, values, text) not drawn yet
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        for w in (self._title, self._stack, self._stats):
            layout.addWidget(w)
        self.set_value(None)
        self.draw_pending()  # the empty plot's layout from the start, seen or not

    def _make_items(self) -> None:
        """Create the one item of each kind that every later value reuses."""
        item = self._plot.getPlotItem()
        item.disableAutoRange()
        self._bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.8, brush="#4c8bf5")
        self._image = pg.ImageItem(np.zeros((1, 1)))
        self._curve = pg.PlotDataItem(stepMode="center", fillLevel=0, brush="#4c8bf580")
        for it in (self._bars, self._image, self._curve):
            it.setVisible(False)
            item.addItem(it)
        self._colorbar = pg.ColorBarItem(colorMap="viridis", values=(0.0, 1.0), interactive=False)
        self._colorbar.setImageItem(self._image)
        self._colorbar_shown = False  # in the plot's layout only for heatmaps (else it takes room)
        self._cells: list[pg.TextItem] = []

    def _colour(self, role: str):
        """Return the palette colour ``role`` (so plots follow a light or dark theme)."""
        return self.palette().color(getattr(QtGui.QPalette.ColorRole, role))

    def _style_axes(self) -> None:
        pen = pg.mkPen(self._colour("Text"))
        axes = [self._plot.getPlotItem().getAxis(name) for name in ("left", "bottom")]
        for axis in axes + [self._colorbar.axis]:
            axis.setPen(pen)
            axis.setTextPen(pen)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self._plot.setBackground(self._colour("Base"))
            self._style_axes()
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.set_axes(self.axes)  # the axis names in the new language
        if event.type() == QtCore.QEvent.Type.FontChange and hasattr(self, "_stack"):
            self._fit_text_heights()  # View › Zoom: the second line of statistics was cut
        super().changeEvent(event)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if watched is self._number and event.type() == QtCore.QEvent.Type.FontChange \
                and hasattr(self, "_stack"):  # (its size hint is the new font's once the
            QtCore.QTimer.singleShot(0, self, self._fit_text_heights)  # label has seen it)
        return super().eventFilter(watched, event)

    def _fit_text_heights(self) -> None:
        """Fix the statistics' two lines and the big number's slot at the font in use (a
        zoom changes it; a step never does)."""
        self._fit_stats_height()
        self._slot_heights[1] = self._number.sizeHint().height()
        if self._slot == 1:
            self._stack.setFixedHeight(self._slot_heights[1])
        if self._message is not None:  # larger letters: its lines more than the room holds
            self._place_text(self._message)

    def _fit_stats_height(self, *_lines) -> None:
        """Make the statistics as high as their lines (``STATS_LINES`` at least)."""
        self._stats.fix_lines(max(STATS_LINES, self._stats.line_count))

    def set_value(self, x, *, text: str | None = None, dtype: str | None = None) -> None:
        """Show ``x`` (value dict, nested list, number or None), under it ``text`` (default:
        its statistics). What sets the plot's size (its texts, the kind of plot) changes at
        once, so the panel is laid out as if all were drawn; the plot itself (pyqtgraph's
        items, axes and range) is drawn now when any of it can be seen, else when it comes
        into view. A complex tensor (``dtype``, or the value's) is not plotted: its data are
        ``[real, imag]`` pairs, not numbers of its own; its summary (magnitudes) is shown."""
        value = without_complex_data(as_value(x), dtype)
        kind = plot_kind(value)
        values = np.asarray(flatten(value["data"]), dtype=float) if (
            value and value.get("data") is not None) else np.zeros(0)
        shape = tuple(value.get("shape") or []) if value else ()
        if text is None:  # the statistics: a line each, wrapped between them only
            items = ["—"] if kind == "none" else stats(value).split("\n")
        else:
            items = [text]
        self.kind, self.values = kind, values
        self._show_slot({"scalar": 1, "bars": 2, "heatmap": 2, "histogram": 2}.get(kind, 0),
                        keep=kind == "none")
        self._message = items if kind == "none" else None
        self._place_text(items)
        # the numbers as the box and the snippet's print write them (4.1375, not 4.13755;
        # [[4., 6.]], ints whole): a scalar's, and a small heatmap's cells
        printed = as_printed(elements.flatten(value["data"])) if values.size and (
            kind == "scalar" or (kind == "heatmap" and values.size <= MAX_CELL_TEXT)) else []
        if kind == "scalar":
            self._number.setText(printed[0] if printed else "")
        cells = tuple(printed) if kind == "heatmap" else ()
        self._pending = (kind, shape, values, cells)
        if self.seen():
            self.draw_pending()

    def seen(self) -> bool:
        """Return True when some of the plot can be seen now: it is shown, and its rectangle
        cut to each of its parents' is not empty (scrolled out of its panel, it is). Qt's
        ``visibleRegion`` would also take away opaque children, which may cover all of it."""
        if not self.isVisible():
            return False
        rect, widget = self.rect(), self
        while not widget.isWindow() and widget.parentWidget() is not None:
            rect = rect.translated(widget.pos()).intersected(widget.parentWidget().rect())
            if rect.isEmpty():
                return False
            widget = widget.parentWidget()
        return not rect.isEmpty()

    def draw_when_seen(self) -> None:
        """Draw the value set last if the plot can be seen now (its panel calls this when
        it scrolls or its layout moves the plot)."""
        if self._pending is not None and self.seen():
            self.draw_pending()

    def draw_pending(self) -> None:
        """Draw the plot of the value set last, if it is not drawn yet (seen or not)."""
        if self._pending is None:
            return
        shown, self._pending = self._pending, None
        if self._same_as_shown(shown):
            return  # same tensor as the previous step: the drawing is already right
        self._shown = shown
        kind, shape, values, cells = shown
        self._hide_items()
        self._show_colorbar(kind == "heatmap")
        self._label_axes(kind)
        if kind in ("bars", "heatmap", "histogram"):
            if kind == "heatmap":
                self._draw_heatmap(values.reshape(shape), cells)
            else:
                {"bars": self._draw_bars, "histogram": self._draw_histogram}[kind](values)

    def _show_slot(self, index: int, keep: bool = False) -> None:
        """Show the note (0), the number (1) or the plot (2); only a change of kind changes
        the height, so stepping through tensors of one kind never re-lays out the panel.
        Nothing to draw (``keep``: no value, or a message why) keeps the height a plot or a
        number had: steps that alternate a plot and none stay put (``set_value`` writes the
        message at its top where it fits whole: no blank room between the title and it, as
        the Jacobian's "Too big" had, under 170 px of nothing); statistics alone (a tensor
        too big to draw) take no room above them."""
        height = self._slot_heights[index]
        if index == 0 and keep and self._slot >= 0:
            height = self._stack.maximumHeight()
        if self._slot == index and self._stack.maximumHeight() == height:
            return
        self._stack.setCurrentIndex(index)
        self._stack.setFixedHeight(height)
        self._slot = index

    def _place_text(self, items: list[str]) -> None:
        """Write ``items`` under the title: a message (``_message``, or "—") in the room a
        plot had where it fits whole there, else (and statistics) under that room."""
        if self._message is not None and self._fits_note(" ".join(items)):
            self._note.setText(" ".join(items))
            self._stats.set_items([])
        else:
            self._note.clear()
            self._stats.set_items(items)

    def _fits_note(self, text: str) -> bool:
        """Return whether ``text`` fits whole in the room kept from a plot or a number (a
        number's holds a line): then it is written there, under the title."""
        room = self.slot_height()
        if room <= 0:
            return False
        width = self._stack.width() if self._stack.width() > 1 else self.width() - 4
        return self._note.fontMetrics().boundingRect(
            0, 0, max(1, width), room * 10, QtCore.Qt.TextFlag.TextWordWrap, text).height() <= room

    def _same_as_shown(self, shown: tuple) -> bool:
        """Return True when ``shown`` (kind, shape, values, cell texts) is what is drawn already."""
        if self._shown is None:
            return False
        kind, shape, values, cells = self._shown
        return ((kind, shape, cells) == (shown[0], shown[1], shown[3])
                and np.array_equal(values, shown[2], equal_nan=True))

    def fit_plot_height(self, height: int) -> None:
        """Draw plots ``height`` px high (``PLOT_MIN`` to ``PLOT_HEIGHT``): the Values panel's
        height shared out when it is resized, never on a step."""
        height = max(PLOT_MIN, min(PLOT_HEIGHT, height))
        if height != self._slot_heights[2]:
            self._slot_heights[2] = height
            if self._slot == 2:
                self._stack.setFixedHeight(height)

    def plot_height(self) -> int:
        """Return the height a plot is drawn at (``fit_plot_height``)."""
        return self._slot_heights[2]

    def slot_height(self) -> int:
        """Return the height of the plot, number or nothing shown now (fixed per kind)."""
        return self._stack.maximumHeight()

    def shown_height(self) -> int:
        """Return the height this widget takes with what it shows now (a plot, a number or
        nothing): its margins, title (as it wraps now), that and the statistics."""
        layout = self.layout()
        margins = layout.contentsMargins()
        key = (self._title.text(), self._title.width(), self._title.font().pointSizeF())
        if key != self._title_height[0]:  # (a wrapped text's height is costly to find)
            title = self._title.heightForWidth(key[1]) if key[1] > 1 else -1
            self._title_height = (key, title if title > 0 else self._title.sizeHint().height())
        title = self._title_height[1]
        return (margins.top() + margins.bottom() + 2 * layout.spacing() + title
                + self.slot_height() + self._stats.height())

    def set_title(self, title: str) -> None:
        """Change the title (e.g. to say a gradient is sent when the node runs)."""
        self._title.setText(f"<b>{title}</b>")

    def set_axes(self, axes: tuple[str, str]) -> None:
        """Rename a heatmap's columns and rows (the language changed)."""
        self.axes = axes
        self._axis_names = None
        if self._shown is not None:
            self._label_axes(self._shown[0])

    def _label_axes(self, kind: str) -> None:
        """Name a heatmap's axes (j across, i down) and a bar chart's (index); none otherwise."""
        if kind not in ("bars", "heatmap", "histogram"):
            return  # no plot shown: keep the labels (changing them re-lays out the plot)
        heatmap = (tr(self.axes[0]), tr(self.axes[1]))  # the defaults are QT_TR_NOOP texts
        across, down = {"heatmap": heatmap, "bars": (tr("index"), "")}.get(kind, ("", ""))
        if (across, down) == getattr(self, "_axis_names", None):
            return  # unchanged: setting a label re-lays out the plot
        self._axis_names = (across, down)
        item = self._plot.getPlotItem()
        item.setLabel("bottom", across)
        item.setLabel("left", down)

    def _integer_ticks(self, count_x: int, count_y: int | None) -> None:
        """Put ticks at cell centres labelled 0, 1, 2, ... (not 0.5, 1.5) on small plots."""
        if (count_x, count_y) == getattr(self, "_tick_counts", None):
            return
        self._tick_counts = (count_x, count_y)
        item = self._plot.getPlotItem()
        for name, count, offset in (("bottom", count_x, 0.5 if count_y is not None else 0.0),
                                    ("left", count_y, 0.5)):
            axis = item.getAxis(name)
            if count is None or count > 20:
                axis.setTicks(None)
                continue
            axis.setTicks([[(i + offset, str(i)) for i in range(count)], []])

    def set_message(self, text: str) -> None:
        """Show no plot, only ``text`` (why there is nothing to draw)."""
        self.set_value(None, text=text)

    def moveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().moveEvent(event)
        self.draw_when_seen()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._message is not None and event.size().width() != event.oldSize().width():
            self._place_text(self._message)  # narrower: its lines more than the room holds
        self.draw_when_seen()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.draw_when_seen()

    def grab(self, *args):
        """Return the plot's picture, its last value drawn (seen or not)."""
        self.draw_pending()
        return super().grab(*args)

    def _hide_items(self) -> None:
        for it in (self._bars, self._image, self._curve, *self._cells):
            it.setVisible(False)

    def _show_colorbar(self, show: bool) -> None:
        """Put the colour bar in (heatmaps) or out of the plot's layout; only on a change."""
        if show == self._colorbar_shown:
            return
        layout = self._plot.getPlotItem().layout
        if show:
            layout.addItem(self._colorbar, 2, 5)
        else:
            layout.removeItem(self._colorbar)
            self._colorbar.setParentItem(None)
            self._plot.scene().removeItem(self._colorbar)
        self._colorbar_shown = show

    def _set_range(self, x: tuple[float, float], y: tuple[float, float], invert_y: bool) -> None:
        item = self._plot.getPlotItem()
        item.invertY(invert_y)
        item.setRange(xRange=x, yRange=y, padding=0)
        # apply the new range now, not in the next paint: done there it changes items while
        # Qt paints, which asks for a second paint of the whole window (graph view included)
        item.getViewBox().updateMatrix()

    def _draw_bars(self, values: np.ndarray) -> None:
        v = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        self._bars.setOpts(x=np.arange(v.size), height=v, width=0.8)
        self._bars.setVisible(True)
        self._integer_ticks(v.size, None)
        lo, hi = min(0.0, float(v.min())), max(0.0, float(v.max()))
        self._set_range((-0.6, v.size - 0.4), nice_range(lo, hi), False)

    def _draw_heatmap(self, matrix: np.ndarray, cells: tuple = ()) -> None:
        m = np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(m.min()), float(m.max())
        if lo == hi:
            lo, hi = lo - 1.0, hi + 1.0
        self._image.setImage(m.T, autoLevels=False)  # ImageItem's first axis is x: columns
        self._colorbar.setLevels((lo, hi))
        self._image.setVisible(True)
        self._show_colorbar(True)
        rows, cols = m.shape
        self._integer_ticks(cols, rows)
        self._set_range((0.0, float(cols)), (0.0, float(rows)), True)
        if m.size <= MAX_CELL_TEXT:  # small matrices: write each number in its cell
            self._write_cells(matrix, (lo + hi) / 2, cells)

    def _write_cells(self, matrix: np.ndarray, middle: float, cells: tuple = ()) -> None:
        """Write each number in its cell: ``cells``, the tensor's numbers as torch prints them
        (``as_printed``), else ``fmt``."""
        while len(self._cells) < matrix.size:
            text = pg.TextItem("", anchor=(0.5, 0.5))
            self._plot.addItem(text)
            self._cells.append(text)
        for k, (text, ((i, j), v)) in enumerate(zip(self._cells, np.ndenumerate(matrix))):
            text.setColor("#000000" if np.isfinite(v) and v > middle else "#ffffff")
            text.setText(cells[k] if len(cells) == matrix.size else fmt(v))
            text.setPos(j + 0.5, i + 0.5)
            text.setVisible(True)

    def _draw_histogram(self, values: np.ndarray) -> None:
        v = values[np.isfinite(values)]
        if v.size == 0:
            return
        self._integer_ticks(10**6, None)  # value axes: pyqtgraph's own ticks
        counts, edges = np.histogram(v, bins=min(30, max(5, v.size // 2)))
        self._curve.setData(edges, counts)
        self._curve.setVisible(True)
        self._set_range((float(edges[0]), float(edges[-1])), (0.0, float(counts.max()) * 1.05), False)

    def drawn(self) -> np.ndarray:
        """Return the numbers the plot draws now: bar heights, image cells (row by row),
        histogram counts or the shown number (NaN/inf drawn as 0 in bars and images): the
        last value's, drawn now if it was waiting to be seen."""
        self.draw_pending()
        if self.kind == "bars":
            return np.asarray(self._bars.opts["height"], dtype=float)
        if self.kind == "heatmap":
            return np.asarray(self._image.image, dtype=float).T.flatten()
        if self.kind == "histogram":
            return np.asarray(self._curve.getData()[1], dtype=float)
        if self.kind == "scalar":
            return np.array([float(self._number.text())]) if self._number.text() else np.zeros(0)
        return np.zeros(0)
