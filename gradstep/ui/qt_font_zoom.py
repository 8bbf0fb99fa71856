"""View › Zoom In / Zoom Out / Reset Zoom: the text size of the whole window.

For a projector the back row needs bigger text everywhere, not a bigger graph only: the
application font (menus, panels, dialogs, tooltips) and the widgets that chose a font of
their own (the editor, the output, the big numbers of the Values panel) all scale by one
factor, kept in the settings for the next start. The graph has its own zoom (the wheel,
View › Zoom graph) and stays as it is.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.ui.qt_settings import settings

FACTORS = (0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
_BASE_PROPERTY = "gradstep_base_point_size"
_base_font: QtGui.QFont | None = None  # the application font before any zoom (once per process)


def base_font() -> QtGui.QFont:
    """Return the application font as the platform gave it (before any zoom)."""
    global _base_font
    if _base_font is None:
        _base_font = QtGui.QFont(QtWidgets.QApplication.font())
    return QtGui.QFont(_base_font)


def tab_names_width(group: list[QtWidgets.QDockWidget]) -> int:
    """Return the width the tabs of ``group`` (docks tabbed together) need for their whole
    names at the application's font now: read from a tab bar of our own with the same
    titles, font and style (Qt's own tab bars of the docks are not looked up)."""
    bar = QtWidgets.QTabBar()
    for dock in group:
        bar.addTab(dock.windowTitle())
    need = sum(bar.tabSizeHint(i).width() for i in range(bar.count())) + 16
    bar.deleteLater()
    return need


def panel_tabs(window) -> list[QtWidgets.QDockWidget]:
    """Return the Values dock and the docks tabbed with it that are not hidden."""
    first = (getattr(window, "docks", None) or {}).get("values")
    return [] if first is None else \
        [d for d in (first, *window.tabifiedDockWidgets(first)) if not d.isHidden()]


class QtFontZoom(QtCore.QObject):
    """Scales the text of ``window`` and of the application by ``factor``.

    Signals
    -------
    sigZoomChanged(float)   the factor changed
    """

    sigZoomChanged = QtCore.Signal(float)

    def __init__(self, window: QtWidgets.QWidget):
        super().__init__(window)
        self.window = window
        self._widened_from: int | None = None  # the panels' width before _fit_panel_tabs widened them
        base_font()
        try:
            saved = float(settings().value("font_zoom", 1.0))
        except (TypeError, ValueError):
            saved = 1.0
        self.factor = 1.0
        if saved != 1.0 and FACTORS[0] <= saved <= FACTORS[-1]:
            self.set_factor(saved, remember=False)

    def zoom_in(self) -> None:
        self.set_factor(next((f for f in FACTORS if f > self.factor + 1e-6), FACTORS[-1]))

    def zoom_out(self) -> None:
        self.set_factor(next((f for f in reversed(FACTORS) if f < self.factor - 1e-6), FACTORS[0]))

    def reset(self) -> None:
        self.set_factor(1.0)

    def set_factor(self, factor: float, *, remember: bool = True) -> None:
        """Scale every text by ``factor`` (1.0: the platform's size) and keep it in the settings."""
        self.factor = factor
        font = base_font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * factor)
        else:
            font.setPixelSize(max(1, round(font.pixelSize() * factor)))
        QtWidgets.QApplication.setFont(font)
        QtWidgets.QToolTip.setFont(font)
        for dock in getattr(self.window, "docks", {}).values():
            self._scale_dock_title(dock, font, factor)
        for widget in self.own_font_widgets():
            self._scale_own_font(widget, factor)
        self.fit_panel_tabs()
        if remember:
            settings().setValue("font_zoom", factor)
        self.sigZoomChanged.emit(factor)

    def own_font_widgets(self) -> list[QtWidgets.QWidget]:
        """Return the widgets that chose a font of their own (the application font does not
        reach them): the editor, the output, the Values panel's big numbers. Named, not
        searched for: ``findChildren(QWidget)`` would make Python wrappers of Qt's own inner
        widgets, which Qt deletes behind Python's back (a crash at a later collection)."""
        window = self.window
        found = [getattr(window, "editor", None), getattr(window, "output_panel", None)]
        values = getattr(window, "values_panel", None)
        for name in ("forward", "arriving", "sent", "jacobian"):
            plot = getattr(values, name, None)
            found.append(getattr(plot, "_number", None))
        return [w for w in found if w is not None and w.testAttribute(QtCore.Qt.WidgetAttribute.WA_SetFont)]

    def fit_panel_tabs(self) -> None:
        """Widen the panels' dock so the tabs' whole names fit at this text size (at 150% Qt
        elided them to "Val…", "Leaf gradie…", "Diagn…"), but to at most 60% of the window:
        the graph keeps the rest. Zoomed back (or in a language with shorter names), the dock
        narrows again to the width it had before it was widened here, or to what the names
        need if that is more (at 100% it stayed as wide as at 150%, and its width is saved
        for the next start). Done once the new font or language has reached the panels
        (their minimum width is the old one until then); a graph shown whole now is fitted
        again to the graph area it gets."""
        view = getattr(self.window, "graph_view", None)
        whole = view is not None and _shows_whole_graph(view)
        first = getattr(self.window, "docks", {}).get("values")
        if self._widened_from is None and first is not None:
            self._widened_from = first.width()  # before Qt's layouts at the new font move it
        QtCore.QTimer.singleShot(0, self, lambda: self._fit_panel_tabs(view if whole else None))

    def _fit_panel_tabs(self, whole_view) -> None:
        """(``tab_names_width``: the width the names need.)"""
        window = self.window
        group = panel_tabs(window)
        first = window.docks["values"] if group else None
        if len(group) < 2:  # no tabs: nothing to fit, nothing kept
            self._widened_from = None
            return
        column = getattr(window, "panel_column", None)
        follows = column is not None and column.follows  # (fit measures the names itself)
        if not follows:
            width = min(tab_names_width(group), int(window.width() * 0.6))
        # the panels' layouts at the new font first: their minimum widths limit the dock's
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
        if follows:  # the column's width follows the window's
            self._widened_from = None  # (and the names': QtPanelColumn.fit)
            moved = column.fit()
        else:  # the width the person dragged the column to
            before = first.width() if self._widened_from is None else self._widened_from
            to = width if first.width() < width else max(width, before)
            moved = to != first.width()
            if moved:
                window.resizeDocks([first], [to], QtCore.Qt.Orientation.Horizontal)
            # the width it had is kept while the names need more; back as it was, a later
            # widening starts from the width then
            self._widened_from = before if width > before else None
        if whole_view is not None and (moved or not _shows_whole_graph(whole_view)):
            QtCore.QTimer.singleShot(0, whole_view.fit_to_window)  # not cut at its side

    @staticmethod
    def _scale_dock_title(dock: QtWidgets.QDockWidget, font: QtGui.QFont, factor: float) -> None:
        """A dock paints its title in the title font it read when it was made, unless its own
        font differs from the application's; a font differing only in style strategy (no
        visible change, inherited harmlessly by the panel) makes the title follow the zoom."""
        if factor == 1.0:
            dock.setFont(QtGui.QFont())  # inherit again: the title font as the platform gives it
            return
        titled = QtGui.QFont(font)
        titled.setStyleStrategy(QtGui.QFont.StyleStrategy.PreferQuality)
        dock.setFont(titled)

    def _scale_own_font(self, widget: QtWidgets.QWidget, factor: float) -> None:
        """Scale a font a widget chose itself (the editor's fixed-width font), from its own size."""
        own = widget.font()
        base = widget.property(_BASE_PROPERTY)
        if base is None:
            if own.pointSizeF() <= 0:
                return  # a pixel-sized font (graph marks): drawn at scene scale, not text size
            base = own.pointSizeF()  # first seen at construction, before any zoom
            widget.setProperty(_BASE_PROPERTY, base)
        own.setPointSizeF(float(base) * factor)
        widget.setFont(own)

    def percent(self) -> int:
        return round(self.factor * 100)


def _shows_whole_graph(view: QtWidgets.QGraphicsView) -> bool:
    """True when every item of the view's graph is inside its viewport (a fitted graph)."""
    scene = view.scene()
    items = scene.itemsBoundingRect() if scene is not None else QtCore.QRectF()
    if items.isEmpty():
        return False
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    return shown.contains(items)
