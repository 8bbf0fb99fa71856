"""The Find box: a line edit that lets the window's own shortcuts through.

A QLineEdit claims some Ctrl+letter keys for itself (Ctrl+E moves to the end of
the line on Linux), so with the box focused Ctrl+E would not export. A key press
that is the shortcut of one of the window's actions (``window_actions``) triggers
that action instead. Only key presses reach Python here (not every event), so the
box costs nothing while the window is busy.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


class QtFindBox(QtWidgets.QLineEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.window_actions: dict[str, QtGui.QAction] = {}  # shortcut text -> action
        self.setPlaceholderText(self.tr("Find node (name or label)"))
        self.setClearButtonEnabled(True)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.setPlaceholderText(self.tr("Find node (name or label)"))
        super().changeEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt override)
        combo = QtGui.QKeySequence(event.keyCombination()).toString()
        action = self.window_actions.get(combo)
        if action is not None and action.isEnabled():
            event.accept()
            action.trigger()
            return
        super().keyPressEvent(event)
