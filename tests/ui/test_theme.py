"""The window follows the system palette: light and dark both render readable text,
and no label or button is squeezed below the size its text needs."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6 import QtGui, QtWidgets

from gradstep.ui.qt_editor import is_dark


def dark_palette() -> QtGui.QPalette:
    """Return a dark palette like the ones desktop themes install."""
    pal = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    for r, c in {role.Window: "#202124", role.WindowText: "#e8eaed", role.Base: "#17181a",
                 role.AlternateBase: "#26282b", role.Text: "#e8eaed", role.Button: "#2d2f33",
                 role.ButtonText: "#e8eaed", role.PlaceholderText: "#9aa0a6",
                 role.Highlight: "#3d6fb6", role.HighlightedText: "#ffffff",
                 role.Light: "#5f6368", role.Midlight: "#4a4d51", role.Mid: "#3c4043",
                 role.Dark: "#121314", role.Shadow: "#000000"}.items():
        pal.setColor(r, QtGui.QColor(c))
    return pal


def luminance(c: QtGui.QColor) -> float:
    """Return the WCAG relative luminance of a colour."""
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_contrast(image: QtGui.QImage) -> float:
    """Return the best contrast between the image's background colour and any other pixel."""
    counts = Counter(image.pixel(x, y) for x in range(0, image.width(), 2)
                     for y in range(0, image.height(), 2))
    background = QtGui.QColor.fromRgb(counts.most_common(1)[0][0])
    return max(contrast(background, QtGui.QColor.fromRgb(p)) for p in counts)


@pytest.fixture(params=["light", "dark"])
def palette(request, qapp):
    old = qapp.palette()
    if request.param == "dark":
        qapp.setPalette(dark_palette())
    yield request.param
    qapp.setPalette(old)


def test_editor_text_reads_on_light_and_dark(qtbot, palette):
    from gradstep.ui.qt_editor import QtEditor

    editor = QtEditor()
    qtbot.addWidget(editor)
    editor.resize(500, 120)
    editor.setPlainText("import torch\nx = torch.ones(2)  # a comment\n")
    editor.show()
    assert is_dark(editor.palette()) == (palette == "dark")
    image = editor.viewport().grab().toImage()
    assert text_contrast(image) > 7.0, palette


def squeezed_widgets(window: QtWidgets.QWidget) -> list[str]:
    """Return the visible labels and buttons narrower than their text needs."""
    out = []
    kinds = (QtWidgets.QLabel, QtWidgets.QAbstractButton, QtWidgets.QComboBox)
    for w in window.findChildren(QtWidgets.QWidget):
        if not isinstance(w, kinds) or not w.isVisibleTo(window) or w.width() == 0:
            continue
        if isinstance(w, QtWidgets.QLabel) and (w.wordWrap() or not w.text()):
            continue
        if w.width() < w.minimumSizeHint().width():
            out.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r} "
                       f"{w.width()} < {w.minimumSizeHint().width()}")
    return out


def test_window_reads_on_light_and_dark_at_1280x800(qtbot, make_window, palette):
    window = make_window(lambda: None)
    window.resize(1280, 800)
    window.editor.setPlainText("import torch\nx = torch.ones(2)\n")
    qtbot.waitExposed(window)
    assert squeezed_widgets(window) == []
    image = window.grab().toImage()
    assert (image.width(), image.height()) == (1280, 800)
    assert text_contrast(window.editor.viewport().grab().toImage()) > 7.0
    assert text_contrast(window.errors_panel.viewport().grab().toImage()) > 4.5
