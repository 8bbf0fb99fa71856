"""`gradstep export FILE -o OUT.{png,svg,pdf,dot,graphml,json}`: write a picture or a graph file.

Options: ``--step K`` draws the state after K backward steps (gradients that
have flowed are written on the edges), ``--layout layered|dot``, ``--collapse
DEPTH`` folds module scopes, ``--rankdir TB|LR``, ``--scale`` (PNG pixels per
point), ``--transparent`` (PNG), ``--frames DIR`` (one PNG per backward step,
for slides). Exit status: 0, 1 when the snippet failed, 2 for bad usage.
Works without a display.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from app.commands.common import (
    BAD_USAGE,
    OK,
    SNIPPET_FAILED,
    CommandError,
    display_name,
    load_source,
    open_session,
    report_error,
)

FORMATS = (".png", ".svg", ".pdf", ".dot", ".gv", ".graphml", ".json")
MAX_LABEL_CHARS = 24


def run(args) -> int:
    """Write the export named by ``args.output``; return the exit status (0, 1 or 2)."""
    name = display_name(args)
    problem = _check_options(args)
    if problem:
        report_error(_usage(problem), name)
        return BAD_USAGE
    try:
        source, filename = load_source(args)
    except CommandError as exc:
        report_error(exc.error, name)
        return exc.status
    session = open_session(args)
    try:
        result = session.run(source, device=args.device, root=args.root, filename=filename,
                             deep_values=getattr(args, "deep_values", False))
        if result.get("output"):
            sys.stderr.write(result["output"])
        if not result["ok"]:
            report_error(result["error"], name)
            return result.get("exit_code") or SNIPPET_FAILED
        return _export(args, session, result, name)
    finally:
        session.shutdown()  # the kernel process ends with the command, whatever happened


def _export(args, session, result, name: str) -> int:
    from app.autograd.graph_json import graph_from_json
    from graphviz_views.export import ExportError, export_graph

    if not result.get("trace"):
        report_error(_nothing_to_draw(), name)
        return SNIPPET_FAILED
    graph = graph_from_json(result["trace"])  # graph_json never loads torch
    timeline = None
    if args.step is not None or args.frames:
        timeline = snippet_timeline(result, graph) or session.backward()
    options = dict(rankdir=args.rankdir, engine=args.layout, collapse=args.collapse)
    try:
        states, labels = _state_at(graph, timeline, args.step)
        export_graph(graph, args.output, states=states, edge_labels=labels, scale=args.scale,
                     transparent=args.transparent, **options)
        if args.frames:
            _write_frames(graph, timeline, Path(args.frames), args, options)
    except (ExportError, OSError, RuntimeError) as exc:
        report_error(_usage(str(exc)), name)
        return BAD_USAGE
    if timeline is not None and timeline.get("error"):
        report_error(timeline["error"], name)  # the picture shows where backward stopped
        return SNIPPET_FAILED
    return OK


def snippet_timeline(result: dict, graph) -> dict | None:
    """Return the timeline of the snippet's own first backward call on this graph, if it made one.

    A snippet that calls ``loss.backward()`` itself has freed the graph; the
    steps it recorded are the pass to show (a second pass would only fail).
    """
    for call in result.get("calls") or []:
        timeline = call.get("timeline")
        steps = (timeline or {}).get("steps") or []
        if steps and all(step.get("node") in graph for step in steps):
            return timeline
    return None


def _state_at(graph, timeline, step):
    """Return (node states, edge labels) after ``step`` steps, or (None, None) without a step."""
    if step is None or timeline is None:
        return None, None
    from app.autograd.timeline import node_states

    return node_states(timeline, step, graph.nodes), edge_gradient_labels(graph, timeline, step)


def edge_gradient_labels(graph, timeline: dict, k: int) -> dict:
    """Return ``{(u, v, slot): text}``: the small gradients that flowed along edges in ``k`` steps."""
    labels = {}
    for step in (timeline.get("steps") or [])[:k]:
        node = step.get("node")
        for slot, grad in enumerate(step.get("grad_inputs") or []):
            text = _short_value(grad)
            if not text or node not in graph:
                continue
            for _, target, key in graph.out_edges(node, keys=True):
                if key == slot:
                    labels[(node, target, key)] = text
    return labels


def _short_value(value) -> str:
    """Return a small gradient as short text ('' for none or a large summary)."""
    from graphviz_views.style import format_number

    if value is None or isinstance(value, dict):
        return ""
    if isinstance(value, list):
        flat = _flatten(value)
        if len(flat) > 4:
            return ""
        text = "[" + ", ".join(format_number(x) for x in flat) + "]"
    else:
        text = format_number(value)
    return text if len(text) <= MAX_LABEL_CHARS else ""


def _flatten(value) -> list:
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _write_frames(graph, timeline, folder: Path, args, options) -> None:
    """Write ``step_000.png`` (before any step) .. ``step_N.png`` (after the last) into ``folder``."""
    from app.autograd.timeline import node_states
    from graphviz_views.collapse import collapse_to_depth
    from graphviz_views.export import compute_layout, export_graph

    folder.mkdir(parents=True, exist_ok=True)
    count = len(timeline.get("steps") or [])
    width = max(3, len(str(count)))
    shown = collapse_to_depth(graph, options["collapse"])
    lay = compute_layout(shown, rankdir=options["rankdir"], engine=options["engine"])  # once
    for k in range(count + 1):
        export_graph(shown, folder / f"step_{k:0{width}d}.png",
                     states=node_states(timeline, k, graph.nodes),
                     edge_labels=edge_gradient_labels(graph, timeline, k), scale=args.scale,
                     transparent=args.transparent, rankdir=options["rankdir"], layout=lay)
    print(f"wrote {count + 1} frames to {folder}", file=sys.stderr)


def _check_options(args) -> str:
    """Return what is wrong with the options ('' when nothing is)."""
    suffix = Path(args.output).suffix.lower()
    if suffix not in FORMATS:
        return (f"-o {args.output}: cannot tell the format from the extension; "
                f"use one of {', '.join(FORMATS)} (e.g. -o graph.svg)")
    parent = Path(args.output).parent
    if not parent.is_dir():
        return f"-o {args.output}: the folder {parent} does not exist; create it first"
    if args.step is not None and args.step < 0:
        return f"--step {args.step}: a step count is 0 or more (0 = before backward runs)"
    if args.collapse is not None and args.collapse < 0:
        return f"--collapse {args.collapse}: a depth is 0 (no folding) or more"
    if args.scale <= 0:
        return f"--scale {args.scale}: use a positive scale such as 2"
    if args.layout == "dot" and shutil.which("dot") is None:
        return ("--layout dot: Graphviz 'dot' is not installed (not on PATH); install Graphviz "
                "(e.g. apt install graphviz) or use the built-in --layout layered")
    return ""


def _usage(message: str) -> dict:
    from app.autograd.errors import make_error

    return make_error("other", message, type="usage", exit_status=BAD_USAGE,
                      title="Cannot export",
                      explanation="The snippet is fine; the export options cannot be used as given.",
                      fix="gradstep export model.py -o graph.svg [--step K] [--collapse 2]")


def _nothing_to_draw() -> dict:
    from app.autograd.errors import make_error

    return make_error("nothing_to_draw", "the snippet made no tensor with a grad_fn to draw")
