"""What ``gradstep check`` and the window's Diagnose view report (pure; no torch, no Qt).

``diagnose(trace, timelines, stats)`` takes the plain data a run gives — the trace
JSON, recorded backward passes and the kernel's gradient statistics
(``grad_stats.grad_stats``) — and returns a ``Diagnosis``: the findings (where a
NaN or an infinity starts, in the forward values and in each pass's gradients;
layers whose gradients vanish, explode or are mostly exactly zero), the mark of
each node involved (``origin`` or ``carrier``) and the gradient-flow rows.

A finding's fields and its JSON are in ``gradstep.schema.findings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from gradstep.autograd import elements as el
from gradstep.autograd import grad_flow, grad_origins, nonfinite
from gradstep.i18n import _, language
from gradstep.schema.findings import Finding


@dataclass
class Diagnosis:
    """Findings (in execution order: forward, then each pass, then gradient flow),
    ``marks`` and the gradient-flow ``rows`` (``grad_flow.FlowRow``, input side first).

    ``marks[node]`` is ``"origin"`` (a NaN/Inf starts there, forward or backward),
    ``"carrier"`` (its forward value holds one that came from its inputs) or
    ``"grad_carrier"`` (only a gradient through it holds one that arrived from
    elsewhere)."""

    findings: list[Finding] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)
    rows: list = field(default_factory=list)
    params: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when some NaN or infinity was found."""
        return any(f.fails for f in self.findings)

    def nonfinite(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]


def diagnose(trace: dict | None, timelines=(), stats: dict | None = None, *,
             fold: bool = True) -> Diagnosis:
    """Return the Diagnosis of a run: ``trace`` is the trace JSON, ``timelines`` the
    recorded backward passes whose steps name that trace's nodes, ``stats`` what
    ``Session.grad_stats`` returned (None: no gradient flow). ``fold`` groups the
    parameters by module for the flow rows and their findings."""
    return Diagnoser().diagnose(trace, timelines, stats, fold=fold)


class Diagnoser:
    """``diagnose`` for a view that asks again as passes and statistics arrive.

    The trace's index and forward findings are made once per trace, each pass's findings
    once per pass: a 100,000-node trace costs seconds each. The pieces are kept with the
    very objects they came from (compared with ``is``) and the language they are worded
    in (and whether in torch's words for NaN and the infinities, ``elements.torch_words``),
    so another trace, another timeline or another wording is diagnosed afresh; the
    Diagnosis is the one ``diagnose`` returns for the same arguments. A trace or timeline
    changed in place is not seen: the window never changes one (a run brings new ones).
    """

    def __init__(self):
        self._trace: dict | None = None
        self._wording: tuple[str, bool] = ("", False)  # language, torch's words or JSON's
        self._graph: nonfinite.GraphData | None = None
        self._forward: tuple[list[Finding], dict[str, str]] = ([], {})
        self._passes: list[tuple[dict, int, list[Finding], dict[str, str]]] = []

    def diagnose(self, trace: dict | None, timelines=(), stats: dict | None = None, *,
                 fold: bool = True) -> Diagnosis:
        """Return ``diagnose(trace, timelines, stats, fold=fold)``, reusing what it can."""
        out = Diagnosis()
        if not trace:
            return out
        graph = self._graph_of(trace)
        found, marks = self._forward
        out.findings += found
        out.marks.update(marks)
        for number, timeline in enumerate(timelines or []):
            found, marks = self._pass(graph, timeline, number)
            out.findings += found
            for node_id, mark in marks.items():
                if mark == "origin":
                    out.marks[node_id] = mark
                else:
                    out.marks.setdefault(node_id, "grad_carrier")
        if stats and stats.get("params"):
            out.findings = _written_after(out.findings, graph, stats["params"])
            out.params = grad_flow.param_rows(graph, stats["params"])
            out.rows = grad_flow.fold_rows(out.params) if fold else out.params
            if not any(f.fails for f in out.findings):  # else a finding explains it
                out.findings += grad_origins.leaf_findings(graph, stats["params"])
            out.findings += grad_flow.flow_findings(out.rows)
        return out

    def _graph_of(self, trace: dict) -> nonfinite.GraphData:
        wording = (language(), el.printing_torch_words())
        if trace is not self._trace or wording != self._wording or self._graph is None:
            self._trace, self._wording = trace, wording
            self._graph = nonfinite.GraphData(trace)
            self._forward = nonfinite.forward_findings(self._graph)
            self._passes = []
        return self._graph

    def _pass(self, graph: nonfinite.GraphData, timeline: dict,
              number: int) -> tuple[list[Finding], dict[str, str]]:
        for seen, seen_number, found, marks in self._passes:
            if seen is timeline and seen_number == number:
                return found, marks
        found, marks = grad_origins.pass_findings(graph, timeline, number)
        self._passes.append((timeline, number, found, marks))
        return found, marks


def _written_after(findings: list[Finding], graph, params: list[dict]) -> list[Finding]:
    """Return ``findings`` with a note on each leaf origin the snippet wrote in place after
    its last recorded backward call: the trace reads a leaf's value when the snippet has
    ended, so an optimizer step's NaN/Inf is no value the forward used (copies: the
    Diagnoser keeps its findings)."""
    written = {p.get("node"): bool(p.get("written_during"))
               for p in params if p.get("written_after")}
    out = []
    for finding in findings:
        if (finding.node in written and finding.kind in ("nan_forward", "inf_forward")
                and graph.nodes.get(finding.node, {}).get("kind") == "leaf"):
            label = graph.nodes[finding.node].get("label")
            if written[finding.node]:  # a hook's step, while the call ran
                note = _("the snippet wrote {label} in place during a recorded backward "
                         "call made after this graph's forward (an optimizer step in a hook?): this is its value after that, not "
                         "the one the forward used", label=label)
            else:
                note = _("the snippet wrote {label} in place after the first recorded backward "
                         "call through this graph (an optimizer step?): this is its value after that, not the one "
                         "the forward used", label=label)
            finding = replace(finding, note=f"{finding.note}; {note}" if finding.note else note)
        out.append(finding)
    return out


def check_json(diagnosis: Diagnosis, stats: dict | None = None) -> dict:
    """Return ``gradstep check --json``'s output: ``{"findings": [...], "grad_norms":
    {leaf label: norm of its .grad or None}, "layers": [flow rows]}``."""
    grad_norms = {p["label"]: p.get("grad_norm") for p in (stats or {}).get("params") or []}
    return {
        "findings": [f.as_json() for f in diagnosis.findings],
        "grad_norms": grad_norms,
        "layers": [row.as_json() for row in diagnosis.rows],
    }
