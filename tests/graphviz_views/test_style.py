"""The pure visual language: label lines, sizes close to Qt's, states told apart without colour."""

import pytest

from graphviz_views import style


def test_label_lines_of_an_op_and_a_leaf():
    op = {"kind": "op", "name": "MulBackward0", "label": "z", "shape": [2, 2],
          "value": {"data": [[1.0, 2.0], [3.0, 4.0]]},
          "saved": [{"name": "self", "shape": [2, 2], "freed": False}, {"name": "n", "value": 1}]}
    texts = [ln.text for ln in style.label_lines(op)]
    assert texts == ["MulBackward0", "z", "(2, 2)", "saved: self"]  # nested data: no value line
    leaf = {"kind": "leaf", "name": "AccumulateGrad", "label": "w", "shape": [1],
            "value": {"data": [2.0]}, "device": "cuda:0"}
    assert [ln.text for ln in style.label_lines(leaf)] == ["w", "(1,)", "= [2]", "cuda:0"]


def test_states_differ_by_more_than_colour():
    looks = [style.state_look(s) for s in style.STATES]
    signatures = {(lk.border_width, lk.dash, lk.glyph) for lk in looks}
    assert len(signatures) == len(style.STATES)


def test_saved_line_follows_the_freed_state():
    assert style.saved_text_for_state("saved: a, b", "freed") == "freed: a, b"
    assert style.saved_text_for_state("saved: a · freed: b", "freed") == "freed: a, b"
    assert style.saved_text_for_state("saved: a", "done") == "saved: a"
    # not reached yet in the replayed pass: its buffers were still alive at that step
    assert style.saved_text_for_state("freed: a, b", "current") == "saved: a, b"
    assert style.saved_text_for_state("saved: a · freed: b", "pending") == "saved: a, b"
    assert style.saved_text_for_state("freed: a", "done") == "freed: a"
    assert style.text_width("freed: a, b", 10) <= style.text_width("saved: a, b", 10)


def test_sizes_match_what_qt_measures():
    pytest.importorskip("PySide6")
    from PySide6 import QtGui

    from graphviz_views.export import ensure_qt_app
    from graphviz_views.qt_paint import font

    ensure_qt_app()
    for text, bold in [("MseLossBackward0", True), ("(64, 32, 5, 5)", False),
                       ("saved: mat1, mat2", False), ("model1.0.weight", True)]:
        px = style.TITLE_PX if bold else style.DETAIL_PX
        measured = QtGui.QFontMetricsF(font(px, bold)).horizontalAdvance(text)
        assert style.text_width(text, px, bold) == pytest.approx(measured, rel=0.03)
