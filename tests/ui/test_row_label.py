"""QtRowLabel: a fixed-height wrapped row lays a panel out exactly as a QLabel does."""

from __future__ import annotations

from PySide6 import QtWidgets

from gradstep.ui.qt_row_label import QtRowLabel

TEXTS = [
    "<b>AddBackward0</b> (n40126) add — ▶ runs at step 40432",
    "Saves no tensor for backward.",
    "a_word_far_longer_than_the_panel_is_wide_" * 6,  # sets the panel's least width
    "<b>MulBackward0</b> (n7) mul — ran at step 3 " + "and many more words " * 20,
    "",
]


def panel(label_type):
    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    body = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(body)
    row = label_type("start")
    row.setWordWrap(True)
    row.setFixedHeight(row.fontMetrics().lineSpacing() * 2 + 4)
    below = QtWidgets.QLabel("below")
    below.setWordWrap(True)
    layout.addWidget(row)
    layout.addWidget(below)
    layout.addStretch(1)
    area.setWidget(body)
    area.resize(300, 200)
    return area, row


def geometry(area, row):
    body = area.widget()
    return (row.geometry(), body.geometry(), body.minimumSizeHint(),
            area.horizontalScrollBar().maximum(), area.verticalScrollBar().maximum())


def test_same_layout_as_a_qlabel(qtbot):
    plain, plain_row = panel(QtWidgets.QLabel)
    fast, fast_row = panel(QtRowLabel)
    for area in (plain, fast):
        qtbot.addWidget(area)
        area.show()
    for text in TEXTS:
        plain_row.setText(text)
        fast_row.setText(text)
        QtWidgets.QApplication.processEvents()
        assert geometry(fast, fast_row) == geometry(plain, plain_row), text


def test_answers_its_fixed_height_and_else_as_a_qlabel(qtbot):
    row = QtRowLabel(TEXTS[3])
    row.setWordWrap(True)
    qtbot.addWidget(row)
    loose = QtWidgets.QLabel(TEXTS[3])
    loose.setWordWrap(True)
    qtbot.addWidget(loose)
    assert row.heightForWidth(120) == loose.heightForWidth(120) > 40
    row.setFixedHeight(40)
    assert row.heightForWidth(120) == 40
