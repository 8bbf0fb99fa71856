"""``tr`` for the window's plain-text helpers (modules that are not QObjects).

They stay free of widgets and testable without a QApplication; their words still go
through Qt's translation. ``pyside6-lupdate`` files a ``tr("...")`` call outside a
class (and a ``QT_TR_NOOP`` text anywhere) under the empty context, so this ``tr``
looks them up there: call it from functions, not from inside a class.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def tr(text: str) -> str:
    """Return ``text`` translated in the empty context (itself when untranslated)."""
    return QCoreApplication.translate("", text)
