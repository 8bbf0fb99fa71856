"""Read derivatives.yaml's entries without a YAML library, where the text is the plain
subset torch writes: a list of ``- name:`` mappings whose values are formulas on one or
more lines (plain or double-quoted), single-quoted strings, lists of booleans, and the
nested ``dispatch:`` mappings.

Why: importing pyyaml costs ~12 ms of every command line kernel, and a trace needs only
the few entries its nodes name. Anything outside that subset, or that YAML would read as
something other than a string (a number, a boolean, null, a date), makes ``read_entries``
answer None, and the caller reads the text with pyyaml instead. The tests check that on
every entry of torch's own file both readers give the same values, in the same order.
"""

from __future__ import annotations

import re

_KEY = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_, ]*):(?: (.*))?$")
# a plain scalar YAML 1.1 might read as a number, boolean, null, date, merge or value key
_NOT_TEXT = re.compile(r"[-+]?\.?[0-9][-+.0-9_:eExXa-fA-FoObB]*|[0-9]{4}-.*|"
                       r"(?i:yes|no|true|false|on|off|null|~|<<|=|[-+]?\.inf|\.nan)|")
# escapes; tabs and control characters; what YAML also takes for a line break (U+0085,
# U+2028, U+2029); a byte order mark; what YAML's reader refuses (surrogates, U+FFFE, U+FFFF).
# Written as the characters it finds, not as all the others ([^\n\x20-\x5b\x5d-\x7e
# \xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]): the same set of
# every code point (tests/autograd/test_derivatives_text.py), compiled in 0.5 ms, not 4.5
# (every kernel that traces compiles it).
_UNSURE = re.compile(r"[\x00-\x09\x0b-\x1f\\\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_LONGEST_KEY = 200  # well under YAML's 1024 characters of a simple key
_PLAIN_START_BAD = set("[]{}#&*!|>'\"%@`,")
_FLOW_ITEM = re.compile(r'"[^"]*"|True|true|TRUE|False|false|FALSE')
_FLOW_LIST = re.compile(rf"\[ *((?:{_FLOW_ITEM.pattern})(?: *, *(?:{_FLOW_ITEM.pattern}))*)? *\] *(?:#.*)?")


class _NotPlain(Exception):
    """The text is outside the subset read here."""


def read_entries(text: str) -> list[dict] | None:
    """Return the list of mappings ``text`` holds, as ``yaml.safe_load`` would, or None
    when the text is outside the subset this reader is sure of."""
    if _UNSURE.search(text):
        return None
    try:
        return _Reader(text.split("\n")).entries()
    except _NotPlain:
        return None


class _Reader:
    def __init__(self, lines: list[str]):
        self.lines = lines
        self.at = 0

    def _skip(self) -> None:
        """Move past blank lines and whole-line comments."""
        while self.at < len(self.lines):
            stripped = self.lines[self.at].strip(" ")
            if stripped and not stripped.startswith("#"):
                return
            self.at += 1

    def entries(self) -> list[dict]:
        entries = []
        self._skip()
        while self.at < len(self.lines):
            line = self.lines[self.at]
            if not line.startswith("- ") or not _KEY.fullmatch("  " + line[2:]):
                raise _NotPlain  # an empty item is null
            self.lines[self.at] = "  " + line[2:]  # the item's first key, at the item's indent
            entries.append(self._mapping(2))
            self._skip()
        if not entries:
            raise _NotPlain  # an empty text is null
        return entries

    def _mapping(self, indent: int) -> dict:
        """Read the keys at ``indent`` (the next significant line is at it)."""
        mapping: dict = {}
        while True:
            self._skip()
            if self.at >= len(self.lines):
                return mapping
            line = self.lines[self.at]
            width = _indent(line)
            if width < indent:
                return mapping
            match = _KEY.fullmatch(line)
            if (width > indent or match is None or match[2] in mapping or match[2].endswith(" ")
                    or len(match[2]) > _LONGEST_KEY or _NOT_TEXT.fullmatch(match[2])):
                raise _NotPlain  # "on:" or "yes:" would be a boolean key
            self.at += 1
            value = match[3]
            if value is None or not value.strip(" "):
                mapping[match[2]] = self._nested(indent)
            else:
                mapping[match[2]] = self._value(value.strip(" "), indent)

    def _nested(self, indent: int) -> dict:
        self._skip()
        if self.at >= len(self.lines):
            raise _NotPlain  # "key:" with nothing under it is null
        width = _indent(self.lines[self.at])
        if width <= indent:
            raise _NotPlain
        return self._mapping(width)

    def _value(self, value: str, indent: int):
        if value.startswith('"'):
            return self._double_quoted(value, indent)
        if value.startswith("'"):
            return _single_quoted(value)
        if value.startswith("["):
            return _flow_list(value)
        return self._plain(value, indent)

    def _continuations(self, indent: int) -> list[str]:
        """Return the following lines deeper than ``indent`` that continue a scalar."""
        more = []
        while self.at < len(self.lines):
            line = self.lines[self.at]
            stripped = line.strip(" ")
            if not stripped:  # an empty line ends it (one inside a scalar fails elsewhere)
                return more
            if _indent(line) <= indent:
                return more
            more.append(stripped)
            self.at += 1
        return more

    def _plain(self, value: str, indent: int) -> str:
        comment = value.find(" #")
        if comment >= 0:  # a comment ends the scalar (a deeper line after it fails later)
            return _plain_text(value[:comment].rstrip(" "))
        return _plain_text(" ".join([value] + self._continuations(indent)))


    def _double_quoted(self, value: str, indent: int) -> str:
        """A line break inside the quotes folds to one space, with the white space
        around it (the following lines come stripped)."""
        parts = [value[1:]]
        if '"' not in parts[0]:
            parts += self._continuations(indent)
        if '"' in "".join(parts[:-1]):
            raise _NotPlain  # lines after the closing quote (past a comment, or not)
        text = " ".join(parts)
        end = text.find('"')
        rest = text[end + 1:].strip(" ")
        if end < 0 or (rest and not rest.startswith("#")):
            raise _NotPlain
        return text[:end]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _plain_text(value: str) -> str:
    if (not value or value[0] in _PLAIN_START_BAD or value[:2] in ("- ", "? ", ": ", "-", "?", ":")
            or ": " in value or " #" in value or value.endswith(":")
            or _NOT_TEXT.fullmatch(value)):
        raise _NotPlain
    return value


def _single_quoted(value: str) -> str:
    body, _, rest = value[1:].replace("''", "\0").partition("'")
    rest = rest.strip(" ")
    if not _ or (rest and not rest.startswith("#")):
        raise _NotPlain
    return body.replace("\0", "'")


def _flow_list(value: str) -> list:
    """A one-line list of booleans and double-quoted strings: ``[True, False]``."""
    match = _FLOW_LIST.fullmatch(value)
    if match is None:
        raise _NotPlain
    return [item[1:-1] if item[0] == '"' else item[0] in "Tt"
            for item in _FLOW_ITEM.findall(match[1] or "")]
