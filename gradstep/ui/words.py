"""``tr`` for the window's plain-text helpers (modules that are not QObjects).

They stay free of widgets and testable without a QApplication; their words still go
through Qt's translation, under the context ``gradstep``.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def tr(text: str) -> str:
    """Return ``text`` translated in the ``gradstep`` context (itself when untranslated)."""
    return QCoreApplication.translate("gradstep", text)
