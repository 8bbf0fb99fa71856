"""The View menu: text zoom, graph zoom, full screen and presentation, find, layout
direction, module folding, the panels, the language."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from gradstep.ui.qt_font_zoom import QtFontZoom
from gradstep.ui.qt_language import build_language_menu
from gradstep.ui.qt_presentation import QtPresentation
from gradstep.ui.words import tr

MAX_FOLD_DEPTH = 6  # deeper module nesting is folded from the graph's own boxes


def build_view_menu(window, bar: QtWidgets.QMenuBar) -> QtWidgets.QMenu:
    """Add the View menu to ``bar`` for ``window`` (a QtMainWindow) and return it.

    Zoom In / Zoom Out / Reset Zoom take the platform's standard keys (Ctrl++, Ctrl+-,
    Ctrl+0) and scale the text of the whole window, as in every other program: what a
    teacher reaches for when the back row cannot read. The graph keeps the wheel and gets
    the same keys with Alt (Ctrl+Alt++, Ctrl+Alt+-, Ctrl+Alt+0 fits it).
    """
    view = window.menu(bar, QT_TR_NOOP("&View"))
    graph_view = window.graph_view
    keys = QtGui.QKeySequence.StandardKey  # the platform's own keys where one exists
    window.font_zoom = zoom = QtFontZoom(window)
    window.act_zoom_in = window._add(view, QT_TR_NOOP("Zoom &In"), keys.ZoomIn, zoom.zoom_in)
    window.act_zoom_in.setShortcuts(window.act_zoom_in.shortcuts() + [QtGui.QKeySequence("Ctrl+=")])
    window.act_zoom_out = window._add(view, QT_TR_NOOP("Zoom &Out"), keys.ZoomOut, zoom.zoom_out)
    window.act_zoom_reset = window._add(view, QT_TR_NOOP("&Reset Zoom"), "Ctrl+0", zoom.reset)
    for action in (window.act_zoom_in, window.act_zoom_out, window.act_zoom_reset):
        window.texts.set(action.setToolTip,
                         QT_TR_NOOP("The size of all text in the window (the graph has its own zoom)"))
    view.addSeparator()
    window.act_graph_zoom_in = window._add(view, QT_TR_NOOP("Zoom &graph in"), "Ctrl+Alt+=",
                                           lambda: graph_view.zoom(1.25))
    window.act_graph_zoom_in.setShortcuts([QtGui.QKeySequence("Ctrl+Alt+="),
                                           QtGui.QKeySequence("Ctrl+Alt++")])
    window.act_graph_zoom_out = window._add(view, QT_TR_NOOP("Zoom graph o&ut"), "Ctrl+Alt+-",
                                            lambda: graph_view.zoom(0.8))
    window.act_fit = window._add(view, QT_TR_NOOP("&Fit graph to window"), "Ctrl+Alt+0",
                                 graph_view.fit_to_window)
    window.presentation = QtPresentation(window)
    view.addAction(window.presentation.act_fullscreen)
    view.addAction(window.presentation.act_present)
    view.addSeparator()
    window.act_find = window._add(view, QT_TR_NOOP("F&ind node"), keys.Find,
                                  window.search.setFocus)
    window.act_lr = view.addAction("")
    window.texts.set(window.act_lr.setText, QT_TR_NOOP("Left to &right layout"))
    window.act_lr.setCheckable(True)
    window.act_lr.toggled.connect(window.toggle_rankdir)
    fold = window.menu(view, QT_TR_NOOP("Fold &modules"))
    fold.setToolTipsVisible(True)
    view.setToolTipsVisible(True)  # (what "Fit the panels to the window" does)

    def fill() -> None:  # the depths this graph has, when the menu opens
        fold.clear()
        action = fold.addAction(tr("&Unfold all"))
        action.triggered.connect(lambda _c=False: window.fold_to_depth(None))
        depth = min(graph_view.max_depth(), MAX_FOLD_DEPTH)
        for d in range(1, depth + 1):
            text = tr("Fold all modules") if d == 1 else tr("Fold to depth {0}").format(d)
            action = fold.addAction(text)
            action.triggered.connect(lambda _c=False, d=d: window.fold_to_depth(d))
        if not depth:
            fold.addAction(tr("(no modules in this graph)")).setEnabled(False)

    fold.aboutToShow.connect(fill)
    fill()
    window.fill_fold_menu = fill  # words it again when the language changes
    view.addSeparator()
    window.act_follow_column = window._add(  # (the column is made after the menus)
        view, QT_TR_NOOP("Fit the panels to the &window"), "",
        lambda: window.panel_column.follow_window())
    window.texts.set(window.act_follow_column.setToolTip, QT_TR_NOOP(
        "The right column takes its share of the window's width again after it was dragged "
        "(or double-click its edge)"))
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    view.addSeparator()
    build_language_menu(window, view)
    return view
