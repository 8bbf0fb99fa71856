"""x̂ (x and a combining circumflex) drawn whole in the formulas: the Values panel's formula
box showed layer_norm's input gradient ``rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))`` as
``x·mean(ĝ·x)`` with two loose hats a line higher (DejaVu Sans, the font here and on many a
Linux desktop, places the mark there). Checked on the glyphs Qt laid out."""

from __future__ import annotations

import pytest
from PySide6 import QtGui

from gradstep.autograd.session import Session
from gradstep.ui.qt_mark_font import hover_text, mark_family, mark_sits_on_its_letter, with_marks
from tests.ui.test_panel_room import settle
from tests.ui.test_values_chart_height import run
from tests.ui.test_window_flows import step_to

LAYER_NORM = ("import torch\nimport torch.nn.functional as F\n"
              "x = torch.tensor([[1.0, 2.0, 4.0]], requires_grad=True)\n"
              "w = torch.tensor([0.5, 1.0, 1.5], requires_grad=True)\n"
              "loss = F.layer_norm(x, (3,), w).sum()\nloss.backward()\n")


def marks_and_letters(document: QtGui.QTextDocument) -> list[tuple]:
    """Return (letter's ink box, mark's ink box, line height) for each combining mark Qt laid
    out in ``document`` (a glyph of no advance after its letter, in one glyph run)."""
    found = []
    block = document.begin()
    while block.isValid():
        layout = block.layout()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            for glyph_run in line.glyphRuns():
                raw = glyph_run.rawFont()
                glyphs, spots = glyph_run.glyphIndexes(), glyph_run.positions()
                advances = raw.advancesForGlyphIndexes(glyphs)
                for k in range(1, len(glyphs)):
                    if advances[k].x() == 0 and advances[k - 1].x() > 0:
                        found.append((raw.boundingRect(glyphs[k - 1]).translated(spots[k - 1]),
                                      raw.boundingRect(glyphs[k]).translated(spots[k]),
                                      line.height()))
        block = block.next()
    return found


def at_layer_norm(qtbot, make_window):
    """Return a window that ran LAYER_NORM, its ▶ step NativeLayerNormBackward0."""
    window = make_window(Session)
    window.resize(1280, 800)
    settle(qtbot, window)
    run(qtbot, window, LAYER_NORM)
    step_to(window, "NativeLayerNormBackward0")
    return window


def skip_where_no_font_places_marks(rich: str, font: QtGui.QFont) -> None:
    """Where neither ``font`` nor any font installed here places the mark over its letter
    (a machine with DejaVu Sans alone), check ``rich`` is shown as it was, then skip: the
    marks' places can't be checked there."""
    if mark_family(font) is None and not mark_sits_on_its_letter(font):
        assert with_marks(rich, font) == rich
        pytest.skip(f"no font here places a combining mark over its letter ({font.family()})")


def assert_each_mark_on_its_letter(document: QtGui.QTextDocument, least: int) -> None:
    """Each mark across its letter's ink and above it by less than half a line."""
    marks = marks_and_letters(document)
    assert len(marks) >= least, (len(marks), document.toPlainText())
    for letter, mark, height in marks:
        assert mark.right() > letter.left() and mark.left() < letter.right(), (letter, mark)
        assert letter.top() - height / 2 < mark.bottom() <= letter.top() + 1, (letter, mark)


def test_the_layer_norm_formula_draws_each_hat_on_its_x(qtbot, make_window):
    window = at_layer_norm(qtbot, make_window)
    window.docks["values"].raise_()
    settle(qtbot, window)
    formula = window.values_panel.formula
    text = formula.toPlainText()
    assert "x̂·mean(ĝ·x̂)" in text and "ĝ = γ·g" in text  # the formula torch's layer_norm has
    skip_where_no_font_places_marks(formula._html, formula.font())
    assert_each_mark_on_its_letter(formula.document(), max(4, text.count("\u0302")))


def test_the_presentation_caption_draws_each_hat_on_its_x(qtbot, make_window):
    """The caption under a projected graph writes the ▶ node's formulas, x̂ in them whole,
    each input's apart."""
    window = at_layer_norm(qtbot, make_window)
    window.presentation.enter("presentation")
    settle(qtbot, window)
    caption = window.presentation.caption
    document = QtGui.QTextDocument()  # the caption's rich text laid out as the label lays it out
    document.setDefaultFont(caption.font())
    document.setHtml(caption.text())
    document.setTextWidth(caption.contentsRect().width())
    document.documentLayout().documentSize()  # (laid out when asked)
    assert "x̂·mean(ĝ·x̂)" in document.toPlainText()
    # each input's formula apart, three spaces as the GIF's caption has (rich text folded them)
    shown = document.toPlainText().replace("\u00a0", " ")
    assert "normalised dims   ∂L/∂γ = Σ g·x̂" in shown, shown
    skip_where_no_font_places_marks(caption.text(), caption.font())
    assert_each_mark_on_its_letter(document, 2)
    window.presentation.leave()


def test_a_marked_letter_keeps_its_text_and_links(qtbot):
    """Written in another font or not, x̂ reads as before: the same plain text, and a link's
    target (``saved:x̂``) untouched (a span inside the tag broke it)."""
    font = QtGui.QFont("DejaVu Sans")
    rich = "<b>x̂</b> = (x − mean)·rstd   <a href='saved:x̂'>x̂</a> &amp; ĝ"
    documents = [QtGui.QTextDocument(), QtGui.QTextDocument()]
    documents[0].setHtml(rich)
    documents[1].setHtml(with_marks(rich, font))
    assert documents[1].toPlainText() == documents[0].toPlainText()
    assert [d.toHtml().count('href="saved:x̂"') for d in documents] == [1, 1], with_marks(rich, font)


def test_hover_text_marks_a_node_s_rich_text_and_leaves_an_edge_s_plain(qtbot):
    """A node's hover text is rich (x̂ in its formulas, written whole as the formula box
    writes it); an edge's is plain, lines apart: a span in it made it rich, one line."""
    from PySide6 import QtWidgets

    rich = "<b>NativeLayerNormBackward0</b><br>∂L/∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))"
    assert hover_text(rich) == with_marks(rich, QtWidgets.QToolTip.font())
    plain = "gradient sent from x̂ to NativeLayerNormBackward0 (slot 0):\n[1.0, 2.0]"
    assert hover_text(plain) == plain
