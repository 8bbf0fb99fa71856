"""Terminal columns of text in any language: a CJK character takes two, and Chinese or
Japanese text, written without spaces, may break between any two of its characters."""

from __future__ import annotations

import re
import unicodedata

# a run of letters without spaces or CJK characters (an ASCII word, an option, a path), a
# single CJK character, or a space; a closing mark stays with what it closes (no line
# starts with "，" or "）")
_CLOSING = "，。、；：！？）」』》】"
_UNITS = re.compile(rf"[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+[{_CLOSING}]*"
                    rf"|[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef][{_CLOSING}]*|\s")


def columns(text: str) -> int:
    """Return how many terminal columns ``text`` takes (a wide or full-width character two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Return ``text`` (its runs of white space made one space) in lines of at most
    ``width`` columns, broken at spaces and between CJK characters, never inside a word
    (a word longer than ``width`` gets a line of its own)."""
    lines: list[str] = []
    line, used = "", 0
    for unit in _UNITS.findall(" ".join(text.split())):
        size = columns(unit)
        if unit == " ":
            if line:
                line, used = line + " ", used + 1
            continue
        if line and used + size > width:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + unit, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines
