"""The Find box: a line edit that lets the window's own shortcuts through.

A QLineEdit claims some Ctrl+letter keys for itself (Ctrl+E moves to the end of
the line on some platforms), so with the box focused Ctrl+E would not export.
The keys of the window's actions listed in ``window_keys`` go to those actions.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


class QtFindBox(QtWidgets.QLineEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.window_keys: set[str] = set()  # QKeySequence text of the window's shortcuts
        self.setPlaceholderText(self.tr("Find node (name or label)"))
        self.setClearButtonEnabled(True)

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ShortcutOverride:
            combo = QtGui.QKeySequence(event.keyCombination()).toString()
            if combo in self.window_keys:
                event.ignore()  # not ours: the window's action gets the key
                return False
        return super().event(event)
