"""The device selector: CPU, CUDA, MPS; an unavailable device is disabled with its reason."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from gradstep.i18n import render


def list_devices() -> list[dict]:
    """Return the tracer's [{"name", "available", "reason"}]."""
    # imports torch (heavy, ~1 s): when the selector is filled, not when the window's modules load
    from gradstep.autograd.devices import available_devices

    return available_devices()


class QtDeviceSelector(QtWidgets.QComboBox):
    """A combo box of devices.

    Signals
    -------
    sigDeviceChanged(str)   the user picked another (available) device
    """

    sigDeviceChanged = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.refresh()
        self.currentIndexChanged.connect(self._on_index)

    def refresh(self) -> None:
        """Ask which devices torch has and rebuild the list (keeps the current one)."""
        self.setToolTip(self.tr("Device the snippet runs on; switching re-runs it there"))
        current = self.device() if self.count() else "cpu"
        self.blockSignals(True)
        self.clear()
        for dev in list_devices():
            name = dev["name"]
            self.addItem(name.upper(), name)
            index = self.count() - 1
            item = self.model().item(index)
            item.setEnabled(bool(dev["available"]))
            reason = render(dev.get("words")) or dev.get("reason") or self.tr("unknown")
            tip = self.tr("available") if dev["available"] else self.tr("unavailable: {0}").format(reason)
            self.setItemData(index, tip, QtCore.Qt.ItemDataRole.ToolTipRole)
        found = self.findData(current)
        self.setCurrentIndex(found if found >= 0 else 0)
        self.blockSignals(False)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.refresh()
        super().changeEvent(event)

    def device(self) -> str:
        """Return the chosen device's name ("cpu", "cuda", "mps")."""
        return self.currentData() or "cpu"

    def is_enabled(self, name: str) -> bool:
        index = self.findData(name)
        return index >= 0 and self.model().item(index).isEnabled()

    def reason(self, name: str) -> str:
        """Return the tooltip of device ``name`` (the reason it is unavailable)."""
        return self.itemData(self.findData(name), QtCore.Qt.ItemDataRole.ToolTipRole) or ""

    def _on_index(self, _index: int) -> None:
        self.sigDeviceChanged.emit(self.device())
