"""Python syntax colours for the snippet editor."""

from __future__ import annotations

import keyword
import re

from PySide6 import QtGui

_BUILTINS = ("torch", "nn", "F", "print", "range", "len", "True", "False", "None", "self")


def _format(color: str, *, bold: bool = False, italic: bool = False) -> QtGui.QTextCharFormat:
    fmt = QtGui.QTextCharFormat()
    fmt.setForeground(QtGui.QColor(color))
    if bold:
        fmt.setFontWeight(QtGui.QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


def _palette(dark: bool) -> dict[str, QtGui.QTextCharFormat]:
    """Return the formats per token kind; brighter colours on a dark background."""
    if dark:
        colors = {"keyword": "#ff9d5c", "builtin": "#6cb6ff", "number": "#b4e08c",
                  "string": "#e6c07b", "comment": "#8b949e", "decorator": "#d2a8ff"}
    else:
        colors = {"keyword": "#a626a4", "builtin": "#0b57d0", "number": "#986801",
                  "string": "#2e7d32", "comment": "#6a737d", "decorator": "#8250df"}
    return {
        "keyword": _format(colors["keyword"], bold=True),
        "builtin": _format(colors["builtin"]),
        "number": _format(colors["number"]),
        "string": _format(colors["string"]),
        "comment": _format(colors["comment"], italic=True),
        "decorator": _format(colors["decorator"]),
    }


_RULES = [
    ("keyword", re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b")),
    ("builtin", re.compile(r"\b(" + "|".join(_BUILTINS) + r")\b")),
    ("number", re.compile(r"\b\d+(\.\d*)?([eE][+-]?\d+)?\b")),
    ("decorator", re.compile(r"@\w+")),
    ("string", re.compile(r"'[^'\\]*(\\.[^'\\]*)*'|\"[^\"\\]*(\\.[^\"\\]*)*\"")),
    ("comment", re.compile(r"#[^\n]*")),
]


class QtHighlighter(QtGui.QSyntaxHighlighter):
    """Colour keywords, torch names, numbers, strings and comments line by line."""

    def __init__(self, document: QtGui.QTextDocument, *, dark: bool = False):
        super().__init__(document)
        self._formats = _palette(dark)

    def set_dark(self, dark: bool) -> None:
        self._formats = _palette(dark)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        # later rules win: a '#' inside a string is still coloured as a string's tail,
        # which is fine for snippets and keeps this to one pass per rule
        for kind, pattern in _RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), self._formats[kind])
