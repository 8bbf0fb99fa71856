"""`gradstep trace FILE --json`: print the autograd graph as the DESIGN.md trace JSON.

The kernel writes the JSON text itself (``kernel.writing``) and this command copies it
to stdout: a 100,000-node trace is ~99 MB, which would otherwise be encoded for the
pipe, decoded here and encoded again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradstep.autograd.errors import make_error
from gradstep.commands.run_and_report import (
    CommandError,
    display_name,
    print_bytes,
    print_json,
    report_error,
    run_snippet,
    write_in_kernel,
)
from gradstep.i18n import lazy


def run(args) -> int:
    """Print the trace JSON on stdout; return the exit status (0, 1 or 2)."""
    try:
        session, result, _filename = run_snippet(args, keep_trace=True)
    except CommandError as exc:
        report_error(exc.error, display_name(args))
        return exc.status
    try:
        return _print_trace(args, session, result)
    finally:
        session.shutdown()  # the kernel process ends with the command


def _print_trace(args, session, result: dict) -> int:
    if not result.get("trace_kept"):
        print_json(result["trace"])  # None: the snippet made no graph
        return 0
    try:
        handle, path = tempfile.mkstemp(prefix="gradstep-trace-", suffix=".json")
    except OSError as exc:
        report_error(_refused(exc), display_name(args))
        return 1
    os.close(handle)
    try:
        reply = write_in_kernel(session, path, kind="trace")
        if reply.get("written") is None:
            error = reply.get("error") or _refused(reply.get("refused"))
            report_error(error, display_name(args))
            return 1
        print_bytes(Path(path).read_bytes())
    finally:
        os.unlink(path)
    return 0


def _refused(reason) -> dict:
    """The trace could not go through its temporary file (the kernel writes it there)."""
    return make_error("other", str(reason), title=lazy("Cannot print the trace"),
                      explanation=lazy("The snippet ran; the kernel writes the trace to a "
                                       "temporary file first, and that failed."),
                      fix=lazy("Make the temporary folder writable with room for the trace "
                               "(or point TMPDIR at one), then run the command again."))
