"""`gradstep export FILE -o OUT.{png,svg,pdf,dot,graphml,json,gif,apng,webp}`: write a picture,
a graph file or an animation of a backward pass.

Options: ``--pass P --step K`` draws the state after K steps of the snippet's P-th
backward call (1-based; without ``--pass``: its first call on the drawn graph, else a
pass gradstep runs; K is 0 to the pass's N steps, a K past N is refused, as is any K where
the snippet failed before a backward call on the drawn graph ran to its end: no pass): node states, saved
tensors alive or freed as torch had them then, the gradients that flowed written on
the edges (a JSON file: ``state`` per node, ``freed`` per saved entry, ``grad`` per
edge, ``step_state`` with the leaves' ``.grad``), ``--layout layered|dot``, ``--collapse
DEPTH`` folds module scopes, ``--rankdir TB|LR``, ``--scale S`` (a PNG's pixels per
point, default 2; an SVG or a PDF is shown S times its size, default 1; refused for a DOT,
GraphML or JSON file, which has no size, unless ``--frames`` is given), ``--transparent``
(PNG; refused for any other output without ``--frames``), ``--frames DIR`` (one PNG per
backward step, for slides, all the same size; DIR is made if missing, in a folder that
exists); ``-o pass.gif`` (``.apng``, ``.webp``) animates the pass, one frame per step (``--delay
MS`` each, refused for any other output; ``gradstep.commands.animation``). ``--step``,
``--frames`` and an animation on a run that failed before a pass on the drawn graph are
refused (exit status 2): there are no steps.
Exit status: 0, 1 when the snippet failed, 2 for bad usage.
Works without a display.

The plain graph of a snippet that ran to its end, in a format that needs no Qt (SVG,
DOT, GraphML, JSON), is written by the kernel, where the graph lives
(``kernel.writing``): no trace on the pipe, and this process never imports networkx
or numpy. Everything else (a step, a pass, PNG, PDF, animations, a failed run) is drawn
here from the trace.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

from gradstep.commands.run_and_report import (
    BAD_USAGE,
    OK,
    SNIPPET_FAILED,
    CommandError,
    display_name,
    report_caught,
    report_error,
    start_snippet,
    write_in_kernel,
)
from gradstep.drawing.formats import (
    FILE_FORMATS,
    PICTURE_FORMATS,
    TEXT_FORMATS,
    file_in_the_way,
    unwritten,
)
from gradstep.i18n import _, lazy
from gradstep.policies.number_text import options_of, printed_with

FORMATS = PICTURE_FORMATS + FILE_FORMATS
ANIMATED = (".gif", ".apng", ".webp")  # one frame per step (gradstep.commands.animation)
PNG_SCALE = 2.0  # --scale's default for PNG pictures, frames and animations
GRAPH_FILES = {".dot": "DOT", ".gv": "DOT", ".graphml": "GraphML", ".json": "JSON"}  # no size


class Sizes(NamedTuple):
    """``--scale S`` read for each kind of output: ``scale`` a PNG's pixels per point (a
    frame's, an animation's; default 2), ``size`` how many times an SVG or a PDF is shown
    its drawing's size (default 1)."""

    scale: float
    size: float


def sizes(args) -> Sizes:
    """Return ``args.scale`` read as a PNG's scale and as an SVG's or a PDF's size."""
    given = args.scale
    return Sizes(PNG_SCALE if given is None else given, 1.0 if given is None else given)


def run(args) -> int:
    """Write the export named by ``args.output``; return the exit status (0, 1 or 2).

    A snippet that fails after building a graph still gets its graph written (with
    the failing pass at the node where torch raised), then exits 1 with the explanation.
    """
    name = display_name(args)
    problem = _check_options(args)
    if problem:
        report_error(_usage(problem, "not run"), name)
        return BAD_USAGE
    try:
        session, result, _source, _filename = start_snippet(
            args, keep_trace=_plain_text_file(args),
            networkx=Path(args.output).suffix.lower() == ".graphml" or bool(args.collapse))
    except CommandError as exc:
        report_error(exc.error, name)
        return exc.status
    try:
        if result.get("trace_kept") and result["ok"]:
            return _written_by_kernel(args, session, name, sizes(args).size)
        if not result["ok"] and not result.get("trace"):
            report_error(result["error"], name)
            return result.get("exit_code") or SNIPPET_FAILED
        with printed_with(options_of(result.get("print_options"))):  # the snippet's print
            return _export(args, session, result, name)
    finally:
        session.shutdown()  # the kernel process ends with the command, whatever happened


def _plain_text_file(args) -> bool:
    """Return True when the output is the plain graph in a format the kernel writes."""
    return (Path(args.output).suffix.lower() in TEXT_FORMATS and args.step is None
            and getattr(args, "pass_number", None) is None and not args.frames)


def _written_by_kernel(args, session, name: str, size: float) -> int:
    """Have the kernel write the kept trace's plain graph to ``args.output`` (an SVG shown
    ``size`` times its drawing's size)."""
    reply = write_in_kernel(session, os.path.abspath(args.output), rankdir=args.rankdir,
                            layout=args.layout, collapse=args.collapse, scale=size)
    if reply.get("refused"):
        report_error(_usage(reply["refused"]), name)
        return BAD_USAGE
    if reply.get("error"):  # the kernel failed while drawing (gradstep's fault, or memory)
        report_error(reply["error"], name)
        return SNIPPET_FAILED
    return OK


def _export(args, session, result, name: str) -> int:
    from gradstep.autograd.graph_json import graph_from_json  # networkx: only when drawn here
    from gradstep.drawing.export import ExportError, export_graph
    from gradstep.step_drawing import drawing_at

    if not result.get("trace"):
        report_error(_nothing_to_draw(), name)
        return SNIPPET_FAILED
    graph = graph_from_json(result["trace"])  # graph_json never loads torch
    try:
        chosen = choose_pass(args, result, graph, session)
    except CommandError as exc:
        report_error(exc.error, name)
        return exc.status
    options = dict(rankdir=args.rankdir, engine=args.layout, collapse=args.collapse)
    scale, size = sizes(args)
    try:
        if _animated(args):
            from gradstep.commands.animation import write_animation

            write_animation(args, graph, chosen, scale)
        elif chosen is None:
            export_graph(graph, args.output, scale=scale, transparent=args.transparent,
                         size=size, **options)
        else:
            history, pass_index, k = chosen
            shown, drawing = drawing_at(graph, history.state(pass_index, k))
            export_graph(shown, args.output, scale=scale, transparent=args.transparent,
                         size=size, **options, **drawing)
        if args.frames and chosen is not None:
            from gradstep.commands.animation import write_frames

            write_frames(args, graph, chosen, Path(args.frames), scale)
    except (ExportError, OSError, RuntimeError) as exc:
        if isinstance(exc, OSError):  # the system's words (English): say what to fix
            exc = unwritten(args.output, exc)
        report_error(_usage(getattr(exc, "message", None) or str(exc), _how_it_ran(result)),
                     name)
        return BAD_USAGE
    if not result["ok"]:
        report_error(result["error"], name)  # the picture shows how far the snippet got
        _say_written(args)
        return result.get("exit_code") or SNIPPET_FAILED
    if chosen is not None:
        error = chosen[0].index(chosen[1]).timeline.get("error")
        if error and _snippets_own(result, graph):  # the snippet caught it and went on
            report_caught(error, name)
        elif error:
            report_error(error, name)  # the picture shows where backward stopped
            status = error.get("exit_status", SNIPPET_FAILED)  # 0: a hook's exit(0), hook_exit
            if status:
                _say_written(args)
            return status
    return OK


def _say_written(args) -> None:
    """Say that ``-o``'s file was written although the command exits non-zero (after the
    snippet's error: the explanation alone read as if nothing had been written). An
    animation has said so already, with its frames."""
    if not _animated(args):
        print(_("{path} was written all the same: the graph as far as the snippet got",
                path=args.output), file=sys.stderr)


def _snippets_own(result: dict, graph) -> bool:
    """Return True when the pass drawn is one of the snippet's own calls (``choose_pass``
    runs one of gradstep's only where the snippet made none on the drawn graph)."""
    from gradstep.autograd.step_state import drawn_calls

    return bool(drawn_calls(result.get("calls"), graph))


def choose_pass(args, result: dict, graph, session):
    """Return ``(PassHistory, pass index, steps)`` to draw, or None for the plain graph.

    ``--pass P`` is the snippet's P-th backward call (1-based); without it ``--step`` /
    ``--frames`` use the snippet's first call on the drawn graph, else a pass gradstep
    runs. A snippet that failed in a call on the drawn graph shows that call at its end.
    Raises CommandError for a ``--pass`` that cannot be drawn and for a ``--step`` past
    the pass's end (it has N steps: 0 to N can be drawn).
    """
    from gradstep.autograd.step_state import PassHistory, drawn_calls

    drawn = drawn_calls(result.get("calls"), graph)
    history = PassHistory(graph, [c["timeline"] for c in drawn],  # members: faded in frames
                          [tuple(n["id"] for n in c.get("nodes") or ()) for c in drawn])
    wanted = getattr(args, "pass_number", None)
    if wanted is not None:
        call = _call_number(result, drawn, wanted)
        position = drawn.index(call)
    elif args.step is not None or args.frames or _animated(args):
        if drawn:
            position = 0
        elif result["ok"] and _calls_elsewhere(args, result):
            raise CommandError(_usage(_calls_not_drawn(_asked(args), result)), BAD_USAGE)
        elif result["ok"]:
            history = PassHistory(graph, [session.backward()])
            position = 0
            _say_own_pass(args)
        else:  # a failed run: gradstep runs no pass of its own, so there are no steps
            raise CommandError(_usage(_no_pass(_asked(args), result["error"]),
                                      _how_it_ran(result)), BAD_USAGE)
    else:
        failed = [i for i, c in enumerate(drawn) if c["timeline"].get("error")]
        if result["ok"] or not failed:
            return None
        position = failed[-1]
    count = history.index(position).count
    if args.step is not None and args.step > count:
        raise CommandError(_usage(_past_the_end(args.step, count), _how_it_ran(result)),
                           BAD_USAGE)
    return history, position, count if args.step is None else args.step


def _calls_elsewhere(args, result: dict) -> bool:
    """Return True where the snippet made recorded backward calls, none on the graph drawn
    by default (a loss local to a function, beside a top-level ``h = x.exp()``): gradstep
    starts no pass of its own where the snippet made its own (with ``--root NAME`` it does:
    a graph the user chose)."""
    return not args.root and any(call.get("timeline") for call in result.get("calls") or ())


def _calls_not_drawn(option: str, result: dict):
    """Return why ``option`` cannot be drawn where the snippet's calls ran on other graphs."""
    from gradstep.autograd.freed_by import calls_named
    from gradstep.autograd.leaf_calls import recorded_call_lines

    return lazy("{option}: the snippet's {calls} ran on graphs other than the one drawn (their "
                "tensors are gone when it ends, or no top-level value holds them), and gradstep "
                "runs no backward pass of its own where the snippet made its own; gradstep "
                "backward FILE prints the steps of those passes. Keep the tensor a call ran on "
                "in a top-level variable (it is then drawn), or pass --root NAME to step "
                "through a pass gradstep runs from that tensor",
                option=option, calls=calls_named(recorded_call_lines(result.get("calls") or [])))


def _say_own_pass(args) -> None:
    """Say on stderr that the steps drawn are of a pass gradstep ran itself: the snippet
    makes no backward call on the graph drawn (they were drawn without a word, as if they
    were the snippet's)."""
    import sys

    from gradstep.i18n import _

    print(_("{option}: the snippet makes no backward call on the graph drawn; the steps "
            "shown are of a backward pass gradstep ran itself from the root",
            option=_asked(args)), file=sys.stderr)


def _asked(args) -> str:
    """Return the option that asks for a pass's steps, as typed (for ``_no_pass``)."""
    if args.step is not None:
        return f"--step {args.step}"
    if args.frames:
        return f"--frames {args.frames}"
    return f"-o {args.output}"


def _no_pass(option: str, error: dict):
    """Return why ``option`` (``--step K``, ``--frames DIR``, an animation's ``-o``) cannot
    be drawn on a run that failed (``error``) with no backward call on the graph drawn
    recorded: none ran to its end (a KeyboardInterrupt in the snippet's own call, a hook's
    or the kernel's stop, leaves it unrecorded: ``backward.run_recorded``), so there are no
    steps (gradstep runs no pass of its own on a failed run: its graph may be half built).
    ``--frames`` and animations were passed over without a word (only the snippet's error
    was told); they are refused as ``--step`` is."""
    line = error.get("line")
    where = (lazy("at line {line}", line=line) if line is not None
             else lazy("before its end"))
    if error.get("kind") == "timeout":  # no error of the snippet's: python FILE runs on
        return lazy("{option}: --timeout stopped the snippet {where}, and no backward "
                    "call on the graph drawn ran to its end before that, so there is no pass "
                    "and no steps to draw. Give it a longer --timeout, or draw the graph as "
                    "far as it was built (-o graph.png, without --step or --frames)",
                    option=option, where=where)
    return lazy("{option}: the snippet failed {where}, and no backward call on the graph "
                "drawn ran to its end before that, so there is no pass and no steps to draw "
                "(gradstep runs no pass of its own after a failure). Fix the error (python "
                "FILE shows it) and run again, or draw the graph as far as it was built "
                "(-o graph.png, without --step or --frames)", option=option, where=where)


def _past_the_end(step: int, count: int):
    """Return why ``--step step`` cannot be drawn on a pass of ``count`` steps."""
    if count == 0:
        return lazy("--step {step}: the pass drawn has no steps; use --step 0", step=step)
    if count == 1:
        return lazy("--step {step}: the pass drawn has 1 step; use --step 0 (before it) or "
                    "--step 1 (after it)", step=step)
    return lazy("--step {step}: the pass drawn has {count} steps; use --step 0 (before the "
                "first) to --step {count} (the end)", step=step, count=count)


def _call_number(result: dict, drawn: list, number: int) -> dict:
    """Return the snippet's ``number``-th backward call, or raise CommandError (usage)."""
    calls = [c for c in result.get("calls") or [] if c.get("api") != "skipped"]
    ran = _how_it_ran(result)
    if not calls:
        raise CommandError(_usage(lazy("--pass {number}: the snippet makes no backward call of "
                                       "its own; leave --pass out to step through a pass "
                                       "gradstep runs", number=number), ran), BAD_USAGE)
    if not 1 <= number <= len(calls):
        many = (lazy("--pass {number}: the snippet makes 1 backward call; use 1", number=number)
                if len(calls) == 1 else
                lazy("--pass {number}: the snippet makes {count} backward calls; use 1 to {count}",
                     number=number, count=len(calls)))
        raise CommandError(_usage(many, ran), BAD_USAGE)
    call = calls[number - 1]
    if call not in drawn:
        usable = ", ".join(str(calls.index(c) + 1) for c in drawn) or lazy("none")
        raise CommandError(_usage(lazy(
            "--pass {number}: line {line} differentiates a graph other than the one drawn (a "
            "tensor computed again later, or another root); passes on the drawn graph: "
            "{usable}. --root NAME draws another tensor", number=number, line=call.get("line"),
            usable=usable), ran), BAD_USAGE)
    return call


def _animated(args) -> bool:
    return Path(args.output).suffix.lower() in ANIMATED


def _check_options(args) -> dict | None:
    """Return what is wrong with the options (a ``lazy`` message; None when nothing is)."""
    suffix = Path(args.output).suffix.lower()
    if args.output == "-":  # standard output carries the snippet's own prints
        return lazy("-o -: the file cannot go to standard output, where the snippet's own "
                    "output goes; name a file (e.g. -o graph.svg, then cat graph.svg)")
    if suffix not in FORMATS + ANIMATED:
        return lazy("-o {output}: cannot tell the format from the extension; use one of "
                    "{formats} (e.g. -o graph.svg, -o pass.gif)", output=args.output,
                    formats=", ".join(FORMATS + ANIMATED))
    if suffix in ANIMATED and args.step is not None:
        return lazy("--step {step}: an animation shows every step of the pass; leave --step "
                    "out, or write one step as a picture (-o step.png --step {step})",
                    step=args.step)
    if getattr(args, "delay", None) is not None and args.delay <= 0:
        return lazy("--delay {delay}: a frame lasts a positive number of milliseconds "
                    "(e.g. 1000)", delay=args.delay)
    if getattr(args, "delay", None) is not None and suffix not in ANIMATED:
        # told, as --scale on a graph file is: the file written without it is the same
        return lazy("--delay {delay}: only an animation has frames to time, and -o {output} "
                    "is not one, so --delay would change nothing; leave --delay out, or "
                    "write an animation (-o pass.gif --delay {delay})", delay=args.delay,
                    output=args.output)
    if getattr(args, "transparent", False) and suffix != ".png" and not args.frames:
        return lazy("--transparent: only a PNG picture (and the PNGs of --frames) is written "
                    "without its background, and -o {output} is not one, so --transparent "
                    "would change nothing; leave it out, or write a PNG (-o graph.png "
                    "--transparent)", output=args.output)
    if (missing := _missing_folder("-o", args.output)) is not None:
        return missing
    if args.frames:  # the folder is made, as -o's file is, in a folder that must exist
        if Path(args.frames).exists() and not Path(args.frames).is_dir():
            return lazy("--frames {frames}: that is a file; name a folder (it is made if "
                        "missing)", frames=args.frames)
        if (missing := _missing_folder("--frames", args.frames)) is not None:
            return missing
    if args.step is not None and args.step < 0:
        return lazy("--step {step}: a step count is 0 or more (0 = before backward runs)",
                    step=args.step)
    if getattr(args, "pass_number", None) is not None and args.pass_number < 1:
        return lazy("--pass {number}: passes are numbered from 1 (the snippet's first call)",
                    number=args.pass_number)
    if args.collapse is not None and args.collapse < 0:
        return lazy("--collapse {depth}: a depth is 0 (no folding) or more", depth=args.collapse)
    if args.scale is not None and not 0 < args.scale < float("inf"):
        return lazy("--scale {scale}: use a positive scale such as 2", scale=args.scale)
    if args.scale is not None and suffix in GRAPH_FILES and not args.frames:
        # refused as --step is for an animation: an option that would change nothing is a
        # mistake to tell (the file written without it is the same), not one to pass over
        return lazy("--scale {scale}: a {format} file has no size (it holds the graph, not a "
                    "picture), so --scale would change nothing in it; it sizes PNG, SVG and "
                    "PDF pictures, --frames and animations. Leave --scale out, or write a "
                    "picture (-o graph.svg --scale {scale})", scale=f"{args.scale:g}",
                    format=GRAPH_FILES[suffix])
    if args.layout == "dot" and _no_graphviz():
        return lazy("--layout dot: Graphviz 'dot' is not installed (not on PATH); install "
                    "Graphviz (e.g. apt install graphviz) or use the built-in --layout layered")
    return None


def _missing_folder(option: str, path: str):
    """Return why ``option path`` cannot be written (its folder does not exist, or a file
    stands where a folder is needed), or None. A link's folder is its target's (the file
    written: ``whole_file.target_of``)."""
    from gradstep.policies.whole_file import target_of  # pure: no Qt, networkx or numpy

    folder = target_of(path).parent
    if folder.is_dir():
        return None
    if (blocking := file_in_the_way(folder)) is not None:  # it said the folder did not exist
        return lazy("{option} {path}: {file} is a file, not a folder; write into a folder",
                    option=option, path=path, file=str(blocking))
    return lazy("{option} {path}: the folder {folder} does not exist; create it first",
                option=option, path=path, folder=str(folder))


def _no_graphviz() -> bool:
    import shutil  # here: only --layout dot needs it (with bz2, lzma: ~2 ms of every export)

    return shutil.which("dot") is None


def _how_it_ran(result: dict) -> str:
    """Return how the snippet's run ended, for ``_usage``: "fine", "failed" (an error of its
    own, which python FILE shows too), or "stopped" (``--timeout``: python FILE runs on)."""
    if result["ok"]:
        return "fine"
    return "stopped" if (result.get("error") or {}).get("kind") == "timeout" else "failed"


def _usage(message, snippet: str = "fine") -> dict:
    """Return the error for options that cannot be used; ``snippet``: how the snippet's run
    ended ("fine", "failed", "stopped": ``_how_it_ran``), or "not run" for options refused
    before it ran (nothing is known of it)."""
    from gradstep.autograd.errors import make_error  # here: an export that works never loads it

    if snippet == "not run":
        explanation = lazy("The snippet was not run: the export options cannot be used as given.")
    elif snippet == "failed":
        explanation = lazy("The export options cannot be used as given; the snippet itself "
                           "failed as well (python FILE shows its error).")
    elif snippet == "stopped":
        explanation = lazy("The export options cannot be used as given; --timeout stopped the "
                           "snippet as well, before its end.")
    else:
        explanation = lazy("The snippet is fine; the export options cannot be used as given.")
    # no "How to fix:" line: each message says what to change in the options it names (a
    # generic example command under it read as the answer, e.g. under -o's own advice)
    return make_error("other", message, type="usage", exit_status=BAD_USAGE,
                      title=lazy("Cannot export"), explanation=explanation, fix="")


def _nothing_to_draw() -> dict:
    from gradstep.autograd.errors import make_error

    return make_error("nothing_to_draw", lazy("the snippet made no tensor with a grad_fn to draw"))
