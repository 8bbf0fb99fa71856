"""The snippet's standard streams between the kernel's runs: fds 1 and 2 and
``sys.stdout``/``stderr`` pointed back at the output pipe the client drains, with the
settings the kernel started with (``restore_output``), a standard input as python starts
with (``restore_input``), and every buffer flushed before a reply (``flush_output``)."""

from __future__ import annotations

import ctypes
import os
import sys


class _Output:
    """A private copy of the output pipe, to give the snippet fresh fds 1 and 2 on every request."""

    fd: int | None = None
    settings: dict = {}  # "stdout"/"stderr" -> what reconfigure() sets, as the kernel started
    stdin: object = None  # sys.__stdin__ as the kernel started (None: fd 0 was closed)
    kept_stdin: bool = False


def keep_output_pipe() -> None:
    """Keep a copy of fd 1 (the output pipe) that the snippet cannot close by accident, and
    the streams' settings (``reconfigure``'s) to give every run."""
    _Output.fd = os.dup(1)
    _Output.stdin, _Output.kept_stdin = sys.__stdin__, True
    for name in ("stdout", "stderr"):
        stream = getattr(sys, f"__{name}__")
        if stream is not None:
            _Output.settings[name] = _stream_settings(stream)


def _stream_settings(stream) -> dict:
    return {"encoding": stream.encoding, "errors": stream.errors,
            "line_buffering": stream.line_buffering, "write_through": stream.write_through}


def restore_output() -> None:
    """Point fds 1 and 2 and sys.stdout/stderr back at the output pipe (a snippet may have closed them)."""
    if _Output.fd is None:
        return
    for fd in (1, 2):
        try:
            os.dup2(_Output.fd, fd)
        except OSError:
            pass  # the copy itself was closed; nothing better to do
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or getattr(stream, "closed", True) or stream is not getattr(sys, f"__{name}__"):
            original = getattr(sys, f"__{name}__")
            if original is None or original.closed:
                original = open(1 if name == "stdout" else 2, "w", buffering=1, closefd=False)
            setattr(sys, name, original)
        _settings_back(getattr(sys, name), _Output.settings.get(name))


def _settings_back(stream, settings: dict | None) -> None:
    """Set ``stream``'s encoding, errors and buffering back to ``settings`` where a run's
    ``reconfigure()`` changed them: a fresh python starts with them (a run's
    ``sys.stdout.reconfigure(write_through=False)`` had the next run's stdout come after
    its stderr)."""
    try:
        if not settings or _stream_settings(stream) == settings:
            return
        stream.flush()
        stream.reconfigure(**settings)
    except (AttributeError, OSError, ValueError, LookupError):
        pass  # not a TextIOWrapper of ours, or closed: nothing better to do


def restore_input() -> None:
    """Give the next run a standard input as python starts with: the builtin ``exit()``
    closes ``sys.stdin`` before it raises (``site.Quitter``), and a run may replace it; the
    next run's ``input()`` then raised "I/O operation on closed file" where a fresh python
    reads fd 0 (the window's kernel: ``/dev/null``, EOF). A closed one is opened again on
    fd 0 (never closing it), with the encoding, errors and buffering the old one had."""
    old = _Output.stdin if _Output.kept_stdin else sys.__stdin__  # (a run may set __stdin__)
    if old is None:  # the kernel started with fd 0 closed: python's sys.stdin is None then
        sys.stdin = sys.__stdin__ = None  # (input(): "lost sys.stdin"), never a file fd 0
        return                            # names later
    if not old.closed:
        if sys.stdin is not old or sys.__stdin__ is not old:
            sys.stdin = sys.__stdin__ = old
        return
    try:
        raw = open(0, "rb", closefd=False)  # noqa: SIM115 (it lives as long as the process)
    except OSError:
        return  # fd 0 gone: nothing better to do
    fresh = _text_like(raw, old)
    sys.stdin = sys.__stdin__ = fresh
    if _Output.kept_stdin:
        _Output.stdin = fresh


def _text_like(raw, old):
    """Return ``raw`` read as text the way ``old`` (the closed ``sys.__stdin__``) read it,
    made as python makes its own (``create_stdio``): named ``<stdin>``, mode ``r``, and no
    newline translation (a ``\r\n`` line's input() keeps its ``\r``)."""
    import io

    encoding = getattr(old, "encoding", None) or "utf-8"
    errors = getattr(old, "errors", None) or "strict"
    raw.raw.name = "<stdin>"
    text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="\n",
                            line_buffering=bool(getattr(old, "line_buffering", False)))
    text.mode = "r"
    return text


def flush_output() -> None:
    """Flush Python's and C's stdout/stderr buffers so the client gets all output before the reply."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # the snippet closed or replaced the stream
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass
