"""Terminal columns of text in any language: a CJK character takes two, and Chinese or
Japanese text, written without spaces, may break between any two of its characters."""

from __future__ import annotations

import re
import unicodedata

# a run of letters without spaces or CJK characters (an ASCII word, an option, a path), a
# single CJK character, or a space; an opening mark stays with what it opens and a closing
# mark with what it closes (no line ends with "（", none starts with "，" or "）")
_OPENING = "（「『《【"
_CLOSING = "，。、；：！？）」』》】"
_CJK = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_UNITS = re.compile(rf"[{_OPENING}]*(?:[^\s{_CJK}]+|[{_CJK}])[{_CLOSING}]*|\s")


def _width(char: str) -> int:
    """Return the columns one character takes: two for a wide or full-width one, none for
    a combining mark or an invisible format character (a zero-width space), else one."""
    if unicodedata.east_asian_width(char) in "WF":
        return 2
    kind = unicodedata.category(char)
    return 0 if kind in ("Mn", "Me") or (kind == "Cf" and char != "\xad") else 1


def columns(text: str) -> int:
    """Return how many terminal columns ``text`` takes (a wide or full-width character two,
    a combining mark none)."""
    return sum(_width(char) for char in text)


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
