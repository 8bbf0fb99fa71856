"""Where NaN and infinite gradients start in one recorded backward pass (pure).

The rules are in ``nonfinite``'s docstring. A step is compared with the trace node it
ran only when the node ids and class names agree (a snippet call on another tensor
numbers its own graph); otherwise its forward values count as unknown.
"""

from __future__ import annotations

from gradstep.autograd import elements as el
from gradstep.autograd.nonfinite import (
    POINTWISE,
    SHOWN,
    GraphData,
    element_text,
    message,
    op_of,
    unseen_inputs,
    unseen_note,
)
from gradstep.i18n import _
from gradstep.schema.findings import Finding


def pass_findings(graph: GraphData, timeline: dict,
                  pass_index: int = 0) -> tuple[list[Finding], dict[str, str]]:
    """Return the gradient origins of ``timeline`` (one pass, or several numbered by each
    step's ``pass``) and ``{node: "origin" | "carrier"}`` for the nodes involved."""
    marks: dict[str, str] = {}
    findings: list[Finding] = []
    steps = timeline.get("steps") or []
    ran: dict[tuple, dict] = {}  # (pass, node) -> its step, for the steps so far
    for position, step in enumerate(steps):
        node_id = step.get("node")
        arriving = step.get("grad_outputs") or []
        arriving_bad = any(el.status(g) == "bad" for g in arriving)
        if arriving_bad and _matches(graph, step) and node_id not in marks:
            between = _arrived_bad(graph, step, ran, pass_index)
            if between is not None:
                between.carriers = _carriers(graph, steps[position + 1:], node_id)
                between.message = message(between, "backward", _becomes_nan(graph, steps, between))
                findings.append(between)
                marks[node_id] = "origin"
        ran.setdefault((step.get("pass"), node_id), step)
        sent = step.get("grad_inputs") or []
        sent_bad = [slot for slot, g in enumerate(sent) if el.status(g) == "bad"]
        if step.get("name") == "AccumulateGrad":
            sent_bad = [0] if arriving_bad else []  # the leaf's .grad takes what arrives
        if not sent_bad:
            continue
        known = _matches(graph, step)
        forward = _forward_state(graph, node_id) if known else None
        if arriving_bad or forward == "bad":
            marks.setdefault(node_id, "carrier")
            continue
        finding = _finding(graph, step, sent_bad[0], known, forward, pass_index)
        finding.carriers = _carriers(graph, steps[position + 1:], node_id)
        finding.message = message(finding, "backward", _becomes_nan(graph, steps, finding))
        findings.append(finding)
        marks[node_id] = "origin"
    return findings, marks


def _arrived_bad(graph: GraphData, step: dict, ran: dict, pass_index: int) -> Finding | None:
    """Return a finding when NaN/Inf arrived at this step's node although every gradient
    the earlier steps sent it was finite: it changed between the steps (a hook of the
    snippet's on the tensor or the node, or finite gradients summed past the float range),
    or the pass started from it. None when a sender sent NaN/Inf or is not known."""
    node_id = step["node"]
    senders, sent_here = 0, []
    for source in set(graph.consumers.get(node_id, ())):
        sender = ran.get((step.get("pass"), source))
        if sender is None:
            continue
        if not _matches(graph, sender):
            return None
        senders += 1
        sent = sender.get("grad_inputs") or []
        for slot, target, _nr in graph.inputs.get(source, ()):
            if target == node_id and slot < len(sent) and sent[slot] is not None:
                sent_here.append(sent[slot])
    if (senders and not sent_here) or any(el.status(g) != "ok" for g in sent_here):
        return None  # a sender's own NaN/Inf (its finding), or what was sent is not known
    arriving = step.get("grad_outputs") or []
    bad = next(g for g in arriving if el.status(g) == "bad")
    nan, _inf = el.counts(bad) or (0, 0)
    finding = Finding(kind="nan_grad" if nan else "inf_grad", pass_index=step.get("pass", pass_index),
                      step=step.get("index"), certain=True, **graph.where(node_id))
    finding.elements = [{"index": index, "value": element_text(bad, index), "inputs": []}
                        for index in el.bad_indices(bad, SHOWN)]
    what = finding.elements[0]["value"] if finding.elements else "NaN/Inf"
    if not senders:
        finding.cause = _("the pass started from a gradient holding {sent}", sent=what)
    elif len(sent_here) == 1:
        finding.cause = _("a finite gradient was sent to it and {sent} arrived: a hook changed "
                          "it on the way (register_hook on the tensor, or a pre-hook on the node)",
                          sent=what)
    else:
        finding.cause = _("the gradients sent to it were finite and {sent} arrived: their sum "
                          "went past the float range, or a hook changed it", sent=what)
    return finding


def _matches(graph: GraphData, step: dict) -> bool:
    node = graph.nodes.get(step.get("node"))
    return node is not None and node.get("name") == step.get("name")


def _forward_state(graph: GraphData, node_id: str) -> str | None:
    """Return "bad" when the node's forward output or an input held NaN/Inf, "ok" when all
    of them are known finite, else None."""
    states = [graph.status(node_id)] + [graph.input_status(e) for e in graph.inputs.get(node_id, ())]
    if "bad" in states:
        return "bad"
    return "ok" if all(s == "ok" for s in states) else None


def _finding(graph: GraphData, step: dict, slot: int, known: bool, forward: str | None,
             pass_index: int) -> Finding:
    node_id = step["node"]
    sent = (step.get("grad_inputs") or [])[slot]
    nan, _inf = el.counts(sent) or (0, 0)
    where = graph.where(node_id) if known else {"node": node_id, "name": step.get("name"),
                                                   "op": op_of(step.get("name"))}
    unseen = []
    if known:
        unknown = [e for e in graph.inputs.get(node_id, ()) if graph.input_status(e) is None]
        unseen = unseen_inputs(graph, node_id, unknown, graph.absent_slots(node_id))
    notes = [] if graph.status(node_id) is not None else [
        _("the node's own forward value was not captured (--deep-values captures more)")]
    if unseen:
        notes.append(unseen_note(graph, unseen))
    finding = Finding(kind="nan_grad" if nan else "inf_grad", pass_index=step.get("pass", pass_index),
                      step=step.get("index"), certain=forward == "ok" and not unseen,
                      unseen=unseen, note=_("; ").join(notes), **where)
    finding.elements = _elements(graph, step, slot, known)
    finding.cause = _cause(finding, slot, step)
    return finding


def _elements(graph: GraphData, step: dict, slot: int, known: bool) -> list[dict]:
    """Return the first NaN/Inf elements sent through ``slot``, with the arriving gradient,
    the forward output and the forward input at the same place (pointwise ops)."""
    sent = (step.get("grad_inputs") or [])[slot]
    arriving = (step.get("grad_outputs") or [None])[0]
    node_id = step["node"]
    pointwise = known and op_of(step.get("name")) in POINTWISE
    output = graph.output(node_id) if known else None
    producer = next(((p, nr) for s, p, nr in graph.inputs.get(node_id, ()) if s == slot), None)
    forward_in = graph.output(*producer) if known and producer else None
    out = []
    for index in el.bad_indices(sent, SHOWN):
        item = {"index": index, "value": element_text(sent, index), "inputs": [], "slot": slot}
        if pointwise:
            item["arriving"] = _at(arriving, index, sent)
            item["output"] = _at(output, index, sent)
            item["inputs"] = [_at(forward_in, index, sent)]
        out.append(item)
    return out


def _at(value, index: list[int], like):
    """Return the element of ``value`` that lines up with ``index`` of ``like`` (broadcast)."""
    if value is None:
        return None
    at = el.broadcast_index(index, el.shape_of(value), el.shape_of(like))
    return el.element(value, at) if at is not None else None


def _cause(finding: Finding, slot: int, step: dict) -> str:
    """Say what the step did at the first bad element: with the forward input, output and
    arriving gradient there where all three are known (a pointwise op's small tensors), else
    only what is known, never a "?" (a tensor over ``values.SMALL`` elements keeps a summary:
    its NaN/Inf count and where they are, not each value)."""
    first = finding.elements[0] if finding.elements else None
    op = finding.op or op_of(step.get("name"))
    if first and "arriving" in first and all(
            v is not None for v in (first["inputs"][0], first["output"], first["arriving"])):
        x, y = el.text(first["inputs"][0]), el.text(first["output"])
        return _("{op} backward at input {x} (output {y}): gradient {arriving} arrived, "
                 "{sent} sent", op=op, x=x, y=y, arriving=el.text(first["arriving"]),
                 sent=first["value"])
    sent = first["value"] if first else "NaN/Inf"
    arriving = step.get("grad_outputs") or []
    if arriving and all(el.status(g) == "ok" for g in arriving):
        return _("{op} backward: a finite gradient arrived, {sent} was sent to input slot {slot}",
                 op=op, sent=sent, slot=slot)
    return _("{op} backward sent {sent} to input slot {slot}", op=op, sent=sent, slot=slot)


def _carriers(graph: GraphData, later: list[dict], origin: str) -> list[str]:
    """Return the nodes after the origin's step that received its NaN/Inf: steps whose
    arriving gradient held one and whose node the origin's gradient reaches."""
    reach, stack = {origin}, [origin]
    while stack:
        for _slot, producer, _nr in graph.inputs.get(stack.pop(), ()):
            if producer not in reach:
                reach.add(producer)
                stack.append(producer)
    found = []
    for step in later:
        node_id = step.get("node")
        if node_id in reach and node_id not in found and any(
                el.status(g) == "bad" for g in step.get("grad_outputs") or []):
            found.append(node_id)
    return found


def _becomes_nan(graph: GraphData, steps: list[dict], finding: Finding) -> str:
    """Return where an infinite gradient from this origin turns into NaN, or ''."""
    if finding.kind.startswith("nan"):
        return ""
    carriers = set(finding.carriers)
    for step in steps:
        if step.get("node") not in carriers or step.get("name") == "AccumulateGrad":
            continue
        arriving_nan = any((el.counts(g) or (0, 0))[0] for g in step.get("grad_outputs") or [])
        sent_nan = any((el.counts(g) or (0, 0))[0] for g in step.get("grad_inputs") or [])
        if sent_nan and not arriving_nan:
            node = graph.nodes.get(step["node"], {})
            line = _(", line {line}", line=node["line"]) if node.get("line") else ""
            return f"{op_of(step.get('name'))} ({step['node']}{line})"
    return ""


def leaf_findings(graph: GraphData, params: list[dict]) -> list[Finding]:
    """Return a NaN/Inf finding for each leaf whose ``.grad`` holds NaN or an infinity
    (``params``: ``grad_stats``' rows), for a run with no NaN/Inf finding at all: the
    pass that wrote it showed no steps (compiled autograd, a hook that changed a gradient
    in place), or finite gradients added up past the float range in ``.grad``. Where it
    started is not known, so it is first seen at the leaf (``certain`` False)."""
    found = []
    for p in params:
        nan, inf = int(p.get("nan") or 0), int(p.get("inf") or 0)
        if not nan and not inf:
            continue
        node_id = p.get("node")
        where = graph.where(node_id) if node_id in graph.nodes else {"node": node_id}
        finding = Finding(kind="nan_grad" if nan else "inf_grad", certain=False, **where)
        finding.label = p.get("label") or finding.label
        finding.cause = _("{label}.grad holds {count} NaN/Inf elements after the pass, and no "
                          "recorded step shows where they started",
                          label=finding.label, count=nan + inf)
        finding.message = message(finding, "backward")
        found.append(finding)
    return found
