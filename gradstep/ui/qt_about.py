"""Help › About: the versions of gradstep, torch, Qt, PySide6 and Python.

torch's version is read from its package metadata: importing torch in the
window's process would cost seconds and memory the window never needs (the
kernel, a child process with the same Python, is where torch runs).
"""

from __future__ import annotations

import html
import platform
import sys
from importlib.metadata import PackageNotFoundError, version

import PySide6
from PySide6 import QtCore, QtWidgets

from gradstep import installed_version
from gradstep.ui.qt_icons import app_icon


def _distribution_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        from gradstep.ui.words import tr

        return tr("not installed")


def about_versions() -> list[tuple[str, str]]:
    """Return (what, version) pairs: gradstep, torch, Qt, PySide6, Python."""
    return [
        ("gradstep", installed_version()),
        ("torch", _distribution_version("torch")),
        ("Qt", QtCore.qVersion()),
        ("PySide6", PySide6.__version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
    ]


def about_html() -> str:
    """Return the About box's text as HTML."""
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>"
                   for name, value in about_versions())
    from gradstep.ui.words import tr

    what = html.escape(tr("Step through a real PyTorch backward pass, node by node."))
    licence = html.escape(tr("MIT License."))
    return (f"<h3>gradstep</h3><p>{what}</p>"
            f"<table cellspacing='4'>{rows}</table><p>{licence}</p>")


def about_box(parent: QtWidgets.QWidget) -> QtWidgets.QMessageBox:
    """Return the About box (not shown yet: ``open()`` it, so it does not block)."""
    box = QtWidgets.QMessageBox(parent)
    from gradstep.ui.words import tr

    box.setWindowTitle(tr("About gradstep"))
    box.setIconPixmap(app_icon().pixmap(64, 64))
    box.setTextFormat(QtCore.Qt.TextFormat.RichText)
    box.setText(about_html())
    box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Close)
    box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return box
