"""The right column takes a share of a wider window (a projector's 1920 x 1080: it stayed
470 px, its formulas wrapped, while the graph took all the room), never less than its tabs'
names need; once the person drags its edge, the width is theirs, also at the next start."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.session import Session
from gradstep.ui.qt_font_zoom import panel_tabs, tab_names_width
from gradstep.ui.qt_panel_column import LEAST, SHARE, column_width


def settle(qtbot, window) -> None:
    """Let the window lay itself out, and the column be fitted (a zero-delay timer)."""
    for _ in range(4):
        QtCore.QCoreApplication.sendPostedEvents()
        QtCore.QCoreApplication.processEvents()
        qtbot.wait(10)


def sized(qtbot, make_window, width: int, height: int):
    window = make_window(Session)
    window.resize(width, height)
    settle(qtbot, window)
    return window


def test_the_column_is_a_share_of_the_window_and_at_least_its_least():
    assert column_width(1280) == LEAST  # the window as it opens: as wide as ever
    assert column_width(1920) == round(SHARE * 1920) > LEAST  # a projector: 576 px
    assert column_width(1920, names=700) == 700  # the tabs' names at a large text size


def test_a_projectors_window_gives_the_panels_a_share_of_its_width(qtbot, make_window):
    window = sized(qtbot, make_window, 1280, 800)
    values = window.docks["values"]
    names = tab_names_width(panel_tabs(window))  # (474 px in English: as wide as before)
    assert values.width() == column_width(1280, names) < column_width(1920)
    narrow_centre = window.centralWidget().width()
    window.resize(1920, 1080)
    settle(qtbot, window)
    assert values.width() == column_width(1920, names) == 576
    assert window.centralWidget().width() > narrow_centre  # the graph and editor grow too
    assert values.geometry().right() < window.width()  # inside the window
    tabs = panel_tabs(window)
    assert len(tabs) == 4 and values.width() >= tab_names_width(tabs)  # whole tab names
    window.resize(1280, 800)  # back from the projector: as it opened
    settle(qtbot, window)
    assert values.width() == column_width(1280, names)


def drag_column_edge(window, by: int) -> None:
    """Drag the edge between the centre and the right column ``by`` px (left: negative),
    with the mouse events a person's drag sends the window."""
    values = window.docks["values"]
    x = (window.centralWidget().geometry().right() + values.geometry().left()) // 2
    y = values.geometry().center().y()
    app = QtGui.QGuiApplication.instance()
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    kinds = QtCore.QEvent.Type

    def send(kind, at: int, button, buttons) -> None:
        point = QtCore.QPointF(at, y)
        app.sendEvent(window, QtGui.QMouseEvent(kind, point, window.mapToGlobal(point), button,
                                                buttons, QtCore.Qt.KeyboardModifier.NoModifier))

    send(kinds.MouseMove, x, none, none)  # over the edge: the window's split cursor
    send(kinds.MouseButtonPress, x, left, left)
    for step in range(1, 11):
        send(kinds.MouseMove, x + by * step // 10, none, left)
        QtCore.QCoreApplication.processEvents()
    send(kinds.MouseButtonRelease, x + by, left, none)
    QtCore.QCoreApplication.processEvents()


def test_a_dragged_column_keeps_its_width_also_at_the_next_start(qtbot, make_window):
    window = sized(qtbot, make_window, 1920, 1080)
    values = window.docks["values"]
    drag_column_edge(window, -150)
    dragged = values.width()
    assert dragged > column_width(1920) + 100  # the drag moved it
    assert not window.panel_column.follows
    window.resize(1600, 1000)
    settle(qtbot, window)
    assert values.width() == dragged  # the person's width, not the share
    window.close()  # saves the layout, as quitting does
    again = sized(qtbot, make_window, 1920, 1080)  # (Qt restores the layout it saved)
    assert not again.panel_column.follows
    restored = again.docks["values"].width()
    again.resize(2400, 1080)
    settle(qtbot, again)
    assert again.docks["values"].width() == restored != column_width(2400)  # not fitted


def test_a_click_elsewhere_while_the_column_is_fitted_is_no_drag(qtbot, make_window):
    """A press that Qt passes on to the window (a label's takes none) and a column fitted
    before its release (a zoom, a resize) is not the person's drag: the column follows on."""
    window = sized(qtbot, make_window, 1920, 1080)
    label = next(w for w in window.docks["values"].findChildren(QtWidgets.QLabel)
                 if w.isVisible())
    point = QtCore.QPointF(2, 2)
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    app = QtGui.QGuiApplication.instance()

    def send(kind, buttons) -> None:
        app.sendEvent(label, QtGui.QMouseEvent(kind, point, label.mapToGlobal(point), left,
                                               buttons, QtCore.Qt.KeyboardModifier.NoModifier))

    send(QtCore.QEvent.Type.MouseButtonPress, left)
    window.resize(1600, 1000)
    settle(qtbot, window)
    send(QtCore.QEvent.Type.MouseButtonRelease, none)
    assert window.panel_column.follows
    window.resize(2400, 1080)
    settle(qtbot, window)
    assert window.docks["values"].width() == column_width(2400, tab_names_width(panel_tabs(window)))


def double_click_column_edge(window) -> None:
    """Double-click the edge between the graph and the right column, with the events a
    person's double-click sends the window (press, release, double-click, release)."""
    values = window.docks["values"]
    x = (window.centralWidget().geometry().right() + values.geometry().left()) // 2
    point = QtCore.QPointF(x, values.geometry().center().y())
    app = QtGui.QGuiApplication.instance()
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    kinds = QtCore.QEvent.Type
    app.sendEvent(window, QtGui.QMouseEvent(kinds.MouseMove, point, window.mapToGlobal(point),
                                            none, none, QtCore.Qt.KeyboardModifier.NoModifier))
    assert window.cursor().shape() == QtCore.Qt.CursorShape.SplitHCursor  # on the edge
    for kind, buttons in ((kinds.MouseButtonPress, left), (kinds.MouseButtonRelease, none),
                          (kinds.MouseButtonDblClick, left), (kinds.MouseButtonRelease, none)):
        app.sendEvent(window, QtGui.QMouseEvent(kind, point, window.mapToGlobal(point), left,
                                                buttons, QtCore.Qt.KeyboardModifier.NoModifier))
        QtCore.QCoreApplication.processEvents()


def test_a_double_click_on_the_edge_or_the_menu_gives_the_column_back(qtbot, make_window):
    """Once dragged, only a setting made the column follow the window again: a double-click
    on its edge, or View › Fit the panels to the window, does, now and at the next start."""
    window = sized(qtbot, make_window, 1920, 1080)
    values = window.docks["values"]
    share = column_width(1920, tab_names_width(panel_tabs(window)))
    for give_back in (lambda: double_click_column_edge(window),
                      window.act_follow_column.trigger):
        drag_column_edge(window, -150)
        assert not window.panel_column.follows and values.width() > share + 100
        give_back()
        settle(qtbot, window)
        assert window.panel_column.follows
        assert values.width() == share  # at once, not at the next resize
    window.resize(2400, 1080)  # and it follows from now on
    settle(qtbot, window)
    assert values.width() == column_width(2400, tab_names_width(panel_tabs(window)))
    window.close()
    again = sized(qtbot, make_window, 1920, 1080)
    assert again.panel_column.follows  # also at the next start


def test_the_menu_item_reads_in_chinese(qtbot, make_window):
    from gradstep.ui.qt_language import apply_language

    window = make_window(Session)
    apply_language("zh_CN")
    try:
        settle(qtbot, window)  # (Qt posts the LanguageChange)
        assert window.act_follow_column.text() == "面板随窗口调整宽度(&W)"
        assert "双击" in window.act_follow_column.toolTip()
    finally:
        apply_language("en")
        settle(qtbot, window)
    assert window.act_follow_column.text() == "Fit the panels to the &window"
