"""The root picker: which tensor's graph is drawn (``--root`` of the command line).

"auto" draws what gradstep picks (the last expression, else the last tensor with a
grad_fn; where the snippet called backward itself, a tensor one of its calls ran on:
``runner._pick_root``); the other entries are the snippet's variables that hold a tensor
with a grad_fn after the last run, then the paths of the tensors its calls ran on
(``root_candidates``). Choosing one runs the snippet again.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from gradstep.ui.qt_session_model import QtSessionModel


class QtRootPicker(QtWidgets.QComboBox):
    """Signals
    -------
    sigRootChosen(str)   the user chose a root ("" for auto)
    """

    sigRootChosen = QtCore.Signal(str)

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self._chosen = ""
        self.setToolTip(self.tr("Which tensor's graph to draw (the root backward starts from)"))
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(10)
        self.activated.connect(self._on_activated)
        model.sigTraceChanged.connect(self._fill)
        self._fill()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.setToolTip(self.tr("Which tensor's graph to draw (the root backward starts "
                                    "from)"))
            self._fill()
        super().changeEvent(event)

    def chosen(self) -> str:
        """Return the root the user chose ("" for auto)."""
        return self._chosen

    def forget(self) -> None:
        """Go back to auto (a new snippet)."""
        self._chosen = ""
        self._fill()

    def _fill(self) -> None:
        self.blockSignals(True)
        self.clear()
        drawn = self.model.root_name or ""
        auto = self.tr("root: auto ({0})").format(drawn) if drawn and not self._chosen else self.tr("root: auto")
        self.addItem(auto, "")
        names = list(self.model.root_candidates)
        if self._chosen and self._chosen not in names:
            names.append(self._chosen)
        for name in names:
            self.addItem(self.tr("root: {0}").format(name), name)
        self.setCurrentIndex(max(0, self.findData(self._chosen)))
        self.setEnabled(bool(names))
        self.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        name = self.itemData(index) or ""
        if name != self._chosen:
            self._chosen = name
            self.sigRootChosen.emit(name)
