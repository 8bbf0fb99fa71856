"""Find the texts of the pure catalogue in gradstep's source, and write ``.po`` files.

The texts are the string literals given to ``_``, ``N_`` and ``lazy``
(``gradstep.i18n``), found by reading the source with ``ast`` (what ``xgettext
--keyword=N_ --keyword=lazy`` does, without needing GNU gettext installed).
``scripts/i18n.py update`` merges them into every ``.po`` file; the tests use
``source_texts`` to check that each one has its translation. Pure: no Qt, no torch.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from gradstep.i18n.po import PoEntry, parse_entries, quote

KEYWORDS = ("_", "N_", "lazy")
PACKAGE = Path(__file__).resolve().parents[1]
SKIPPED = ("resources",)  # the example snippets are the learners' code, not gradstep's words


def source_files(root: Path = PACKAGE) -> list[Path]:
    """Return gradstep's Python modules whose texts belong in the catalogue."""
    return sorted(p for p in root.rglob("*.py")
                  if not any(part in SKIPPED for part in p.relative_to(root).parts))


def texts_in(source: str, filename: str = "<source>") -> list[tuple[str, int]]:
    """Return ``(text, line)`` for every literal first argument of ``_``, ``N_``, ``lazy``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in KEYWORDS and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.args[0].value, node.lineno))
    return sorted(found, key=lambda item: item[1])


def source_texts(files: Iterable[Path] | None = None, root: Path = PACKAGE) -> dict[str, list[str]]:
    """Return ``{text: ["gradstep/autograd/errors.py", ...]}`` in source order (the files
    that use it; no line numbers, so an edit elsewhere in a file leaves the ``.po`` alone)."""
    out: dict[str, list[str]] = {}
    for path in files if files is not None else source_files(root):
        where = path.relative_to(root.parent).as_posix()
        for text, _line in texts_in(path.read_text(encoding="utf-8"), str(path)):
            places = out.setdefault(text, [])
            if where not in places:
                places.append(where)
    return out


def header(code: str) -> str:
    return ("Project-Id-Version: gradstep\n"
            f"Language: {code}\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=UTF-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            "Plural-Forms: nplurals=1; plural=0;\n")


def merged(po_text: str | None, texts: dict[str, list[str]], code: str) -> str:
    """Return a ``.po`` file holding ``texts`` with the translations ``po_text`` already
    has; new texts get an empty translation, texts no longer in the source are dropped.

    The entries ``po_text`` has keep its order (``ordered``), so an update of a tree whose
    texts did not change changes nothing, and a merge of two branches' catalogues reads as
    the entries each added."""
    old = {e.msgid: e for e in parse_entries(po_text)} if po_text else {}
    head = old.get("")
    out = [_entry(PoEntry(msgid="", msgstr=head.msgstr if head else header(code),
                          comments=head.comments if head else []), [])]
    for text in ordered([msgid for msgid in old if msgid], list(texts)):
        out.append(_entry(old.get(text) or PoEntry(msgid=text), texts[text]))
    return "\n".join(out)


def ordered(kept: list[str], source: list[str]) -> list[str]:
    """Return the texts of ``source`` (in source order) in the order of ``kept`` (a file's,
    those no longer in ``source`` left out), each new one placed right after the text before
    it in ``source`` (the one after the file's start where none is): near the texts of its
    own module, the same place on every run."""
    wanted = set(source)
    order = [text for text in kept if text in wanted]
    at = {text: i for i, text in enumerate(order)}
    after: dict[str | None, list[str]] = {}  # an earlier text (None: the start) -> new ones
    anchor = None
    for text in source:
        if text in at:
            anchor = text
        else:
            after.setdefault(anchor, []).append(text)
    out = list(after.get(None, ()))
    for text in order:
        out.append(text)
        out.extend(after.get(text, ()))
    return out


def _entry(entry: PoEntry, places: list[str]) -> str:
    lines = [f"# {c}" for c in entry.comments]
    lines += [f"#: {p}" for p in places]
    flags = set(entry.flags)
    if "{" in entry.msgid:
        flags.add("python-brace-format")
    if flags:
        lines.append("#, " + ", ".join(sorted(flags)))
    lines.append(f"msgid {_wrapped(entry.msgid)}")
    lines.append(f"msgstr {_wrapped(entry.msgstr)}")
    return "\n".join(lines) + "\n"


def _wrapped(text: str) -> str:
    """Return a ``.po`` string, one quoted line per source line when it has several."""
    if "\n" not in text.rstrip("\n"):
        return quote(text)
    parts = text.splitlines(keepends=True)
    return '""\n' + "\n".join(quote(p) for p in parts)
