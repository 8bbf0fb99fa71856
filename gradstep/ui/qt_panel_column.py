"""The right column's width (the Values, Saved tensors, Leaf gradients and Diagnose tabs,
with Errors and Output under them): a share of the window, until the person drags it.

Qt's main window gives all of a wider window to its centre: on a projector's 1920 x 1080
the panels stayed 470 px wide, their formulas wrapped, while the graph took the room. Here
the column is ``column_width`` of the window each time the window's width changes (opened
at 1280 x 800: 470 px, as ever; maximized on 1920: 576), never narrower than its tabs'
whole names at the text size in use (View › Zoom, the language). Once the person drags the
column's edge, the width is theirs: kept as they left it, also at the next start, until a
double-click on that edge (or View › Fit the panels to the window) gives it back.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from gradstep.ui.qt_font_zoom import panel_tabs, tab_names_width
from gradstep.ui.qt_settings import settings

LEAST = 470  # px: the four tabs' whole names in English (458 px; at 420 Qt elided "Val…")
SHARE = 0.3  # of the window's width, where that is more (a wide window, a projector)
SETTING = "panel_column_follows_window"  # False once the person dragged the column


def column_width(window_width: int, names: int = 0) -> int:
    """Return the right column's width in a window ``window_width`` px wide: ``SHARE`` of
    it, ``LEAST`` at least, or what the tabs' ``names`` need where that is more."""
    return max(LEAST, names, round(SHARE * window_width))


class QtPanelColumn(QtCore.QObject):
    """Keeps ``window``'s right column at ``column_width`` while ``follows`` is True."""

    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window = window
        self.follows = settings().value(SETTING, True, type=bool)
        self._pressed: int | None = None  # the column's width when a press on the window began
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if watched is self.window:
            if kind == QtCore.QEvent.Type.Resize and self.follows:
                if event.size().width() != event.oldSize().width():  # (taller: the same)
                    QtCore.QTimer.singleShot(0, self, self.fit)  # after Qt's own layout
            elif kind == QtCore.QEvent.Type.MouseButtonDblClick and self._on_edge():
                self._pressed = None  # (its press began a drag that moved nothing)
                self.follow_window()  # the column's share of the window again
                return True
            elif kind == QtCore.QEvent.Type.MouseButtonPress and self._on_edge():
                self._pressed = self._column()
            elif kind == QtCore.QEvent.Type.MouseButtonRelease and self._pressed is not None:
                if self._column() != self._pressed:  # the person dragged the column's edge
                    self.keep_dragged_width()
                self._pressed = None
        return super().eventFilter(watched, event)

    def _on_edge(self) -> bool:
        """Return whether a press now begins a drag of an upright edge between the centre
        and the docks (the window shows its split cursor over one): a press elsewhere that
        Qt passes on to the window (a label's) is no drag, though a zoom or a resize changed
        the column's width before its release."""
        return self.window.cursor().shape() == QtCore.Qt.CursorShape.SplitHCursor

    def _column(self) -> int:
        return self.window.docks["values"].width()

    def keep_dragged_width(self) -> None:
        """Leave the column as wide as the person made it, now and at the next start."""
        self.follows = False
        settings().setValue(SETTING, False)

    def follow_window(self) -> None:
        """Make the column follow the window's width again, now and at the next start (a
        double-click on its edge, or View › Fit the panels to the window)."""
        self.follows = True
        settings().setValue(SETTING, True)
        self.fit()

    def fit(self) -> bool:
        """Make the column ``column_width`` of the window (where it follows the window and
        its Values dock is docked); return whether its width was changed."""
        window = self.window
        values = window.docks["values"]
        if not self.follows or values.isFloating() or values.isHidden():
            return False
        window.layout().activate()  # the docks laid out in the window's new size first: a
        group = panel_tabs(window)  # width asked for before that was undone by it
        names = min(tab_names_width(group), int(window.width() * 0.6)) if len(group) > 1 else 0
        want = column_width(window.width(), names)
        if values.width() == want:
            return False
        window.resizeDocks([values], [want], QtCore.Qt.Orientation.Horizontal)
        return True
