"""Autosave the snippet: written shortly after every change, restored at the next start."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6 import QtCore

from gradstep.policies.whole_file import replacing

DEBOUNCE_MS = 250
STATE_ENV = "GRADSTEP_STATE_DIR"


def state_dir() -> Path:
    """Return the directory for the autosaved text ($GRADSTEP_STATE_DIR, else AppDataLocation)."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    location = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location or Path.home() / ".gradstep")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole (``whole_file.replacing``), so a kill never leaves half
    a file, synced to the disk first: the text also outlives a system crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as into, open(into, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def read_autosave(path: Path) -> dict | None:
    """Return {"text", "filename"} saved at ``path``, or None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    return {"text": data["text"], "filename": data.get("filename") or ""}


class QtAutosave(QtCore.QObject):
    """Saves (text, filename) to ``path`` DEBOUNCE_MS after the last change."""

    def __init__(self, path: Path, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self._pending: tuple[str, str] | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.flush)

    def changed(self, text: str, filename: str = "") -> None:
        """Note new text; it is written after a short pause in typing."""
        self._pending = (text, filename)
        self._timer.start()

    def flush(self) -> None:
        """Write the pending text now (also called on close)."""
        if self._pending is None:
            return
        text, filename = self._pending
        self._pending = None
        try:
            write_atomic(self.path, json.dumps({"text": text, "filename": filename}))
        except OSError:
            pass  # a full disk must not take the editor down; the next change retries

    def restore(self) -> dict | None:
        return read_autosave(self.path)
