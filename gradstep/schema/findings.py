"""A finding of ``gradstep check`` and the window's Diagnose view: where a NaN or an
infinity starts, or a layer whose gradients vanish, explode or are mostly exactly zero.

``autograd.nonfinite``, ``autograd.grad_origins`` and ``autograd.grad_flow`` make them,
``autograd.findings.diagnose`` collects them, the window and ``check --json``
(``Finding.as_json``) show them. A finding as JSON::

    {"kind": "nan_forward", "node": "n4", "name": "SqrtBackward0", "op": "sqrt",
     "label": "a", "line": 2, "scope": "", "pass": null, "step": null,
     "certain": true, "elements": [{"index": [0], "value": "NaN", "inputs": [-1.0]}],
     "cause": "sqrt(-1) = NaN", "note": "", "unseen": [], "carriers": ["n3", "n2"],
     "message": "NaN starts at sqrt (a), line 2: sqrt(-1) = NaN"}

``kind`` is one of ``KINDS``. ``certain`` False means an input's value was not seen:
``unseen`` lists those inputs (``why``: ``not_captured``, a node whose value gradstep
did not record; ``no_grad``, a tensor or number outside the graph) and ``note`` says
so in words. Gradient-flow findings add ``module``, ``params``,
``grad_norm``, ``weight_norm``, ``ratio``, ``relative`` and ``zero_fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypedDict

NONFINITE_KINDS = ("nan_forward", "inf_forward", "nan_grad", "inf_grad")
FLOW_KINDS = ("vanishing", "exploding", "dead")
KINDS = NONFINITE_KINDS + FLOW_KINDS


@dataclass
class Finding:
    """One thing ``check`` reports. ``node`` is a trace node id (None when unknown)."""

    kind: str
    node: str | None
    name: str | None = None
    op: str | None = None
    label: str | None = None
    line: int | None = None
    scope: str = ""
    pass_index: int | None = None  # which recorded backward pass (gradient findings)
    step: int | None = None  # the step of that pass
    certain: bool = True  # False: an input's value was not seen, so this is the first *known* point
    elements: list[dict] = field(default_factory=list)  # {"index", "value", "inputs"}
    cause: str = ""
    note: str = ""
    unseen: list[dict] = field(default_factory=list)  # {"slot", "argument", "node", "why"}
    carriers: list[str] = field(default_factory=list)
    message: str = ""
    extra: dict = field(default_factory=dict)  # gradient-flow numbers

    @property
    def fails(self) -> bool:
        """True for a NaN/Inf finding (``check`` exits 1); flow findings are warnings."""
        return self.kind in NONFINITE_KINDS

    def as_json(self) -> dict:
        """Return the finding as plain JSON data (see the module docstring)."""
        out = {
            "kind": self.kind, "node": self.node, "name": self.name, "op": self.op,
            "label": self.label, "line": self.line, "scope": self.scope,
            "pass": self.pass_index, "step": self.step, "certain": self.certain,
            "elements": self.elements, "cause": self.cause, "note": self.note,
            "unseen": self.unseen, "carriers": self.carriers, "message": self.message,
        }
        out.update(self.extra)
        return out


Number = Annotated[float | str | None, "NaN and the infinities as text in JSON"]

_FindingRequired = TypedDict("_FindingRequired", {
    "kind": Annotated[Literal["nan_forward", "inf_forward", "nan_grad", "inf_grad",
                              "vanishing", "exploding", "dead"], "KINDS"],
    "node": Annotated[str | None, "the trace node"],
    "name": Annotated[str | None, "its grad_fn name"],
    "op": Annotated[str | None, "a short op name (sqrt)"],
    "label": Annotated[str | None, "its label (a variable, a parameter, a module)"],
    "line": Annotated[int | None, "the snippet line that made it"],
    "scope": Annotated[str, "its module"],
    "pass": Annotated[int | None, "gradient findings: the 0-based recorded pass (null for a leaf's .grad no recorded step explains)"],
    "step": Annotated[int | None, "gradient findings: the step of that pass (null as pass)"],
    "certain": Annotated[bool, "False: an input's value was not seen, this is the first known point"],
    "elements": Annotated[list[dict], "the elements that went bad: index, value, inputs"],
    "cause": Annotated[str, "sqrt(-1) = NaN"],
    "note": Annotated[str, "what was not seen, in words"],
    "unseen": Annotated[list[dict], "the inputs not seen: slot, argument, node, why (not_captured, no_grad)"],
    "carriers": Annotated[list[str], "the nodes that only carried it on"],
    "message": Annotated[str, "one line for people"],
})


class FindingJSON(_FindingRequired, total=False):
    """A finding of ``gradstep check --json`` (``Finding.as_json``); gradient-flow findings
    add the numbers of their layer."""

    module: Annotated[str, "flow: the layer (a module or a parameter)"]
    params: Annotated[list[str], "flow: its parameters"]
    grad_norm: Number
    weight_norm: Number
    ratio: Annotated[float | str | None, "flow: |grad| / |weight|"]
    relative: Annotated[float | str | None, "flow: that ratio over the largest layer's"]
    zero_fraction: Annotated[float | None, "flow: the share of gradient elements exactly 0"]


class FlowRowJSON(TypedDict):
    """One layer of the gradient-flow table (``grad_flow.FlowRow.as_json``), input side first."""

    name: Annotated[str, "a module (folded) or a parameter"]
    nodes: Annotated[list[str], "its leaves' node ids"]
    params: Annotated[list[str], "its parameters' labels"]
    numel: int
    grad_norm: Number
    weight_norm: Number
    ratio: Number
    zero_fraction: Annotated[float | None, "the share of gradient elements exactly 0"]
    nonfinite: Annotated[int, "NaN and infinite gradient elements"]


class CheckJSON(TypedDict):
    """``gradstep check --json`` (``autograd.findings.check_json``)."""

    findings: Annotated[list[FindingJSON], "forward first, then each pass, then gradient flow"]
    grad_norms: Annotated[dict[str, Any], "each leaf's label: the norm of its .grad (None: none)"]
    layers: Annotated[list[FlowRowJSON], "the gradient-flow rows"]
