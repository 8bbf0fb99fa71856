"""Read a gettext ``.po`` catalogue (the file translators edit) into ``{msgid: msgstr}``.

The ``.po`` file is read directly, without compiling it to ``.mo`` first: the
standard library's ``gettext`` reads only ``.mo`` files, and making them needs
GNU ``msgfmt`` or Babel, neither of which every machine (or a wheel) has. The
subset read here is what gradstep's catalogues use and what every tool writes:
``#`` comments and flags, ``msgctxt``, ``msgid``, ``msgstr``, strings continued
over several lines and C escapes. Entries marked ``#, fuzzy`` (a tool's guess,
not yet checked by a person) and entries with an empty ``msgstr`` are left out,
as ``msgfmt`` leaves them out. Pure: no Qt, no torch.
"""

from __future__ import annotations

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v"}


class PoError(ValueError):
    """A ``.po`` file that cannot be read; the message names the line."""


class PoEntry:
    """One entry of a ``.po`` file (a plain class: ``dataclasses`` would import ``inspect``,
    ~5 ms of every command's start, where the catalogue is read)."""

    __slots__ = ("msgid", "msgstr", "msgctxt", "flags", "comments", "line")

    def __init__(self, msgid: str = "", msgstr: str = "", msgctxt: str | None = None,
                 flags: set[str] | None = None, comments: list[str] | None = None, line: int = 0):
        self.msgid, self.msgstr, self.msgctxt = msgid, msgstr, msgctxt
        self.flags = set() if flags is None else flags
        self.comments = [] if comments is None else comments  # translator and extracted comments
        self.line = line  # where the entry starts in the file (1-based)

    def __repr__(self) -> str:
        return f"PoEntry(msgid={self.msgid!r}, msgstr={self.msgstr!r}, line={self.line})"

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def unquote(text: str, line: int = 0) -> str:
    """Return the content of one quoted ``.po`` string (``"a\\"b"`` -> ``a"b``)."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise PoError(f"line {line}: expected a quoted string, got {text!r}")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _ESCAPES:
                raise PoError(f"line {line}: unknown escape in {text!r}")
            out.append(_ESCAPES[body[i + 1]])
            i += 2
            continue
        if char == '"':
            raise PoError(f"line {line}: unescaped quote in {text!r}")
        out.append(char)
        i += 1
    return "".join(out)


def quote(text: str) -> str:
    """Return ``text`` as one quoted ``.po`` string (the inverse of ``unquote``)."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t"))
    return f'"{escaped}"'


def parse_entries(text: str) -> list[PoEntry]:
    """Return every entry of a ``.po`` file's text, the header (msgid "") included."""
    entries: list[PoEntry] = []
    current, key = PoEntry(), None

    def finish() -> None:
        nonlocal current, key
        if key is not None:
            entries.append(current)
        current, key = PoEntry(), None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue  # an obsolete entry, kept by tools for reference only
        elif line.startswith("#,"):
            if key is not None and key != "msgctxt":
                finish()
            current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
        elif line.startswith("#"):
            if key is not None and key != "msgctxt":
                finish()
            if line[1:2] in (" ", ".", ""):
                current.comments.append(line[2:].strip())
        elif line.startswith('"'):
            if key is None:
                raise PoError(f"line {number}: a string outside any entry")
            setattr(current, key, getattr(current, key) + unquote(line, number))
        else:
            word, _, rest = line.partition(" ")
            if word not in ("msgctxt", "msgid", "msgstr"):
                raise PoError(f"line {number}: cannot read {word!r} (plural forms are not used)")
            if word in ("msgctxt", "msgid") and key == "msgstr":
                finish()
            if key is None:
                current.line = number
            key = word
            setattr(current, word, unquote(rest, number))
    finish()
    return entries


def read_catalogue(text: str) -> dict[str, str]:
    """Return ``{msgid: msgstr}`` for the translated, checked entries of a ``.po`` text."""
    return {e.msgid: e.msgstr for e in parse_entries(text)
            if e.msgid and e.msgstr and not e.fuzzy and e.msgctxt is None}
