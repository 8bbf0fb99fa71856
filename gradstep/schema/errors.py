"""The error record: every failure gradstep reports, from any layer, has this shape.

``autograd.errors.explain`` fills one from an exception (with torch's own words and a
plain explanation), ``autograd.errors.make_error`` from a failure that is no exception,
the kernel (``kernel.messages``) for a stop, a crash or a kernel that cannot start, and
the window (``ui.qt_runner``) for a request that raised inside gradstep itself. All of
them start from ``error_record`` below, so the keys are the same everywhere.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

ErrorKind = Literal[
    # autograd errors, told apart by torch's message (autograd.errors) and the source
    "no_grad_fn", "stale_graph", "not_requiring_grad", "freed_buffers", "non_scalar",
    "unused_input", "inplace",
    # the snippet as a file, the run as a whole
    "syntax", "empty", "not_text", "nothing_to_draw", "device_unavailable",
    # the kernel: a stop or timeout, memory, a crash or a kernel that could not start
    "timeout", "memory", "crash", "output",
    "other",
]
ERROR_KINDS: tuple[str, ...] = ErrorKind.__args__


class _ErrorRequired(TypedDict):
    kind: Annotated[ErrorKind, "what went wrong, one word (ERROR_KINDS)"]
    type: Annotated[str | None, "the exception's class name (RuntimeError), None for a failure that is no exception"]
    message: Annotated[str, "the first line of torch's (or Python's) own message"]
    detail: Annotated[str, "the whole message"]
    line: Annotated[int | None, "1-based line in the snippet, None when unknown"]
    column: Annotated[int | None, "1-based column in that line, None when unknown"]
    code: Annotated[str | None, "the text of that line"]
    title: Annotated[str, "a few plain words: what happened"]
    explanation: Annotated[str, "what it means"]
    fix: Annotated[str, "how to fix it"]


class Message(TypedDict):
    """gradstep's own words, to be worded in the person's language where shown
    (``gradstep.i18n.lazy``/``render``)."""

    msgid: Annotated[str, "the English text, the catalogue's key; {name} placeholders"]
    args: Annotated[dict[str, Any], "the placeholders' values (a value may be a Message)"]


# "pass" is a Python keyword: the class syntax cannot declare it
_ErrorOptional = TypedDict("_ErrorOptional", {
    "exit_status": Annotated[int, "the command line's exit status for it (1 snippet failed, "
                             "2 bad usage, 0 a hook's exit(0) that stopped gradstep's own pass, "
                             "or its own pass failing on buffers the snippet freed in a call "
                             "gradstep did not record, 130 a hook's KeyboardInterrupt there)"],
    "pass": Annotated[int, "the 0-based pass that raised (backward replies)"],
    "node": Annotated[str | None, "the node where that pass raised (backward replies)"],
    "printed": Annotated[str, "the snippet's uncaught exception as python prints it, its tracebacks cut to the user's frames: only where that says more than type and first line (a multi-line message, notes, an ExceptionGroup, the exceptions it was raised from)"],
    "words": Annotated[dict[str, Message], "gradstep's own texts of this record (title, explanation, fix, message) as messages, for the window and the command line to word in the person's language; the fields above stay English"],
}, total=False)


class ErrorRecord(_ErrorRequired, _ErrorOptional):
    """A failure: where in the snippet, torch's own words, what they mean, how to fix it."""


def error_record(kind: str, detail: str | None, *, type: str | None = None,
                 line: int | None = None, column: int | None = None, code: str | None = None,
                 title: str = "", explanation: str = "", fix: str = "") -> ErrorRecord:
    """Return an error record of ``kind``: ``message`` is the first line of ``detail``."""
    detail = detail or ""
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    return {
        "kind": kind, "type": type, "message": first, "detail": detail,
        "line": line, "column": column, "code": code,
        "title": title, "explanation": explanation, "fix": fix,
    }


def source_line(source: str | None, line: int | None) -> str | None:
    """Return line ``line`` (1-based) of ``source`` without its newline, or None."""
    if not source or not line or line < 1:
        return None
    lines = source.splitlines()
    return lines[line - 1] if line <= len(lines) else None
