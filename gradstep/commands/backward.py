"""`gradstep backward FILE --json`: print the step timeline of a backward pass.

When the snippet calls ``backward()`` / ``autograd.grad`` itself on the graph drawn, and
no pass option is given, those calls are the passes printed (what torch did when the
snippet ran: a pass of gradstep's own after them would find the buffers they freed, or a
non-scalar root the snippet never called backward on), ``from_snippet`` true; so are all
its recorded calls where it left no graph to draw (calls on leaves themselves,
``x.backward(g)``: one AccumulateGrad step each; a loss that lived only in ``main()``'s
locals), and where its calls all ran on graphs other than the one drawn (no ``--root``):
python exits 0 there, and so does the command. Otherwise
it runs a pass on the snippet's root. Options: ``--retain-graph``, ``--mode backward|grad`` (``grad``: torch.autograd.grad
with respect to every leaf that requires grad), ``--passes N`` (a second pass
without ``--retain-graph`` reproduces torch's error), ``--gradient ones`` (for a
non-scalar root). Prints the DESIGN.md backward JSON (strict JSON) plus ``calls``,
the backward calls the snippet made itself. Exit status: 0, 1 when the snippet
or gradstep's own pass failed (the JSON still shows where it stopped: a snippet that failed in a
backward call of its own prints its passes, drawn or not), 2 for bad usage. A pass of the snippet's that
torch raised in while the snippet caught the error and went on (``p.backward()`` in a try)
is explained on stderr, with a line saying the snippet caught it, and exits 0: the snippet
did not fail, as ``python FILE`` exits 0.
"""

from __future__ import annotations

from gradstep.autograd.errors import make_error
from gradstep.autograd.pass_join import combine_passes
from gradstep.commands.run_and_report import (
    BAD_USAGE,
    OK,
    SNIPPET_FAILED,
    CommandError,
    display_name,
    print_json,
    report_caught,
    report_error,
    start_snippet,
)
from gradstep.i18n import lazy


def run(args) -> int:
    """Print the backward timeline on stdout; return the exit status (0, 1 or 2)."""
    name = display_name(args)
    own_pass = any(value is not None for value in
                   (args.retain_graph, args.mode, args.passes, args.gradient))
    if args.passes is not None and args.passes < 1:
        report_error(_usage(lazy("--passes {passes}: run at least one pass (--passes 1 or more)",
                                 passes=args.passes)), name)
        return BAD_USAGE
    try:
        started = start_snippet(args)
    except CommandError as exc:
        report_error(exc.error, name)
        return exc.status
    session, result = started.session, started.result
    calls = result.get("calls") or []
    try:
        timeline = None if own_pass else snippet_passes(calls)
        if timeline is None and not own_pass and _undrawn_passes_only(result):
            timeline = recorded_passes(calls)  # (the snippet left no graph to draw)
            result = {**result, "ok": True, "error": None}
        elif timeline is None and not own_pass and not result["ok"] and _ran_steps(calls):
            timeline = recorded_passes(calls)  # failed, its passes undrawn: as a drawn one
        elif timeline is None and not own_pass and result["ok"] and _recorded(calls) \
                and not args.root:  # (--root NAME: a graph the user chose, its pass asked for)
            # its calls ran on graphs other than the one drawn (a loss local to a function,
            # beside a top-level ``h = x.exp()``): gradstep starts no pass of its own where
            # the snippet made its own (one from a non-scalar ``h`` failed, exit 1)
            timeline = recorded_passes(calls)
        if timeline is None and result["ok"]:
            timeline = session.backward(mode=args.mode or "backward",
                                        retain_graph=bool(args.retain_graph),
                                        passes=args.passes or 1, gradient=args.gradient)
        if timeline is not None:  # a snippet that failed still shows the passes it made
            timeline["calls"] = calls  # (retain_graph_error: the second, failing one is
            print_json(timeline)  # the lesson), as the window steps them
        if not result["ok"]:
            report_error(result["error"], name)
            return result.get("exit_code") or SNIPPET_FAILED
        failed = _failed(timeline)
        if failed:
            if timeline.get("from_snippet"):  # the snippet ran on: it caught the error
                report_caught(failed, name)
                return OK
            report_error(failed, name)
            if own_pass and failed.get("kind") == "freed_buffers":
                return SNIPPET_FAILED  # the pass an option asked for could not run
            # 0: a hook's exit(0) (hook_exit), or a graph the snippet freed in a call
            # gradstep did not record (backward._blame_snippet_calls): python ended well
            return failed.get("exit_status", SNIPPET_FAILED)
        return OK
    finally:
        session.shutdown()  # the kernel process ends with the command


def snippet_passes(calls: list) -> dict | None:
    """Return the backward reply made of the snippet's own calls on the graph drawn, in the
    order it made them (None when it made none there)."""
    drawn = [call["timeline"] for call in calls if call.get("drawn") and call.get("timeline")]
    if not drawn:
        return None
    return {**combine_passes([dict(timeline) for timeline in drawn]), "from_snippet": True}


def _undrawn_passes_only(result: dict) -> bool:
    """Return True where the snippet ran to its end, left no tensor with a grad_fn to draw
    (``nothing_to_draw``), and made recorded backward calls: on leaves themselves
    (``x.backward(g)``: each ran its leaves' AccumulateGrad nodes and nothing else), or on
    a graph it let go (a loss local to ``main()``, a worker thread's)."""
    error = result.get("error") or {}
    return (not result["ok"] and error.get("kind") == "nothing_to_draw"
            and result.get("exit_code") == 1
            and _recorded(result.get("calls") or ()))


def _recorded(calls) -> bool:
    """Whether any of the snippet's backward calls was recorded."""
    return any(call.get("timeline") for call in calls)


def _ran_steps(calls) -> bool:
    """Whether a recorded backward call of the snippet's ran a step (not one torch refused
    before its first: ``requires_grad_error.py``'s error stays the snippet's only words)."""
    return any((call.get("timeline") or {}).get("steps") for call in calls)


def recorded_passes(calls: list) -> dict:
    """Return the backward reply made of the snippet's own recorded calls where it left no
    graph to draw (``_undrawn_passes_only``), in the order it made them: torch's steps,
    with the ``.grad`` each left."""
    recorded = [call["timeline"] for call in calls if call.get("timeline")]
    return {**combine_passes([dict(timeline) for timeline in recorded]), "from_snippet": True}


def _failed(timeline: dict) -> dict | None:
    """Return the error of the pass that failed: the last one's, or that of a snippet's call
    torch raised in while the snippet caught it and went on (``p.backward()`` in a try)."""
    return timeline.get("error") or next(
        (p["error"] for p in timeline.get("passes") or () if p.get("error")), None)


def _usage(message) -> dict:
    return make_error("other", message, type="usage", exit_status=BAD_USAGE,
                      title=lazy("Bad option"),
                      explanation=lazy("The snippet was not run: an option of gradstep backward "
                                       "cannot be used as given."),
                      fix="")  # the message says what to change: no generic example under it
