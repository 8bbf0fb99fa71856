"""The Values panel's two text rows (the node's header, the "Saved tensors now" / ``.grad``
row) are as high as their text, not two lines always: a one-line text left ~35 px blank
under it at 1920 x 1080 (retain_graph_error's second pass, in Chinese). Checked against
QLabel's own layout of the text shown (rich text, the label's width), in English and in
Chinese, and after View › Zoom; a text wider than the row wraps and takes its lines."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets

from gradstep.autograd.session import Session
from gradstep.ui.qt_row_label import QtLinesLabel
from tests.ui.test_values_chart_height import FAILS, run
from tests.ui.test_window_flows import step_to


def laid_out_height(row) -> int:
    """Return a plain QLabel's height for ``row``'s text at its width and font (it lays the
    rich text out; the row itself answers its fixed height)."""
    probe = QtWidgets.QLabel()
    probe.setWordWrap(True)
    probe.setFont(row.font())
    probe.setMargin(row.margin())
    probe.setText(row.text())
    return probe.heightForWidth(row.width())


def check_rows(panel) -> list[int]:
    """Assert each row shows its whole text with no blank line under it; return the
    rows' line counts."""
    counts = []
    for row in (panel.header, panel.grad_change):
        need = laid_out_height(row)
        spacing = row.fontMetrics().lineSpacing()
        assert need <= row.height() < need + spacing, (row.text(), need, row.height())
        counts.append(row.line_count)
    return counts


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_rows_are_as_high_as_their_text(qtbot, make_window, language):
    from gradstep.ui.qt_language import apply_language

    window = make_window(Session)
    apply_language(language)
    window.resize(1920, 1080)
    qtbot.wait(100)
    run(qtbot, window, FAILS)
    step_to(window, "SigmoidBackward0")
    window.docks["values"].raise_()
    qtbot.wait(200)
    panel = window.values_panel
    assert ("现在已保存的张量" if language == "zh_CN" else "Saved tensors now") in \
        panel.grad_change.text()
    assert check_rows(panel) == [1, 1]  # (two lines high before)
    for _ in range(4):  # View › Zoom: the rows follow the new font
        window.act_zoom_in.trigger()
    qtbot.wait(200)
    check_rows(panel)
    window.act_zoom_reset.trigger()


def test_a_long_text_wraps_and_a_short_one_takes_a_line(qtbot):
    row = QtLinesLabel()
    row.setWordWrap(True)
    qtbot.addWidget(row)
    row.resize(300, 40)
    row.set_text("<b>MulBackward0</b> (n7) mul — ran at step 3 and more words, more words",
                 "MulBackward0 (n7) mul — ran at step 3 and more words, more words")
    assert row.line_count >= 2
    assert row.height() >= laid_out_height(row)
    row.set_text("Saves no tensor for backward.")
    assert row.line_count == 1
    assert row.height() == row.fontMetrics().lineSpacing() + 4


def test_the_count_is_never_below_qts_layout(qtbot):
    """Across widths, zoomed fonts, long names, Chinese and bold beside normal text, the
    row is never lower than QLabel lays its rich text out (cut text), unless it is
    ``MOST_LINES`` high."""
    from PySide6 import QtGui

    row = QtLinesLabel()
    row.setWordWrap(True)
    qtbot.addWidget(row)
    row.show()
    texts = [("<b>NativeBatchNormBackward0</b> (n12) a_very_long_leaf_name_of_weights — 第 3 步运行",
              "NativeBatchNormBackward0 (n12) a_very_long_leaf_name_of_weights — 第 3 步运行"),
             ("<b>线性层权重</b> (n3) 线性层权重 — 已选中 — 本次反向传播中未运行",
              "线性层权重 (n3) 线性层权重 — 已选中 — 本次反向传播中未运行"),
             ("<b>WWWWWWWWWWWWWWWWWWWWWW</b> (n299) mm on cuda:0 — runs at step 17",
              "WWWWWWWWWWWWWWWWWWWWWW (n299) mm on cuda:0 — runs at step 17"),
             ("x.grad now: tensor([0.1966, 0.1050, 0.0452]) → tensor([0.3932, 0.2100])", None),
             ("保存的张量：self (3, 4) float32，other (4, 5) float32，result", None)]
    base = row.font().pointSizeF()
    for scale in (0.8, 1.0, 1.6):
        font = QtGui.QFont(row.font())
        font.setPointSizeF(base * scale)
        row.setFont(font)
        for width in range(120, 700, 29):
            row.resize(width, row.height())
            for text, words in texts:
                row.set_text(text, words)
                if row.line_count < row.MOST_LINES:
                    assert row.height() >= laid_out_height(row), (scale, width, text)
