"""Read a snippet from a file, standard input (``-``) or ``-c CODE`` and say clearly
why when it cannot be one (missing, a directory, empty, not text)."""

from __future__ import annotations

import ast
import codecs
import io
import json
import re
import sys
import tokenize
from pathlib import Path

from gradstep.i18n import lazy
from gradstep.policies.script_name import script_path

# Far beyond any hand-written snippet; stops us reading a disk image into memory.
MAX_BYTES = 10 * 1024 * 1024


class SnippetLoadError(Exception):
    """The snippet could not be loaded. ``error`` is an error dict (see errors.py);
    ``error["exit_status"]`` is 2 for bad usage (nothing given, no such file, a
    directory) and 1 for a file that is not a runnable snippet (empty, not text)."""

    def __init__(self, error: dict):
        super().__init__(error["message"])
        self.error = error


def load_snippet(file: str | None, code: str | None, stdin=None) -> tuple[str, str]:
    """Return ``(source, filename)``: ``code`` (filename ``<string>``) when given,
    else standard input when ``file`` is ``-`` (filename ``<stdin>``), else the
    file's text decoded as UTF-8 (or the encoding its coding line declares).
    Raises SnippetLoadError when there is no usable snippet."""
    if code is not None and file is not None:  # one of them would be dropped without a word
        raise _usage(lazy("Both a FILE ({file}) and -c CODE were given: pass one of them.",
                          file=file), title=lazy("Two snippets given"),
                     explanation=lazy("gradstep runs one snippet, and it cannot tell which of "
                                      "the two you meant."),
                     fix=lazy("Leave out -c CODE to run the file, or the FILE to run CODE."))
    if code is not None:
        return _checked(code, "<string>"), "<string>"
    if file is None:
        raise _usage(lazy("No snippet given: pass a FILE, `-` for standard input, or -c CODE."),
                     title=lazy("No snippet given"),
                     explanation=lazy("Nothing was run: each command runs one snippet, and "
                                      "none was named."),
                     fix=lazy("Put the file after the command (`gradstep trace model.py`), "
                              "or the code itself (`gradstep trace -c \"y = torch.ones(2, "
                              "requires_grad=True) * 2\"`)."))
    if file == "-":
        data = _read_stream(stdin if stdin is not None else sys.stdin)
        return _not_a_notebook(_decoded(data, "<stdin>"), "<stdin>"), "<stdin>"
    return _not_a_notebook(_decoded(_read_file(Path(file)), file), file), file


def _usage(message: dict, **extra) -> SnippetLoadError:
    """Return the error for a snippet that was not given properly (exit status 2)."""
    return SnippetLoadError(_error("other", message, exit_status=2, **extra))


def _read_file(path: Path) -> bytes:
    """Return the bytes of ``path``, refusing what cannot be a snippet file."""
    if not path.exists():
        raise _usage(lazy("No such file: {path}", path=str(path)), type="FileNotFoundError",
                     title=lazy("File not found"),
                     explanation=lazy("There is no file at this path."),
                     fix=lazy("Check the path and the spelling (it is relative to the "
                              "current directory)."))
    if path.is_dir():
        raise _usage(lazy("{path} is a directory, not a snippet file", path=str(path)),
                     type="IsADirectoryError", title=lazy("A directory, not a file"),
                     explanation=lazy("A snippet is one Python file."),
                     fix=lazy("Give the path of a .py file inside that directory."))
    try:
        if path.stat().st_size > MAX_BYTES:
            raise _not_text(_too_large(str(path)))
        return path.read_bytes()
    except OSError as exc:
        raise _usage(lazy("Cannot read {path}: {reason}", path=str(path),
                          reason=str(exc.strerror or exc)), type=type(exc).__name__,
                     title=lazy("Cannot read the file"),
                     explanation=lazy("The file exists but could not be read."),
                     fix=lazy("Check the file's permissions.")) from exc


def _read_stream(stream) -> bytes | str:
    """Return everything on ``stream``: bytes when it has a binary buffer, else text."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return buffer.read(MAX_BYTES + 1)
    return stream.read()


def _too_large(filename: str) -> dict:
    return lazy("{file} is larger than {size} MB; a snippet is a short Python file",
                file=filename, size=MAX_BYTES // (1024 * 1024))


def _not_text(message: dict, line: int | None = None) -> SnippetLoadError:
    """Return the error for data that is not a text snippet (exit status 1)."""
    return SnippetLoadError(_error("not_text", message, line=line, exit_status=1))


def _decoded(data: bytes | str, filename: str) -> str:
    """Return ``data`` as text, refusing binary data and undecodable bytes."""
    if isinstance(data, str):
        return _checked(data, filename)
    if len(data) > MAX_BYTES:
        raise _not_text(_too_large(filename))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # python reads no UTF-16 source
        raise _python_refuses(_non_utf8(data, 0, 1, filename), 1, lazy(
            "The file is UTF-16 text (it starts with a UTF-16 byte-order mark), and python "
            "reads a source file as UTF-8 (or the 8-bit encoding a coding line declares)."),
            lazy("Save the file as UTF-8 (in most editors: Save with Encoding, UTF-8)."))
    if b"\x00" in data:
        raise _not_text(lazy("{file} contains NUL bytes (it looks binary)", file=filename))
    encoding, declared = _declared_encoding(data, filename)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        text = _as_python_reads(data, encoding, declared, exc, filename)
    return _checked(text.removeprefix("\ufeff"), filename)


def _declared_encoding(data: bytes, filename: str) -> tuple[str, bool]:
    """Return the encoding a BOM or a PEP 263 coding line declares (UTF-8 by default), and
    whether one was declared."""
    try:
        encoding, lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if exc.msg.startswith("invalid or missing encoding declaration"):
            # no coding line, and line 1 or 2 is not UTF-8: decoded as UTF-8 (the default,
            # or the BOM's) by the caller, which tells it as python does
            if data.startswith(codecs.BOM_UTF8):
                return "utf-8-sig", True
            return "utf-8", False
        raise _not_text(lazy("{file}: {reason}", file=filename, reason=exc.msg)) from exc
    declared = data.startswith(codecs.BOM_UTF8) or any(
        _CODING.match(line.decode("latin-1")) for line in lines)
    return encoding, declared


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")  # PEP 263's, as tokenize's


def _as_python_reads(data: bytes, encoding: str, declared: bool, exc: UnicodeDecodeError,
                     filename: str) -> str:
    """Return the text of a file that does not decode as a whole, where ``python FILE`` runs
    it; else raise its error with python's own message (python 3.11 reads it so):

    - declared UTF-8 (a BOM or a coding line): python never decodes a comment, so a bad
      byte there is passed over and the file runs; one in code or a string is its
      "(unicode error) 'utf-8' codec can't decode ..." SyntaxError;
    - no coding line: "Non-UTF-8 code starting with ... on line N, but no encoding declared";
    - another coding declared: "encoding problem: NAME"."""
    offset = exc.start + (3 if encoding == "utf-8-sig" else 0)  # the codec's count skips a BOM
    line = data[:offset].count(b"\n") + 1
    byte = f"0x{data[offset]:02x}"
    if declared and encoding in ("utf-8", "utf-8-sig"):
        try:  # python's own reading of the bytes: comments passed over, strings decoded
            compile(data, script_path(filename), "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except SyntaxError as error:
            if (error.msg or "").startswith("(unicode error) 'utf-8' codec"):
                byte, line = _refused_byte(data, error)
                raise _python_refuses(error.msg, error.lineno, lazy(
                    "Line {line} holds byte {byte}, which is not UTF-8, the encoding the file "
                    "declares: python passes over such bytes in comments only, not in strings "
                    "or code.", line=line, byte=byte), lazy(
                    "Retype the text on line {line} and save the file as UTF-8 again.",
                    line=line)) from exc
        # (any other syntax error is the run's to tell, as python tells it)
        return data.decode(encoding, "replace")  # the bad bytes are in comments only
    if not declared:
        raise _python_refuses(_non_utf8(data, offset, line, filename), line, lazy(
                "Python reads a file without a coding line as UTF-8, and byte {byte} on line "
                "{line} is not UTF-8: the file was saved in another encoding (Latin-1, "
                "Windows-1252, GBK ...) or holds binary data.", byte=byte, line=line), lazy(
                "Save the file as UTF-8 (in most editors: Save with Encoding, UTF-8), or "
                "declare its encoding on line 1 or 2 (`# -*- coding: latin-1 -*-`).")) from exc
    raise _python_refuses(f"encoding problem: {encoding}", line, lazy(
        "The file declares the coding {encoding}, but byte {byte} on line {line} is not "
        "{encoding} text.", encoding=encoding, byte=byte, line=line), lazy(
        "Change the coding line to the encoding the file is saved in (most likely utf-8), "
        "or save the file as {encoding}.", encoding=encoding)) from exc


def _refused_byte(data: bytes, error: SyntaxError) -> tuple[str, int]:
    """Return the byte python's "(unicode error) 'utf-8' codec can't decode byte 0xNN" names
    and its line: the last such byte up to the end of python's line (a string on several
    lines is told at its last; a comment's bad bytes before it are not the one refused)."""
    named = re.search(r"byte (0x[0-9a-f]{2})", error.msg)
    end = sum(len(line) for line in data.splitlines(keepends=True)[: error.lineno or 0])
    found, at = None, 0
    while at < end:
        try:
            data[at:end].decode("utf-8")
            break
        except UnicodeDecodeError as bad:
            if bad.start >= end - at:
                break
            if named is None or f"0x{data[at + bad.start]:02x}" == named.group(1):
                found = at + bad.start
            at += bad.end
    if found is None:  # not found (python's count differs): its line, the byte it names
        return (named.group(1) if named else "?"), error.lineno
    return f"0x{data[found]:02x}", data[:found].count(b"\n") + 1


def _non_utf8(data: bytes, offset: int, line: int, filename: str) -> str:
    """Return python's message for a file with no coding line whose byte at ``offset`` (on
    ``line``) is not UTF-8."""
    return (f"Non-UTF-8 code starting with '\\x{data[offset]:02x}' in file "
            f"{script_path(filename)} on line {line}, but no encoding declared; see "
            "https://peps.python.org/pep-0263/ for details")


def _python_refuses(message: str, line: int, explanation: dict, fix: dict) -> SnippetLoadError:
    """Return the error for a file python refuses to read: its SyntaxError's own message."""
    return SnippetLoadError(_error("not_text", message, line=line, exit_status=1,
                                   type="SyntaxError", title=lazy("Not a text file"),
                                   explanation=explanation, fix=fix))


def replaced_bytes(file: str) -> bool:
    """Whether ``file`` declares UTF-8 (a BOM or a coding line) yet holds bytes that are not
    UTF-8, which python passes over in comments and ``load_snippet`` reads as U+FFFD: its
    text saved again would not hold those bytes."""
    try:
        data = Path(file).read_bytes()
        encoding, declared = _declared_encoding(data, file)
        data.decode(encoding)
    except UnicodeDecodeError:
        return declared and encoding in ("utf-8", "utf-8-sig")
    except (OSError, SnippetLoadError, LookupError):
        return False
    return False


def _checked(text: str, filename: str) -> str:
    """Return ``text`` with Unix line endings, refusing an empty or blank snippet."""
    if "\x00" in text:
        raise _not_text(lazy("{file} contains NUL characters (it looks binary)", file=filename))
    if not text.strip():
        message = (lazy("{file} has 0 characters", file=filename) if not text
                   else lazy("{file} holds only white space", file=filename))
        raise SnippetLoadError(_error("empty", message, exit_status=1))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_a_notebook(text: str, filename: str) -> str:
    """Return ``text``, refusing a Jupyter notebook: its JSON is no Python a learner meant
    to run (as a script it evaluates one dict of literals, or fails at its first ``null``),
    so nothing with an effect is skipped by not running it."""
    if not text.lstrip().startswith("{"):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not (isinstance(data, dict) and isinstance(data.get("cells"), list)
            and "nbformat" in data):
        return text
    raise SnippetLoadError(_error(
        "not_text", lazy("{file} is a Jupyter notebook (JSON), not a Python file",
                         file=filename), exit_status=1,
        title=lazy("A notebook, not a snippet"),
        explanation=lazy("A notebook stores its cells as JSON; run as a script it does "
                         "nothing (or fails at the first `null`)."),
        fix=lazy("Save its code as a .py file (`jupyter nbconvert --to script {file}`, or "
                 "File › Save and Export Notebook As › Executable Script), or use gradstep in "
                 "the notebook itself: `import gradstep`, then `gradstep.draw(loss)` "
                 "(docs/api.md).", file=filename)))


def _error(kind: str, message, **fields) -> dict:
    """Return ``errors.make_error``'s record; imported here: the command line's start, which
    reads a snippet that loads, never loads the error machinery (~7 ms)."""
    from gradstep.autograd.errors import make_error

    return make_error(kind, message, **fields)
