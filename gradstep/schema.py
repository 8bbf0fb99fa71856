"""The JSON gradstep writes, as typed records: the trace, a backward timeline, an export.

One definition for every way in: ``gradstep trace --json`` prints a ``TraceJSON``,
``gradstep backward --json`` a ``TimelineJSON`` (plus ``calls``), an exported
``.json`` file an ``ExportJSON``; the Python API returns the same records
(``gradstep.trace`` as a networkx graph whose node and edge attributes are
``NodeJSON`` / ``EdgeJSON``, ``gradstep.to_json`` and ``gradstep.backward`` as
these dicts). ``docs/api.md`` describes every field; ``tests/test_schema.py``
checks real outputs against these types.

Numbers that are not finite are written as the strings ``"NaN"``, ``"Infinity"``
and ``"-Infinity"`` (strict JSON). Pure: no torch, no Qt.
"""

from __future__ import annotations

from typing import Any, TypedDict

Number = float | int | str  # str: "NaN", "Infinity", "-Infinity"
Data = Any  # a small tensor's values nested like ``tolist()`` (up to 64 elements)


class _ValueRequired(TypedDict):
    shape: list[int]
    dtype: str
    device: str


class ValueJSON(_ValueRequired, total=False):
    """A tensor's value: statistics over its finite elements, ``data`` when small."""

    min: Number | None
    max: Number | None
    mean: Number | None
    std: Number | None
    nan: int
    inf: int
    data: Data
    nonfinite_at: list[list[int]]  # indices of the first NaN/Inf elements
    outputs: list[ValueJSON | None]  # a node with several outputs: one per output_nr


class _SavedRequired(TypedDict):
    name: str


class SavedJSON(_SavedRequired, total=False):
    """What a node saved for backward: a tensor (``shape``, ``dtype``, ``freed``) or a
    plain value (``value``: sizes, dims, flags)."""

    shape: list[int]
    dtype: str
    freed: bool
    hooked: bool  # a saved_tensors_hooks pack hook holds it
    value: Any
    error: str  # a saved value torch could not give back


class _NodeRequired(TypedDict):
    id: str
    name: str
    kind: str  # "op" or "leaf" ("module" for a folded module box in an export)
    label: str
    scope: str
    shape: list[int] | None
    dtype: str | None
    device: str | None
    value: ValueJSON | None
    saved: list[SavedJSON]
    seq: int | None
    line: int | None
    slots: int | None


class NodeJSON(_NodeRequired, total=False):
    """One node of the graph (a ``grad_fn``); ops also carry their local-gradient formula."""

    formula: Any
    formula_math: Any
    formula_note: str | None


class EdgeJSON(TypedDict):
    """From a node to the node that receives its gradient (``next_functions[slot]``)."""

    source: str
    target: str
    slot: int
    input_nr: int


class _TraceRequired(TypedDict):
    root: str
    device: str
    nodes: list[NodeJSON]
    edges: list[EdgeJSON]


class TraceJSON(_TraceRequired, total=False):
    """``gradstep trace --json``; ``gradstep.to_json(gradstep.trace(t))``."""

    roots: list[str]  # only when several tensors were traced together


class _ErrorRequired(TypedDict):
    kind: str
    type: str
    message: str
    title: str
    explanation: str
    fix: str


class ErrorJSON(_ErrorRequired, total=False):
    """torch's (or Python's) error, in its own words plus a plain explanation and a fix."""

    line: int | None
    column: int | None
    code: str | None
    detail: str  # the whole message (``message`` is its first line)
    exit_status: int  # the command line's exit status for this failure, where it is not 1
    pass_: int  # written "pass": the pass (0-based) that raised, in a combined timeline
    node: str | None  # the node where backward stopped


class _StepRequired(TypedDict):
    index: int
    node: str
    name: str
    grad_outputs: list[Any]  # the gradient arriving, one per output of the node
    grad_inputs: list[Any] | None  # what it sends on, one per next_functions slot
    error: bool
    freed: bool


class StepJSON(_StepRequired, total=False):
    """One node the autograd engine ran, in engine order."""

    pass_: int  # written "pass"
    leaf: str  # AccumulateGrad: the leaf's label
    grad_before: Any
    grad_after: Any


class PassSummaryJSON(TypedDict):
    """One pass of a timeline that holds several (``gradstep backward --passes N``)."""

    pass_: int  # written "pass"
    first_step: int
    steps: int
    leaf_grads: dict[str, Any]
    returned: list[Any] | None
    freed: bool
    error: ErrorJSON | None


class _TimelineRequired(TypedDict):
    mode: str  # "backward" or "grad"
    retain_graph: bool
    create_graph: bool
    steps: list[StepJSON]
    leaf_grads: dict[str, Any]  # each leaf's .grad after the pass, by label
    retained_grads: dict[str, Any]  # retain_grad() tensors' .grad, by name
    freed: bool
    freed_nodes: list[str]
    freed_before: list[str]
    passes: list[PassSummaryJSON]
    error: ErrorJSON | None


class TimelineJSON(_TimelineRequired, total=False):
    """``gradstep backward --json``; ``gradstep.backward(t)``."""

    returned: list[Any] | None  # grad mode: what autograd.grad returned, in input order
    returned_inputs: list[str]
    calls: list[dict]  # command line only: the snippet's own backward calls


class StepStateJSON(TypedDict):
    """The step an export shows (``gradstep export --step K``, ``Drawing.save`` with a step)."""

    pass_: int  # written "pass": 1-based
    step: int
    steps: int
    mode: str
    retain_graph: bool
    leaf_grads: dict[str, Any]
    returned: list[Any] | None
    error: str | None


class _ExportNodeFields(TypedDict, total=False):
    x: float
    y: float
    width: float
    height: float
    state: str  # pending, current, done, freed, error (only with a step)
    op_count: int  # a folded module box (kind "module"): how many ops it holds
    members: list[str]  # a folded module box: the ids of the nodes it holds


class ExportNodeJSON(NodeJSON, _ExportNodeFields):
    """A node of an exported ``.json`` file: the trace node plus its box."""


class ExportEdgeJSON(EdgeJSON, total=False):
    points: list[list[float]]
    grad: Any


class ExportJSON(_TraceRequired, total=False):
    """An exported ``.json`` file: the trace with positions, and the step it shows."""

    roots: list[str]
    bounds: list[float]  # x0, y0, x1, y1 of the drawing
    rankdir: str
    step_state: StepStateJSON


# Keys written differently from their Python field names (``pass`` is a keyword).
RENAMED = {"pass_": "pass"}


def json_keys(record: type) -> tuple[frozenset, frozenset]:
    """Return ``(required keys, optional keys)`` of a TypedDict as they appear in the JSON."""
    def named(keys) -> frozenset:
        return frozenset(RENAMED.get(k, k) for k in keys)

    return named(record.__required_keys__), named(record.__optional_keys__)
