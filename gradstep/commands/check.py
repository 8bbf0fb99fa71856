"""`gradstep check FILE [--json]`: where a NaN or an infinity starts, and how gradients flow.

Runs the snippet, traces it and takes one backward pass: the snippet's own first one
when it made one on the traced graph, else one from the root (from ``ones_like`` when
the root is not a scalar). Then prints the findings (``gradstep.autograd.findings``): the
first op whose forward output holds NaN/Inf that its inputs did not, the first
backward step that sent NaN/Inf it did not receive, and layers whose gradients vanish,
explode or are mostly zero. ``--json`` prints ``{"findings": [...], "grad_norms":
{leaf label: norm of its .grad}, "layers": [...]}``. Nothing is run twice: a value
gradstep did not capture makes a finding "first seen" rather than "starts", and
``--deep-values`` (which can change torch's kernel choice) captures more.

Exit status: 1 when a NaN or an infinity was found (or the snippet failed), 0
otherwise (vanishing, exploding and dead layers are warnings), 2 for bad usage.
"""

from __future__ import annotations

import sys

from gradstep.autograd.elements import figure_text, torch_words
from gradstep.autograd.findings import check_json, diagnose
from gradstep.autograd.grad_flow import written_when
from gradstep.autograd.nonfinite import op_of
from gradstep.commands.run_and_report import (
    OK,
    SNIPPET_FAILED,
    CommandError,
    display_name,
    print_json,
    report_caught,
    report_error,
    start_snippet,
)
from gradstep.i18n import ENGLISH, _, using
from gradstep.i18n.columns import columns
from gradstep.policies.number_text import DEFAULT, options_of, printed_with


def run(args) -> int:
    """Print the findings; return the exit status (0, 1 or 2)."""
    name = display_name(args)
    try:
        started = start_snippet(args)
    except CommandError as exc:
        report_error(exc.error, name)
        return exc.status
    try:
        return _check(args, started.session, started.result, started.source, name)
    finally:
        started.session.shutdown()


def _check(args, session, result: dict, source: str, name: str) -> int:
    deep = getattr(args, "deep_values", False)
    if deep:
        sys.stderr.write(_("gradstep: --deep-values ran the snippet under a TorchFunctionMode, "
                           "which can change the kernels torch picks") + "\n")
    trace = result.get("trace")
    if not trace:
        report_error(result["error"], name)
        return result.get("exit_code") or SNIPPET_FAILED
    timeline, stats = _one_pass(session, result, chosen=bool(getattr(args, "root", None))), None
    if timeline is not None:
        stats = session.grad_stats()
        stats = stats if isinstance(stats, dict) and "params" in stats else None
    # JSON: the contract's English and "NaN"; text: the values as torch prints them ("nan",
    # with the snippet's print options)
    shown = DEFAULT if args.json else options_of(result.get("print_options"))
    with using(ENGLISH) if args.json else torch_words(), printed_with(shown):
        diagnosis = diagnose(trace, [timeline] if timeline else [], stats)
    if args.json:
        print_json(check_json(diagnosis, stats))
    else:
        # the flow table's norms; the tensors' numbers as the snippet's print writes them
        with torch_words(), printed_with(shown):
            sys.stdout.write(format_report(diagnosis, trace, source, timeline))
            if timeline is None and result.get("ok") and _calls_elsewhere(
                    result, bool(getattr(args, "root", None))):
                sys.stdout.write(_no_pass_note(result) + "\n")
        sys.stdout.flush()
    failed = result.get("error") or (timeline or {}).get("error")
    if failed and result.get("ok") and _snippets_own(timeline, result):
        # torch raised in a backward call of the snippet's that the snippet caught and went
        # on (``try: p.backward()``): python ends well, so check exits as its findings say
        report_caught(failed, name, exits_0=False)
    elif failed:
        report_error(failed, name)
        status = ((result.get("exit_code") or SNIPPET_FAILED) if result.get("error")
                  else failed.get("exit_status", SNIPPET_FAILED))  # 130: a KeyboardInterrupt
        if status != 0:
            return status
        # a hook's exit(0) stopped gradstep's own pass (hook_exit): not a failure
    return SNIPPET_FAILED if diagnosis.failed else OK


def _snippets_own(timeline: dict | None, result: dict) -> bool:
    """Return True when ``timeline`` is one of the snippet's own calls (not check's pass)."""
    return timeline is not None and any(call.get("timeline") is timeline
                                        for call in result.get("calls") or [])


def _calls_elsewhere(result: dict, chosen: bool) -> bool:
    """Return True where the snippet made recorded backward calls and no ``--root`` was given
    (``chosen``): gradstep then starts no pass of its own (the calls ran on graphs other than
    the one drawn: a loss local to a function, beside a top-level ``h = x.exp()``)."""
    return not chosen and any(call.get("timeline") for call in result.get("calls") or ())


def _no_pass_note(result: dict) -> str:
    """Return the report's line saying why no gradient was checked (``_calls_elsewhere``)."""
    from gradstep.autograd.freed_by import calls_named
    from gradstep.autograd.leaf_calls import recorded_call_lines

    return _("Gradients not checked: the snippet's {calls} ran on graphs other than the one "
             "drawn, and gradstep runs no backward pass of its own where the snippet made its "
             "own (--root NAME checks a pass gradstep runs from that tensor).",
             calls=calls_named(recorded_call_lines(result.get("calls") or [])))


def _one_pass(session, result: dict, *, chosen: bool = False) -> dict | None:
    """Return the snippet's own first pass on the traced graph that torch finished (else its
    first one, which raised), else run one from the root (None when the run failed: its
    graph may be half built, or where the snippet made its own passes on other graphs and
    no ``--root`` was ``chosen``: ``_calls_elsewhere``)."""
    names = {n["id"]: n["name"] for n in result["trace"]["nodes"]}
    # a call on a graph of its own numbers its nodes n0, n1, ... too: only one drawn on the
    # traced graph (its ids renumbered onto it) is a pass through it
    passes = [call["timeline"] for call in result.get("calls") or []
              if call.get("drawn") and (steps := (call.get("timeline") or {}).get("steps"))
              and all(names.get(s.get("node")) == s.get("name") for s in steps)]
    if passes:  # one whose error the snippet caught stopped short of the pass it then made
        return next((timeline for timeline in passes if not timeline.get("error")), passes[0])
    if not result.get("ok"):
        return None
    if _calls_elsewhere(result, chosen):  # its own passes only: a drawn one with no steps
        drawn = [call["timeline"] for call in result.get("calls") or ()
                 if call.get("drawn") and call.get("timeline")]
        return next((t for t in drawn if not t.get("error")), drawn[0] if drawn else None)
    root = next((n for n in result["trace"]["nodes"] if n["id"] == result["trace"]["root"]), {})
    scalar = _count(root.get("shape") or []) == 1
    timeline = session.backward(gradient=None if scalar else "ones")
    if "steps" not in timeline:
        return None
    if _freed_by_the_snippet(timeline, result):  # its pass showed no steps (a gradient a
        return _freeing_call(result)  # hook changed in place, say) and freed the graph
    return timeline


def _freeing_call(result: dict) -> dict:
    """Return the timeline of the snippet's first backward call that freed the graph: no
    steps, but its leaves' gradients (and the ``.grad`` check reads after it) are torch's."""
    return next(call["timeline"] for call in result.get("calls") or []
                if call.get("drawn") and (call.get("timeline") or {}).get("freed"))


def _freed_by_the_snippet(timeline: dict, result: dict) -> bool:
    """Return True when ``timeline`` (check's own pass) failed on buffers one of the
    snippet's own backward calls freed: an error of gradstep's second pass, which the
    snippet never raised (check reported it as the snippet's and exited 1)."""
    error = timeline.get("error") or {}
    return error.get("kind") == "freed_buffers" and any(  # a call on this graph (drawn):
        call.get("drawn") and (call.get("timeline") or {}).get("freed")  # one on a graph
        for call in result.get("calls") or [])  # of its own (a thread's) freed none of it


def _count(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


FLOW_SHOWN = 8  # gradient-flow warnings of one kind printed as text


ORIGINS_SHOWN = 8  # NaN/Inf origins printed as text, each with its line and carriers (a
# ResNet-18 after an optimizer step with lr=1e6 has 62: one per parameter, alike)


def format_report(diagnosis, trace: dict, source: str = "", timeline: dict | None = None) -> str:
    """Return the findings as text for a terminal: each NaN/Inf origin with its line of
    code and the nodes that carried it on, then the gradient-flow table and warnings.
    ``timeline`` is the pass the findings read (its mode and error word why a leaf has no
    ``.grad``; None: not known)."""
    nodes = {n["id"]: n for n in trace.get("nodes") or []}
    code = source.splitlines()
    lines = []
    origins = diagnosis.nonfinite()
    for finding in origins[:ORIGINS_SHOWN]:
        lines.append(f"{finding.kind}: {finding.message}")
        if finding.line and 0 < finding.line <= len(code):
            lines.append(f"  {finding.line:>4} | {code[finding.line - 1].strip()}")
        if finding.note:
            lines.append("  " + _("note: {note}", note=finding.note))
        if finding.carriers:
            named = ", ".join(_node_text(nodes.get(c, {"id": c})) for c in finding.carriers[:6])
            if len(finding.carriers) > 6:
                named = _("{names} and {count} more", names=named, count=len(finding.carriers) - 6)
            lines.append("  " + _("carried on by: {names}", names=named))
    if len(origins) > ORIGINS_SHOWN:
        lines.append(_("... and {count} more places where NaN or infinity starts (--json lists "
                       "all)", count=len(origins) - ORIGINS_SHOWN))
    if not origins:
        lines.append(_("No NaN or infinity in the recorded values and gradients."))
    if diagnosis.rows:
        lines.append("")
        width = max([32] + [columns(row.name) for row in diagnosis.rows])  # whole names: the
        # first 32 characters of "encoder.layer.0.attention.output.dense" and of its
        # ".LayerNorm" are the same
        lines += _flow_table(diagnosis.rows, width)
        written = sum(1 for row in diagnosis.rows if row.written_after)
        when = written_when(diagnosis.rows)  # an optimizer step: |weight| is not the pass's
        if when == "after":
            lines.append(_("{count} of these layers were written in place after the first "
                           "recorded backward call through this graph (an optimizer step?): "
                           "their |weight| and "
                           "ratio are of the new weights, not of those the gradient was "
                           "computed at", count=written))
        elif when == "during":
            lines.append(_("{count} of these layers were written in place during a "
                           "recorded backward call made after this graph's forward (an optimizer step in a "
                           "hook?): their "
                           "|weight| and ratio are of the new weights, not of those the "
                           "gradient was computed at", count=written))
        elif when:
            lines.append(_("{count} of these layers were written in place during a recorded "
                           "backward call made after this graph's forward, or after the first such call (an "
                           "optimizer step?): their |weight| and "
                           "ratio are of the new weights, not of those the gradient was "
                           "computed at", count=written))
        if any(row.grad_norm is None for row in diagnosis.rows):
            lines.append(_no_grad_note(timeline))
    flow = [f for f in diagnosis.findings if not f.fails]
    if flow:
        lines.append("")
        for kind in ("exploding", "vanishing", "dead"):
            of_kind = [f for f in flow if f.kind == kind]
            lines += [f"{f.kind}: {f.message}" for f in of_kind[:FLOW_SHOWN]]
            if len(of_kind) > FLOW_SHOWN:
                lines.append(f"{kind}: " + _("... and {count} more layers (--json lists all)",
                                             count=len(of_kind) - FLOW_SHOWN))
    return "\n".join(lines) + "\n"


def _no_grad_note(timeline: dict | None) -> str:
    """Return the footnote of the table's ``?``: why a leaf has no ``.grad``, as the pass
    ``timeline`` ran (a ``.backward()`` that raised stopped before the leaf: torch's
    ``autograd.grad`` is not the cause there)."""
    if timeline is not None and timeline.get("mode") == "backward":
        if timeline.get("error"):
            return _("?: no .grad after the pass (it raised before it reached this leaf, or "
                     "the leaf is not on its path)")
        return _("?: no .grad after the pass (it did not reach this leaf)")
    return _("?: no .grad after the pass (torch.autograd.grad returns the gradients without "
             "storing them in .grad; a leaf the pass did not reach has none either)")


def _flow_table(rows, width: int) -> list[str]:
    """Return the |grad| table's lines: the names ``width`` columns wide, each number column
    as wide as its longest figure or header (``1.23457e-05`` has 11 characters: a fixed
    10 pushed such a row out of line)."""
    cells = [[figure_text(row.grad_norm), figure_text(row.weight_norm), figure_text(row.ratio),
              "" if row.zero_fraction is None else f"{row.zero_fraction:.0%}"] for row in rows]
    headers = ["|grad|", "|weight|", _("ratio"), _("zeros")]
    widths = [max([columns(header), least] + [len(cell[k]) for cell in cells])
              for k, (header, least) in enumerate(zip(headers, (10, 10, 10, 6)))]
    lines = [" ".join([_pad(_("layer (input side first)"), width)]
                      + [_pad(h, w, True) for h, w in zip(headers, widths)])]
    for row, cell in zip(rows, cells):
        lines.append(" ".join([_pad(row.name, width)]
                              + [_pad(c, w, True) for c, w in zip(cell, widths)]))
    return lines


def _pad(text: str, width: int, right: bool = False) -> str:
    """Return ``text`` padded to ``width`` terminal columns (a CJK character takes two)."""
    space = " " * max(0, width - columns(text))
    return space + text if right else text + space


def _node_text(node: dict) -> str:
    line = _(", line {line}", line=node["line"]) if node.get("line") else ""
    # a leaf by its label (fc.bias), not as "accumulate_grad": which parameter it is
    what = node.get("label") if node.get("kind") == "leaf" else op_of(node.get("name"))
    return f"{what or node.get('label') or node['id']} ({node['id']}{line})"
