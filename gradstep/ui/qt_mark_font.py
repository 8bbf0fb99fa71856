"""A letter with a combining mark (``x̂``: x then U+0302) drawn whole in Qt's rich text.

x̂ has no one-character form: the formulas write it as ``x`` and a combining circumflex.
Some fonts place that mark far from its letter (DejaVu Sans, many a Linux desktop's
default: the hat lands a line higher, and layer_norm's ``x̂·mean(ĝ·x̂)`` reads
``x·mean(ĝ·x)``, another formula). Where the text's font does, ``with_marks`` writes each
such letter in a font installed here that places the mark on it.
"""

from __future__ import annotations

import re

from PySide6 import QtGui, QtWidgets

MARKED = re.compile("([^\\s<>&;\u0300-\u036f])([\u0300-\u036f]+)")  # a letter, its marks
TAG = re.compile("(<[^>]*>)")  # a rich text's tag: its attributes (href='saved:x̂') stay as they are
PREFERRED = ("Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Segoe UI",  # sans first,
             "DejaVu Serif", "Liberation Serif", "Noto Serif", "Times New Roman")  # as the text
_families: dict[str, str | None] = {}  # font key -> the family to write marked letters in


def mark_sits_on_its_letter(font: QtGui.QFont, text: str = "x\u0302") -> bool:
    """Return True when ``font`` draws ``text``'s mark over its letter: across the letter's
    ink and above it by less than half the font's height, not a line higher."""
    layout = QtGui.QTextLayout(text, font)
    layout.beginLayout()
    layout.createLine().setLineWidth(1000)
    layout.endLayout()
    boxes = []
    for run in layout.glyphRuns():
        raw = run.rawFont()
        for glyph, at in zip(run.glyphIndexes(), run.positions()):
            boxes.append(raw.boundingRect(glyph).translated(at))
    if len(boxes) < 2:
        return True  # one glyph for both: drawn together
    letter, mark = boxes[0], boxes[1]
    height = QtGui.QFontMetricsF(font).height()
    return (mark.right() > letter.left() and mark.left() < letter.right()
            and mark.bottom() > letter.top() - height / 2)


def mark_family(font: QtGui.QFont) -> str | None:
    """Return the family to write marked letters in where ``font`` misplaces their marks
    (the first of ``PREFERRED``, then of the installed families, that places them), else
    None. Asked once per font."""
    key = font.key()
    if key not in _families:
        _families[key] = None
        if not mark_sits_on_its_letter(font):
            installed = QtGui.QFontDatabase.families()
            for family in [f for f in PREFERRED if f in installed] + installed:
                other = QtGui.QFont(font)
                other.setFamilies([family])
                if QtGui.QFontInfo(other).family() == family and mark_sits_on_its_letter(other):
                    _families[key] = family
                    break
    return _families[key]


def with_marks(text: str, font: QtGui.QFont) -> str:
    """Return rich text ``text`` with each letter that has a combining mark written in
    ``mark_family(font)`` where ``font`` misplaces the mark; ``text`` itself otherwise."""
    if not MARKED.search(text):
        return text
    family = mark_family(font)
    if family is None:
        return text

    def whole(match: re.Match) -> str:
        return f"<span style=\"font-family: '{family}'\">{match.group(0)}</span>"

    return "".join(part if part.startswith("<") else MARKED.sub(whole, part)
                   for part in TAG.split(text))


def hover_text(text: str) -> str:
    """Return hover text ``text`` as ``QToolTip`` shows it, with ``with_marks`` in its font
    where it is rich text (a node's); plain text (an edge's) as it is: a span would make it
    rich, and fold its lines into one."""
    if not QtGui.Qt.mightBeRichText(text):
        return text
    return with_marks(text, QtWidgets.QToolTip.font())
