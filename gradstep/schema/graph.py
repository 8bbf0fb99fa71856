"""The trace JSON: the graph a run drew, as plain data (``gradstep trace --json``).

``autograd.serialize.graph_to_json`` writes it from a traced graph, ``autograd.graph_json``
reads it back into a networkx graph (torch-free: the window and ``gradstep export`` draw
graphs a kernel process traced), and ``drawing.graph_files.to_json`` writes it again with
geometry and the state of a step (``gradstep export -o graph.json``). ``NODE_FIELDS`` is the
one list of a node's fields those three share.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

TensorData = Annotated[Any, "a number, or nested lists like tolist(); NaN and infinities as the strings NaN, Infinity, -Infinity"]


class _SummaryRequired(TypedDict):
    shape: Annotated[list[int], "the tensor's shape"]
    dtype: Annotated[str, "float32, int64, ... (without torch.)"]
    device: Annotated[str, "cpu, cuda:0, meta, ..."]


class TensorSummary(_SummaryRequired, total=False):
    """A tensor as plain data (``autograd.values.tensor_value``): its range over the
    finite elements, its mean and std, and its data when it has at most 64 elements. A
    tensor without data (the meta device) has only shape, dtype and device."""

    min: Annotated[float | str | None, "smallest finite element (None: none is finite)"]
    max: Annotated[float | str | None, "largest finite element"]
    mean: Annotated[float | str | None, "torch's own x.mean() (a float tensor of 2 to 64 elements, "
                    "all finite: None for all such in a trace with more than "
                    "values.SMALL_MEANS_LIMIT, 20,000, of them; a NaN, an infinity or a sum "
                    "past the range: \"NaN\" or \"Infinity\" as torch gives it; no element: "
                    "\"NaN\"; float16 and bfloat16 too, but None past 1,048,576 elements on the "
                    "CPU, where only a float32 copy of all of it makes it; ints and bools, which "
                    "torch has no x.mean() of: of the values in double, None when empty)"]
    std: Annotated[float | str | None, "torch's own x.std() (n - 1), as the mean; None for one "
                   "element (torch's x.std() is nan there), and where the mean is None but for "
                   "a large CPU half precision tensor's (its own x.std() copies nothing)"]
    nan: Annotated[int, "how many elements are NaN"]
    inf: Annotated[int, "how many elements are infinite"]
    data: TensorData
    nonfinite_at: Annotated[list[list[int]], "indices of the first 8 NaN or infinite elements"]
    outputs: Annotated[list[Any], "a multi-output node: the value of each output (None: not recorded)"]


TensorValue = Annotated[Any, "a TensorSummary, or TensorData for a small tensor, or None"]


class SavedEntry(TypedDict, total=False):
    """One tensor (or plain value) a node saved for its backward (``autograd.saved``).
    Attributes torch never saved are left out."""

    name: Annotated[str, "the attribute without _saved_ (self, other, result, ctx.alpha)"]
    shape: Annotated[list[int], "a saved tensor's shape (while alive; once freed, as noted just before the pass freed it)"]
    dtype: Annotated[str, "a saved tensor's dtype (as its shape)"]
    freed: Annotated[bool, "torch released it (a backward pass without retain_graph)"]
    hooked: Annotated[bool, "a saved-tensors hook holds it (gradstep does not unpack it)"]
    changed_in_place: Annotated[bool, "torch still holds it, but it was changed in place since the node saved it: backward through the node raises (left out when not)"]
    version: Annotated[int, "with changed_in_place: the tensor's version now, as torch's own error says it"]
    saved_version: Annotated[int, "with changed_in_place: its version when the node saved it (torch's error: expected version)"]
    changed_during: Annotated[bool, "a step state before the step torch raised its version error at: a hook of the snippet's changed this saved tensor in place during the pass, and no probe says whether already at this step (saved_version: torch's; no version); shown neither alive nor refused (left out when not)"]
    view_version: Annotated[int, "a saved view of a live program (the Python API's trace, a backward call's graph while the snippet runs) whose base requires grad, at this version (past 0) now: torch refuses it at backward if it was saved at another version, which only unpacking it tells, and unpacking reads the view's node, which torch rebuilds (a new sequence number) if the view went stale: not read, shown neither alive nor refused (left out when not)"]
    detached_in_place: Annotated[bool, "a non-leaf input the snippet detached in place (b.detach_()) since the node saved it: torch's backward through the node raises that (left out when not)"]
    value: Annotated[Any, "a plain saved value (a dim, a scalar), or with values=True the tensor's value"]
    tuple: Annotated[bool, "a tuple in Python (a list here): a custom Function's ctx value, a C++ node's tuple not all of ints (_foreach_pow's exponents; its sizes, all ints, always are tuples)"]
    error: Annotated[str, "reading it failed: the first line of why"]
    remembered: Annotated[bool, "freed now: its value was remembered before the pass freed it (autograd.saved_memory)"]


class _NodeRequired(TypedDict):
    id: Annotated[str, "n0, n1, ... breadth-first from the root (n0)"]
    name: Annotated[str, "grad_fn.name() without torch::autograd:: (MulBackward0, AccumulateGrad)"]
    kind: Annotated[Literal["op", "leaf", "module"], "op, leaf (AccumulateGrad), or module (a folded box in a graph file)"]
    label: Annotated[str | None, "the snippet's variable name, else a short op name (mul) or the parameter name"]
    scope: Annotated[str | None, "the innermost named module the op ran in (model1.3); empty at top level"]
    shape: Annotated[list[int] | None, "the output's shape, from torch's own metadata"]
    dtype: Annotated[str | None, "the output's dtype"]
    device: Annotated[str | None, "the output's device"]
    value: TensorValue
    saved: Annotated[list[SavedEntry], "what the node saved for backward, alive or freed"]


class TraceNode(_NodeRequired, total=False):
    """One node of the trace JSON (the attributes of a graph node, the same names)."""

    seq: Annotated[int | None, "an op's autograd sequence number: the order the forward ops ran in"]
    line: Annotated[int | None, "the snippet line whose code made the op"]
    slots: Annotated[int, "len(next_functions): an input slot without an edge needs no gradient"]
    formula: Annotated[Any, "an op's local-gradient formula from derivatives.yaml (formulas.md)"]
    formula_math: Annotated[Any, "the same in mathematical notation"]
    formula_note: Annotated[Any, "why there is no formula, when there is none"]
    written_after: Annotated[dict, "a leaf written after the first of the snippet's recorded backward calls through the graph that used it (the last call, unless a retain_graph call ran over the same forward before it; an optimizer step): {pass_version, version}, torch's _version then and now (equal for a write it does not count: p.data, fused); with during: true where it was written while that call or a later one ran (a hook's step; pass_version: as that first call began); its value is the leaf's now, not the one the pass used (left out when not)"]


# The fields every node carries, in this order, in the trace JSON and in graph files.
NODE_FIELDS: tuple[str, ...] = ("id", "name", "kind", "label", "scope", "shape", "dtype", "device",
                                "value", "saved", "formula", "formula_math", "formula_note",
                                "seq", "line", "slots")
# A leaf has no formula of its own (AccumulateGrad adds into .grad): the trace JSON leaves these out.
FORMULA_FIELDS: tuple[str, ...] = ("formula", "formula_math", "formula_note")
# Fields a node carries, after those, only where they apply (a leaf written after the pass).
OPTIONAL_FIELDS: tuple[str, ...] = ("written_after",)


class TraceEdge(TypedDict):
    """An edge goes from a node to the node that receives its gradient (the way backward flows)."""

    source: Annotated[str, "the node whose next_functions hold the target"]
    target: Annotated[str, "the node the gradient flows to"]
    slot: Annotated[int, "the position in the source's next_functions (also the edge's key)"]
    input_nr: Annotated[int, "the second element of that next_functions pair"]


class _TraceRequired(TypedDict):
    root: Annotated[str, "the id of the (first) root, n0"]
    device: Annotated[str, "the device the snippet ran under"]
    nodes: Annotated[list[TraceNode], "in id order"]
    edges: Annotated[list[TraceEdge], "in (source, slot) order"]


class TraceJSON(_TraceRequired, total=False):
    """``gradstep trace --json``, and the ``trace`` of a run reply."""

    roots: Annotated[list[str], "all roots, when several were drawn (--root a,b; the snippet's own backward calls)"]


class GraphFileNode(TraceNode, total=False):
    """A node of ``gradstep export -o graph.json``: the trace node plus geometry and state."""

    x: Annotated[float, "centre"]
    y: Annotated[float, "centre"]
    width: Annotated[float, "box width in points"]
    height: Annotated[float, "box height in points"]
    state: Annotated[Literal["pending", "current", "done", "freed", "error"], "the node's state at the step drawn"]
    op_count: Annotated[int, "a folded module box: how many ops it holds"]
    members: Annotated[list[str], "a folded module box: the ids it holds"]


class GraphFileEdge(TraceEdge, total=False):
    """An edge of a graph file: the trace edge plus its route and the gradient it carries."""

    points: Annotated[list[list[float]], "the route, source box border to target box border"]
    grad: Annotated[Any, "the gradient the edge carries at the step drawn (None: none flowed)"]
    count: Annotated[int, "edges merged between two folded boxes"]


class GraphFileJSON(TypedDict, total=False):
    """``gradstep export -o graph.json``: the trace JSON plus geometry and, with --step, the step."""

    root: str
    device: str
    roots: list[str]
    nodes: list[GraphFileNode]
    edges: list[GraphFileEdge]
    bounds: Annotated[list[float], "x0, y0, x1, y1 of the drawing"]
    rankdir: Annotated[Literal["TB", "LR"], "the layout's direction"]
    step_state: Annotated[dict, "the pass, step, leaves' .grad and returned at the step drawn"]
