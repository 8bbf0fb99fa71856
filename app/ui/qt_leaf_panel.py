"""The Leaf gradients panel: every leaf's .grad after each pass."""

from __future__ import annotations

from PySide6 import QtWidgets

from app.ui.models import SessionModel
from app.ui.summaries import short


class QtLeafPanel(QtWidgets.QTreeWidget):
    """One row per leaf, one column per backward pass."""

    def __init__(self, model: SessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        model.sigTimelineChanged.connect(self._refresh)
        model.sigTraceChanged.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        history = self.model.leaf_history()
        passes = len(self.model.timelines)
        self.clear()
        self.setHeaderLabels(["leaf"] + [f"pass {i + 1}" for i in range(passes)])
        for name, grads in sorted(history.items()):
            cells = [name] + ["—" if g is None else short(g, 40) for g in grads]
            self.addTopLevelItem(QtWidgets.QTreeWidgetItem(cells))
        for col in range(self.columnCount()):
            self.resizeColumnToContents(col)

    def cell(self, leaf: str, pass_index: int) -> str:
        """Return the text shown for ``leaf`` after pass ``pass_index`` (0-based)."""
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.text(0) == leaf:
                return item.text(pass_index + 1)
        raise KeyError(leaf)
