"""`gradstep trace FILE --json`: print the autograd graph as the DESIGN.md trace JSON."""

from __future__ import annotations

from gradstep.commands.run_and_report import (
    CommandError,
    display_name,
    print_json,
    report_error,
    run_snippet,
)


def run(args) -> int:
    """Print the trace JSON on stdout; return the exit status (0, 1 or 2)."""
    try:
        _session, result, _filename = run_snippet(args)
    except CommandError as exc:
        report_error(exc.error, display_name(args))
        return exc.status
    print_json(result["trace"])
    return 0
