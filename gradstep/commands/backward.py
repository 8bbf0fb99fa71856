"""`gradstep backward FILE --json`: run backward on the snippet's root and print the step timeline.

Options: ``--retain-graph``, ``--mode backward|grad`` (``grad``: torch.autograd.grad
with respect to every leaf that requires grad), ``--passes N`` (a second pass
without ``--retain-graph`` reproduces torch's error), ``--gradient ones`` (for a
non-scalar root). Prints the DESIGN.md backward JSON (strict JSON) plus ``calls``,
the backward calls the snippet made itself. Exit status: 0, 1 when the snippet
or a pass failed (the JSON still shows where it stopped), 2 for bad usage.
"""

from __future__ import annotations

from gradstep.autograd.errors import make_error
from gradstep.commands.run_and_report import (
    BAD_USAGE,
    OK,
    SNIPPET_FAILED,
    CommandError,
    display_name,
    print_json,
    report_error,
    run_snippet,
)
from gradstep.i18n import lazy


def run(args) -> int:
    """Print the backward timeline on stdout; return the exit status (0, 1 or 2)."""
    name = display_name(args)
    if args.passes < 1:
        report_error(_usage(lazy("--passes {passes}: run at least one pass (--passes 1 or more)",
                                 passes=args.passes)), name)
        return BAD_USAGE
    try:
        session, result, _filename = run_snippet(args)
    except CommandError as exc:
        report_error(exc.error, name)
        return exc.status
    try:
        timeline = session.backward(mode=args.mode, retain_graph=args.retain_graph,
                                    passes=args.passes, gradient=args.gradient)
        timeline["calls"] = result.get("calls") or []
        print_json(timeline)
        if timeline.get("error"):
            report_error(timeline["error"], name)
            return SNIPPET_FAILED
        return OK
    finally:
        session.shutdown()  # the kernel process ends with the command


def _usage(message) -> dict:
    return make_error("other", message, type="usage", exit_status=BAD_USAGE,
                      title=lazy("Bad option"), fix="gradstep backward FILE --json --passes 2")
