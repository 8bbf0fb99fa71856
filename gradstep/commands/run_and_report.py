"""What every headless subcommand shares: load the snippet, open a session,
print strict JSON to stdout, print errors to stderr, and the exit codes.

Exit status: 0 success, 1 the snippet failed, 2 bad usage or an unavailable device, 130
the snippet raised KeyboardInterrupt (``exit_status.failure_status``).
Standard output carries only the JSON; whatever the snippet printed goes to stderr.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

from gradstep.autograd.snippet import SnippetLoadError, load_snippet
from gradstep.kernel.client import Kernel
from gradstep.policies.strict_json import json_line

OK, SNIPPET_FAILED, BAD_USAGE = 0, 1, 2


class CommandError(Exception):
    """A subcommand cannot go on; ``error`` is an error dict, ``status`` the exit code."""

    def __init__(self, error: dict, status: int):
        super().__init__(error.get("message", ""))
        self.error = error
        self.status = status


def display_name(args) -> str:
    """Return the name errors call the snippet by: ``<string>`` for ``-c``, ``<stdin>`` for ``-``,
    else the file's path; ``gradstep`` for both (refused: neither is the snippet, and
    "<string>: Two snippets given" blamed the code) and for neither (there is no snippet to
    name: "<snippet>: The snippet failed" blamed one)."""
    if getattr(args, "code", None) is not None:
        return "gradstep" if getattr(args, "file", None) is not None else "<string>"
    return "<stdin>" if args.file == "-" else (args.file or "gradstep")


def load_source(args) -> tuple[str, str]:
    """Return ``(source, filename)`` from ``args.file`` / ``args.code``; raise CommandError."""
    try:
        return load_snippet(args.file, args.code)
    except SnippetLoadError as exc:
        raise CommandError(exc.error, exc.error.get("exit_status", SNIPPET_FAILED)) from None


COMMAND_KERNEL = {"restart_eagerly": False,
                  "collect_at_start": False,  # the command waits for its kernel
                  "inherit_stdin": True}  # the snippet's input() reads what python's would


def open_session(args):
    """Return the session a subcommand runs its snippet in: a kernel process (gradstep.kernel)
    that honours ``--timeout``, caps memory and survives crashes of the snippet."""
    return Kernel(timeout=getattr(args, "timeout", None), **COMMAND_KERNEL)


class Started(NamedTuple):
    """A snippet run by a subcommand: its session (to shut down), the run's reply, the text."""

    session: object
    result: dict
    source: str
    filename: str


def start_snippet(args, *, keep_trace: bool = False, networkx: bool = False) -> Started:
    """Load and run the snippet of ``args``; copy its own output to stderr.

    Raises CommandError when the snippet cannot be loaded (no session is opened then).
    A snippet that fails is returned as it is (``result["ok"]`` False): a failure after
    the graph was built still has a graph to show. ``keep_trace``: a finished run's trace
    stays in the kernel (``result["trace_kept"]``) for ``session.write`` (a Kernel only;
    an in-process session, in tests, sends it as always). The caller shuts the session down.
    """
    source, filename = load_source(args)
    _open_line[0] = False  # a new command's output (one command per process, but for tests)
    session = open_session(args)
    more = ({"keep_trace": True, "networkx": networkx}
            if keep_trace and isinstance(session, Kernel) else {})
    try:
        result = session.run(source, device=args.device, root=args.root, filename=filename,
                             deep_values=getattr(args, "deep_values", False), **more)
    except BaseException:
        session.shutdown()
        raise
    copy_output(result.get("output"))
    return Started(session, result, source, filename)


def run_snippet(args, *, keep_trace: bool = False):
    """Load and run the snippet of ``args``; return ``(session, result, filename)``.

    The snippet's own output is copied to stderr. Raises CommandError when the
    snippet cannot be loaded or failed (the session is shut down then). The caller shuts
    the session down otherwise: a Kernel left to the collector warns "subprocess ... is
    still running" (a ResourceWarning, shown under ``PYTHONWARNINGS=default``).
    """
    started = start_snippet(args, keep_trace=keep_trace)
    if not started.result["ok"]:
        started.session.shutdown()  # the caller gets no session to end
        raise CommandError(started.result["error"],
                           started.result.get("exit_code") or SNIPPET_FAILED)
    return started.session, started.result, started.filename


def recorded(calls) -> bool:
    """Whether any of the snippet's backward calls (a run's ``calls``) was recorded."""
    return any(call.get("timeline") for call in calls or ())


def calls_elsewhere(result: dict, chosen: bool) -> bool:
    """Return True where the snippet made recorded backward calls and no ``--root`` was
    ``chosen``: asked where none of them is a pass on the graph drawn (a loss local to a
    function, beside a top-level ``h = x.exp()``), gradstep then starts no pass of its own,
    as the snippet made its own (with ``--root NAME`` it does: a graph the user chose)."""
    return not chosen and recorded(result.get("calls"))


def write_in_kernel(session, path: str, **options) -> dict:
    """Have the kernel write the trace its run kept (``kernel.writing``) to ``path``; pass on
    to stderr what was printed meanwhile (a library's warning); return the ``WriteReply``."""
    reply = session.write(path, **options)
    copy_output(reply.get("output"))
    return reply


_open_line = [False]  # the snippet's output copied last did not end its line


def copy_output(text: str | None) -> None:
    """Copy what the snippet printed to stderr, as it printed it."""
    if text:
        sys.stderr.write(text)
        sys.stderr.flush()
        _open_line[0] = not text.endswith("\n")


def print_json(data) -> None:
    """Write ``data`` to stdout as strict JSON (no NaN/Infinity literals), one line, UTF-8."""
    print_bytes(json_line(data))


def print_bytes(encoded: bytes) -> None:
    """Write UTF-8 ``encoded`` text (JSON made by ``json_line``) to stdout."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout (tests): text is all it takes
        sys.stdout.write(encoded.decode("utf-8"))
    else:  # bytes: JSON is UTF-8 whatever the console's encoding
        sys.stdout.flush()
        buffer.write(encoded)
    sys.stdout.flush()


def report_error(err: dict, filename: str) -> None:
    """Write the plain-words explanation of ``err`` to stderr, on a line of its own (after
    a snippet's output that did not end its line: ``print("xy", end="")``)."""
    from gradstep.autograd.errors import format_error  # here: a command that works never loads it

    if _open_line[0]:
        sys.stderr.write("\n")
        _open_line[0] = False
    sys.stderr.write(format_error(err, filename) + "\n")
    sys.stderr.flush()


def report_caught(err: dict, filename: str, *, exits_0: bool = True) -> None:
    """Explain ``err``, the error torch raised in a backward call of the snippet's that the
    snippet caught and went on (``try: p.backward()``), and say so: the command then exits
    0, as ``python FILE`` does (the snippet did not fail); ``exits_0`` False for ``check``,
    whose exit status its findings decide."""
    from gradstep.i18n import _

    report_error(err, filename)
    sys.stderr.write((_("The snippet caught this error and went on, as it does under python: "
                        "exit status 0.") if exits_0 else
                      _("The snippet caught this error and went on, as it does under "
                        "python.")) + "\n")
    sys.stderr.flush()
