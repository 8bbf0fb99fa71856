"""The View menu: zoom, find, layout direction, module folding, the panels."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

MAX_FOLD_DEPTH = 6  # deeper module nesting is folded from the graph's own boxes


def build_view_menu(window, bar: QtWidgets.QMenuBar) -> QtWidgets.QMenu:
    """Add the View menu to ``bar`` for ``window`` (a QtMainWindow) and return it."""
    view = bar.addMenu(window.tr("&View"))
    graph_view = window.graph_view
    window._add(view, window.tr("&Fit graph to window"), "Ctrl+0", graph_view.fit_to_window)
    keys = QtGui.QKeySequence.StandardKey  # the platform's own keys where one exists
    window.act_zoom_in = window._add(view, window.tr("Zoom &in"), keys.ZoomIn,
                                     lambda: graph_view.zoom(1.25))
    window.act_zoom_out = window._add(view, window.tr("Zoom &out"), keys.ZoomOut,
                                      lambda: graph_view.zoom(0.8))
    window.act_find = window._add(view, window.tr("F&ind node"), keys.Find, window.search.setFocus)
    window.act_lr = view.addAction(window.tr("Left to &right layout"))
    window.act_lr.setCheckable(True)
    window.act_lr.toggled.connect(window.toggle_rankdir)
    fold = view.addMenu(window.tr("Fold &modules"))
    fold.setToolTipsVisible(True)

    def fill() -> None:  # the depths this graph has, when the menu opens
        fold.clear()
        window._add(fold, window.tr("&Unfold all"), "", lambda: window.fold_to_depth(None))
        depth = min(graph_view.max_depth(), MAX_FOLD_DEPTH)
        for d in range(1, depth + 1):
            text = window.tr("Fold all modules") if d == 1 else window.tr("Fold to depth {0}").format(d)
            window._add(fold, text, "", lambda d=d: window.fold_to_depth(d))
        if not depth:
            fold.addAction(window.tr("(no modules in this graph)")).setEnabled(False)

    fold.aboutToShow.connect(fill)
    fill()
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    return view

