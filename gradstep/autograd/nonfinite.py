"""Where NaN and infinite values start (pure: trace and timeline data in, findings out).

**Forward.** Op nodes are taken in execution order (autograd sequence numbers, the
trace's ``seq``). An op whose recorded output holds a NaN or an infinity is

- a **carrier** when one of its inputs (an output of the node in that slot) is known
  to hold one already;
- an **origin** when every input is known and finite: the op made the value itself
  (``certain``);
- otherwise the **first known point**: an origin with ``certain`` False, because an
  input's value was not captured (nodes inside library code have no value unless the
  run used ``--deep-values``) or the op read a tensor outside the graph (one that does
  not require grad: data, a constant), which gradstep does not see. The note says
  which. When an uncaptured input leads back, through other uncaptured nodes, to a node
  known to hold NaN/Inf, the op is a carrier instead.

A leaf whose value holds NaN/Inf is an origin; its value is the one it has when the
graph is traced (as the run left it).

**Backward** (each recorded pass, steps in engine order). A step whose sent gradient
(``grad_inputs``) holds NaN/Inf is a carrier when its arriving gradient
(``grad_outputs``) already did, or when the node's forward output or inputs did (the
backward formula only passes the forward's NaN on); otherwise it is an origin,
``certain`` when the node's forward output and inputs are known and finite. A step whose
*arriving* gradient holds NaN/Inf is an origin too when every gradient the earlier steps
of the pass sent its node was finite (a hook of the snippet's changed it between the
steps, or finite gradients summed past the float range), or when no step sent it one
(the gradient the pass started from); when what was sent is not known, no claim.

NaN and infinities are one class here: ``exp`` overflowing to Infinity is the origin,
and ``inf - inf = NaN`` further on is a carrier, named in the origin's message as the
place the value becomes NaN.
"""

from __future__ import annotations

import math

from gradstep.autograd import elements as el
from gradstep.autograd.formulas import input_slots
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.op_names import op_name
from gradstep.i18n import N_, _
from gradstep.policies.strict_json import INFINITY, NAN
from gradstep.schema.findings import Finding

SHOWN = 4  # elements described per finding

# Ops that compute each output element from the input elements at the same place
# (after broadcasting): for these the inputs that made a NaN element can be named.
POINTWISE = frozenset({
    "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "clamp",
    "clamp_min", "clamp_max", "cos", "cosh", "digamma", "div", "erfinv", "exp", "exp2", "expm1",
    "fmod", "hypot", "lgamma", "log", "log10", "log1p", "log2", "logit", "mul", "neg",
    "polygamma", "pow", "reciprocal", "relu", "remainder", "rsqrt", "rsub", "sigmoid", "sin",
    "sinh", "sqrt", "sub", "tan", "tanh", "xlogy", "where", "special_xlog1py", "sinc",
})
_OPERATORS = {"div": "/", "mul": "*", "add": "+", "sub": "-", "pow": "**"}


def op_of(name: str | None) -> str:
    """Return the short op of a node class: ``SqrtBackward0`` -> ``sqrt``, ``MseLossBackward0``
    -> ``mse_loss`` (a custom Function ``BadBackward`` -> ``bad``)."""
    return op_name(name or "")


class GraphData:
    """The trace JSON indexed for the searches: nodes, each op's inputs by slot, consumers."""

    def __init__(self, trace: dict):
        self.nodes: dict[str, dict] = {n["id"]: n for n in trace.get("nodes") or []}
        self._edges = trace.get("edges") or []
        self._inputs: dict[str, list[tuple[int, str, int]]] | None = None
        self._consumers: dict[str, list[str]] = {}
        self._status: dict[str, str | None] = {}  # the searches ask about a node many times

    @property
    def inputs(self) -> dict[str, list[tuple[int, str, int]]]:
        """``{node: [(slot, input's producer, its output_nr)]}``, by slot."""
        if self._inputs is None:
            self._index_edges()
        return self._inputs

    @property
    def consumers(self) -> dict[str, list[str]]:
        """``{node: [the nodes that take its output]}``, in the edges' order."""
        if self._inputs is None:
            self._index_edges()
        return self._consumers

    def _index_edges(self) -> None:
        """Fill ``inputs`` and ``consumers`` from the trace's edges: when first asked for, not
        when made (the forward search of a graph without NaN/Inf asks for neither, and the
        window makes a GraphData at each run's first paint)."""
        inputs: dict[str, list[tuple[int, str, int]]] = {}
        consumers: dict[str, list[str]] = {}
        for edge in self._edges:  # (one edge of 100,000s at a time: no new list per edge,
            source, target = edge["source"], edge["target"]  # as setdefault makes)
            entry = (edge["slot"], target, edge.get("input_nr", 0))
            slots = inputs.get(source)
            if slots is None:
                inputs[source] = [entry]
            else:
                slots.append(entry)
            users = consumers.get(target)
            if users is None:
                consumers[target] = [source]
            else:
                users.append(source)
        for slots in inputs.values():
            if len(slots) > 1:
                slots.sort()
        self._consumers = consumers  # first: ``_inputs`` set says both are (another thread
        self._inputs = inputs  # reading ``consumers`` between the two got the empty one)

    def output(self, node_id: str, output_nr: int = 0):
        """Return the recorded value of one output of a node (None when not captured)."""
        value = self.nodes.get(node_id, {}).get("value")
        if not isinstance(value, dict):
            return None
        outputs = value.get("outputs")
        if outputs is not None:
            return outputs[output_nr] if output_nr < len(outputs) else None
        return value if output_nr == 0 else None

    def order(self, node_id: str) -> float:
        """Return the execution order of a node: its ``seq``; a leaf comes just before its
        first consumer."""
        seq = self.nodes[node_id].get("seq")
        if seq is not None:
            return seq
        uses = [self.nodes[c].get("seq") for c in self.consumers.get(node_id, ())]
        uses = [s for s in uses if s is not None]
        return min(uses) - 0.5 if uses else -1.0

    def absent_slots(self, node_id: str) -> list[int]:
        """Return the input slots with no node: an input that needs no gradient."""
        present = {slot for slot, _, _ in self.inputs.get(node_id, ())}
        return [s for s in range(self.nodes[node_id].get("slots") or 0) if s not in present]

    def status(self, node_id: str) -> str | None:
        """Return ``"bad"`` if any recorded output of the node holds NaN/Inf, ``"ok"``
        when its outputs are known finite, None when unknown."""
        if node_id in self._status:
            return self._status[node_id]
        self._status[node_id] = found = self._read_status(node_id)
        return found

    def _read_status(self, node_id: str) -> str | None:
        value = self.nodes.get(node_id, {}).get("value")
        if not isinstance(value, dict):
            return None
        data = value.get("data")  # most nodes: one small output, finite (el.status's answer,
        if type(data) is list and "outputs" not in value and el.all_finite(data):  # sooner)
            return "ok"
        outputs = value.get("outputs") or [value]
        states = [el.status(v) for v in outputs]
        if "bad" in states:
            return "bad"
        return "ok" if states and all(s == "ok" for s in states) else None

    def bad_nodes(self) -> list[str]:
        """Return ``[n for n in self.nodes if self.status(n) == "bad"]``, each node's status
        kept as ``status`` keeps it; most nodes (one small finite output) are read here,
        without ``status``'s two calls a node (100,000s of nodes)."""
        known = self._status
        bad = []
        for node_id, node in self.nodes.items():
            found = known.get(node_id, 0)
            if found == 0:
                value = node.get("value")
                data = value.get("data") if isinstance(value, dict) else None
                found = None
                if type(data) is list and "outputs" not in value:
                    try:  # el.all_finite(data), inline
                        if math.isfinite(sum(data)):
                            found = "ok"
                    except (TypeError, OverflowError):
                        pass
                if found is None:
                    found = self._read_status(node_id)
                known[node_id] = found
            if found == "bad":
                bad.append(node_id)
        return bad

    def input_status(self, slot_entry) -> str | None:
        _slot, producer, output_nr = slot_entry
        return el.status(self.output(producer, output_nr))

    def where(self, node_id: str) -> dict:
        """Return the naming fields of a finding about ``node_id``."""
        node = self.nodes.get(node_id, {})
        return {"node": node_id, "name": node.get("name"), "op": op_of(node.get("name")),
                "label": node.get("label"), "line": node.get("line"), "scope": node.get("scope") or ""}


# ---------------------------------------------------------------- forward


def forward_findings(graph: GraphData) -> tuple[list[Finding], dict[str, str]]:
    """Return the forward origins (in execution order) and ``{node: "origin"|"carrier"}``."""
    bad = sorted(graph.bad_nodes(), key=graph.order)
    marks: dict[str, str] = {}
    findings = []
    clean: set[str] = set()  # uncaptured nodes known not to lead back to NaN/Inf
    for node_id in bad:
        verdict, unseen = _forward_verdict(graph, node_id, clean)
        marks[node_id] = "origin" if verdict != "carrier" else "carrier"
        if verdict != "carrier":
            findings.append(_forward_finding(graph, node_id, verdict == "origin", unseen))
    for finding in findings:
        finding.carriers = _downstream_bad(graph, finding.node, marks)
        finding.message = message(finding, "forward", _becomes_nan(graph, finding))
    return findings, marks


def _forward_verdict(graph: GraphData, node_id: str, clean: set) -> tuple[str, list]:
    """Return ("origin" | "first_known" | "carrier", unseen inputs) for a node holding NaN/Inf."""
    node = graph.nodes[node_id]
    if node.get("kind") == "leaf":
        return "origin", []
    entries = graph.inputs.get(node_id, [])
    states = [graph.input_status(e) for e in entries]
    if "bad" in states:
        return "carrier", ""
    unknown = [e for e, s in zip(entries, states) if s is None]
    if any(_leads_to_bad(graph, producer, clean) for _, producer, _ in unknown):
        return "carrier", []
    absent = graph.absent_slots(node_id)
    if not unknown and not absent:
        return "origin", []
    return "first_known", unseen_inputs(graph, node_id, unknown, absent)


def _leads_to_bad(graph: GraphData, start: str, clean: set) -> bool:
    """Return True when a node known to hold NaN/Inf feeds ``start`` through nodes whose
    values were not captured. ``clean`` collects the nodes a search found no such node
    behind, so later searches stop there (the whole pass stays linear in the graph)."""
    stack, seen = [start], {start}
    while stack:
        node_id = stack.pop()
        if node_id in clean:
            continue
        state = graph.status(node_id)
        if state == "bad":
            return True
        if state == "ok":
            continue
        for _slot, producer, _nr in graph.inputs.get(node_id, ()):
            if producer not in seen:
                seen.add(producer)
                stack.append(producer)
    clean |= seen
    return False


def unseen_inputs(graph: GraphData, node_id: str, unknown: list, absent: list[int]) -> list[dict]:
    """Return ``{"slot", "argument", "node", "why"}`` for each input whose value is not known:
    ``not_captured`` (a node gradstep recorded no value for) or ``no_grad`` (outside the graph)."""
    out = [{"slot": slot, "argument": _argument(graph, node_id, slot), "node": producer,
            "why": "not_captured"} for slot, producer, _ in unknown]
    out += [{"slot": slot, "argument": _argument(graph, node_id, slot), "node": None,
             "why": "no_grad"} for slot in absent]
    return sorted(out, key=lambda item: item["slot"])


def unseen_note(graph: GraphData, unseen: list[dict]) -> str:
    """Return the note that says which inputs were not seen, in words."""
    parts = []
    for item in unseen:
        name = (_("{argument} (slot {slot})", argument=item["argument"], slot=item["slot"])
                if item["argument"] else _("slot {slot}", slot=item["slot"]))
        if item["why"] == "not_captured":
            what = graph.nodes.get(item["node"], {}).get("label") or item["node"]
            parts.append(_("the value of its input {name} ({node}, {what}) was not captured; "
                           "run with --deep-values to look inside", name=name,
                           node=item["node"], what=what))
        else:
            parts.append(_("its input {name} is a tensor or number that does not require grad "
                           "(data, a constant), whose value gradstep does not see", name=name))
    return _("{notes}. So this is where NaN/Inf is first seen, not proven to start.",
             notes=_("; ").join(parts))


def _argument(graph: GraphData, node_id: str, slot: int) -> str | None:
    """Return the argument name of an input slot from torch's derivatives table (``other``)."""
    node = graph.nodes[node_id]
    try:
        slots = input_slots(node.get("name") or "", node.get("slots")) or {}
    except Exception as exc:  # the table cannot be read here: the slot number still says it
        reraise_if_handlers(exc)
        slots = {}
    for argument, where in slots.items():
        if where == slot or (isinstance(where, list) and slot in where):
            return argument
    return None


def _forward_finding(graph: GraphData, node_id: str, certain: bool, unseen: list) -> Finding:
    node = graph.nodes[node_id]
    value = _first_bad_output(graph, node_id)
    counts = el.counts(value) or (0, 0)
    kind = "nan_forward" if counts[0] else "inf_forward"
    elements = []
    op = op_of(node.get("name"))
    for index in el.bad_indices(value, SHOWN):
        inputs = _input_elements(graph, node_id, index, value) if node.get("kind") == "op" else []
        elements.append({"index": index, "value": element_text(value, index), "inputs": inputs})
    finding = Finding(kind=kind, certain=certain, unseen=unseen, elements=elements,
                      note=unseen_note(graph, unseen) if unseen else "", **graph.where(node_id))
    if node.get("kind") == "leaf":
        finding.op = None
        finding.cause = _("the leaf {label} holds {what}", label=node.get("label"),
                          what=_what(counts))
    else:
        finding.cause = _forward_cause(graph, node_id, op, elements)
    return finding


def _first_bad_output(graph: GraphData, node_id: str):
    value = graph.nodes[node_id].get("value") or {}
    for output in value.get("outputs") or [value]:
        if el.status(output) == "bad":
            return output
    return value


def _input_elements(graph: GraphData, node_id: str, index: list[int], value) -> list:
    """Return, per input slot, the input element that made output element ``index``
    (pointwise ops only; None where unknown)."""
    node = graph.nodes[node_id]
    if op_of(node.get("name")) not in POINTWISE:
        return []
    by_slot = {slot: (producer, nr) for slot, producer, nr in graph.inputs.get(node_id, ())}
    out = []
    for slot in range(node.get("slots") or 0):
        if slot not in by_slot:
            out.append(_saved_number(node, slot))
            continue
        inp = graph.output(*by_slot[slot])
        at = el.broadcast_index(index, el.shape_of(inp), el.shape_of(value)) if inp else None
        out.append(el.element(inp, at) if at is not None else None)
    if node.get("slots") == 1:  # a scalar second operand the node saved (pow's exponent)
        saved = _saved_plain(node, ("exponent", "other"))
        if saved is not None:
            out.append(saved)
    return out


def _plain_positions(graph: GraphData, node_id: str) -> set[int]:
    """Return the positions of ``_input_elements``'s list that hold a Python number the node
    saved (a slot without an edge, pow's exponent), not an element of a tensor."""
    node = graph.nodes[node_id]
    slots = node.get("slots") or 0
    fed = {slot for slot, _producer, _nr in graph.inputs.get(node_id, ())}
    return {slot for slot in range(slots) if slot not in fed} | ({1} if slots == 1 else set())


def _saved_number(node: dict, slot: int):
    return _saved_plain(node, ("other",)) if slot == 1 else None


def _saved_plain(node: dict, names) -> float | None:
    for item in node.get("saved") or []:
        if item.get("name") in names and isinstance(item.get("value"), (int, float, str)):
            return item["value"]
    return None


def _forward_cause(graph: GraphData, node_id: str, op: str, elements: list[dict]) -> str:
    """Return ``sqrt(-1) = NaN`` / ``0 / 0 = NaN`` for a pointwise op, else the input ranges."""
    if elements and any(x is not None for x in elements[0]["inputs"]):
        first = elements[0]
        plain = _plain_positions(graph, node_id)
        args = [el.text(x, i in plain) for i, x in enumerate(first["inputs"])]
        if op in _OPERATORS and len(args) == 2:
            if op == "pow" and args[0].startswith("-"):  # -1. ** 0.5 would read -(1. ** 0.5)
                args[0] = f"({args[0]})"
            return f"{args[0]} {_OPERATORS[op]} {args[1]} = {first['value']}"
        return f"{op}({', '.join(args)}) = {first['value']}"
    ranges = []
    for slot, producer, nr in graph.inputs.get(node_id, ()):
        value = graph.output(producer, nr)
        if isinstance(value, dict) and value.get("min") is not None:
            ranges.append(_("input {slot} in [{low}, {high}]", slot=slot,
                            low=el.text(value["min"]), high=el.text(value["max"])))
    first = elements[0] if elements else None
    at = _(" at {index}", index=first["index"]) if first else ""
    made = first["value"] if first else "NaN/Inf"
    if ranges:
        return _("{op} made {value}{at} from inputs {ranges}", op=op, value=made, at=at,
                 ranges=", ".join(ranges))
    return _("{op} made {value}{at}", op=op, value=made, at=at)


def _downstream_bad(graph: GraphData, origin: str, marks: dict) -> list[str]:
    """Return the carriers fed by ``origin``: nodes marked carrier reachable through its
    consumers, passing nodes that hold NaN/Inf or whose value is unknown, in order."""
    found, stack, seen = [], [origin], {origin}
    while stack:
        node_id = stack.pop()
        for consumer in graph.consumers.get(node_id, ()):
            if consumer in seen or graph.status(consumer) == "ok":
                continue
            seen.add(consumer)
            stack.append(consumer)
            if marks.get(consumer) == "carrier":
                found.append(consumer)
    return sorted(found, key=graph.order)


def _what(counts) -> str:
    nan, inf = counts
    if nan and inf:
        return _("{nan} NaN and {inf} infinite elements", nan=nan, inf=inf)
    if nan:
        return (_("{count} NaN element", count=nan) if nan == 1
                else _("{count} NaN elements", count=nan))
    return (_("{count} infinite element", count=inf) if inf == 1
            else _("{count} infinite elements", count=inf))


def element_text(value, index: list[int]) -> str:
    """Return the text of a NaN/Inf element: from the data, else what the counts allow."""
    if el.data_of(value) is not None:
        return el.text(el.element(value, index))
    nan, inf = el.counts(value) or (1, 1)
    either = "±" + el.word(INFINITY)
    return el.word(NAN) if not inf else (either if not nan else
                                         _("{nan} or {inf}", nan=el.word(NAN), inf=either))


def message(finding: Finding, where: str, turned: str = "") -> str:
    """Return the one-line summary of a NaN/Inf finding."""
    what = "NaN" if finding.kind.startswith("nan") else _("Infinity")
    name = finding.op or finding.name or finding.node
    if finding.label and finding.label != name:
        name = f"{name} ({finding.label})"
    place = _(" in module {scope}", scope=finding.scope) if finding.scope else ""
    line = _(", line {line}", line=finding.line) if finding.line else ""
    template = {(True, "forward"): N_("{what} starts at {name}{place}{line}"),
                (False, "forward"): N_("{what} is first seen at {name}{place}{line}"),
                (True, "backward"): N_("{what} starts in the gradient of {name}{place}{line}"),
                (False, "backward"): N_("{what} is first seen in the gradient of "
                                        "{name}{place}{line}")}[
        (bool(finding.certain), "backward" if where == "backward" else "forward")]
    text = _(template, what=what, name=name, place=place, line=line)
    if finding.cause:
        text = _("{text}: {cause}", text=text, cause=finding.cause)
    return _("{text}; it becomes NaN at {where}", text=text, where=turned) if turned else text


def _becomes_nan(graph: GraphData, finding: Finding) -> str:
    """Return where an infinity from this origin turns into NaN (``sub, line 5``), or ''."""
    if finding.kind.startswith("nan"):
        return ""
    for node_id in finding.carriers:
        node = graph.nodes.get(node_id, {})
        counts = el.counts(_first_bad_output(graph, node_id)) or (0, 0)
        inputs_nan = any((el.counts(graph.output(p, nr)) or (0, 0))[0]
                         for _, p, nr in graph.inputs.get(node_id, ()))
        if counts[0] and not inputs_nan:
            line = _(", line {line}", line=node["line"]) if node.get("line") else ""
            return f"{op_of(node.get('name'))} ({node_id}{line})"
    return ""
