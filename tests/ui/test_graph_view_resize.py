"""The graph opens fitted to the view it ends up in: a graph drawn before the window had its
size (shown before it was laid out, restored maximized on a 1080p screen) is fitted again
when the view is resized, as presentation mode fits it; a view the user zoomed stays."""

from __future__ import annotations

from gradstep.drawing import qt_paint, samples
from gradstep.ui.qt_font_zoom import _shows_whole_graph
from gradstep.ui.qt_graph_view import QtGraphView


def test_a_graph_drawn_in_a_small_view_is_fitted_once_the_view_is_big(qtbot):
    view = QtGraphView()
    qtbot.addWidget(view)
    view.resize(120, 90)  # the view before the window is laid out
    view.show()
    view.set_graph(samples.chain(20))  # taller than 980 px at 100%
    assert view.transform().m11() == 1.0 and not _shows_whole_graph(view)  # 100% on the root
    view.resize(1100, 980)  # the window's graph area on a 1080p screen
    qtbot.wait(10)
    assert _shows_whole_graph(view)
    assert view.transform().m11() >= qt_paint.LABEL_LOD  # fitted, every box's words drawn


def test_a_view_the_user_zoomed_keeps_its_zoom_when_resized(qtbot):
    view = QtGraphView()
    qtbot.addWidget(view)
    view.resize(600, 600)
    view.show()
    view.set_graph(samples.chain(4))
    view.zoom(2.0)
    zoomed = view.transform().m11()
    view.resize(900, 700)
    qtbot.wait(10)
    assert view.transform().m11() == zoomed


def corner(view: QtGraphView):
    """Return the scene height at the view's top (kept by a resize: no anchor; the chain
    is narrower than the view, so Qt centres it across)."""
    return view.mapToScene(0, 0).y()


def test_a_view_the_user_scrolled_with_keys_or_a_search_keeps_its_place_when_resized(qtbot):
    """A graph too tall to fit readably opens at 100% on its root; the arrow keys (the
    scroll bars' actions) or a search (``center_on_node``) move the view: a resize then
    leaves it there rather than going back to the root."""
    from PySide6 import QtCore

    view = QtGraphView()
    qtbot.addWidget(view)
    view.resize(300, 200)
    view.show()
    view.set_graph(samples.chain(20))
    assert view.transform().m11() == 1.0  # its start, not fitted
    start = corner(view)
    for _ in range(8):
        qtbot.keyClick(view, QtCore.Qt.Key.Key_Down)
    scrolled = corner(view)
    assert scrolled > start
    view.resize(320, 210)
    qtbot.wait(10)
    assert corner(view) == scrolled
    view.set_graph(samples.chain(20))  # a new graph: opened at its start again
    assert corner(view) == start
    ys = sorted(view.layout_result.positions.items(), key=lambda item: item[1][1])
    view.center_on_node(ys[len(ys) // 2][0])  # a search hit, halfway down
    found = corner(view)
    assert found > start
    view.resize(330, 220)
    qtbot.wait(10)
    assert corner(view) == found
