"""Requests to a session and its replies: the seam between the window or the command line
and the kernel process (``gradstep.kernel``), and the in-process ``Session`` behind it.

A request is a method name and its keyword arguments (``REQUESTS`` maps each method to
the record of its arguments); the reply is the method's record below. Whatever fails —
the snippet, a stop, a crash, gradstep itself — the reply keeps its method's shape, with
``error`` set: ``failure_reply`` makes it. To add a request, see docs/internals.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from gradstep.schema.errors import ErrorRecord, Message
from gradstep.schema.graph import TensorValue, TraceJSON, TraceNode
from gradstep.schema.timeline import CallRecord, PassRecord, PassSummary, empty_timeline

# -------------------------------------------------------------------------- requests


class RunRequest(TypedDict, total=False):
    """``run``: run a snippet and trace its graph."""

    source: Annotated[str, "the snippet's text"]
    device: Annotated[str, "cpu, cuda, mps or meta (default cpu)"]
    root: Annotated[str | None, ("which name to draw (a,b for several); None: the last expression, else the last tensor "
                                  "with a grad_fn; where the snippet called backward itself, a tensor one of its calls ran on "
                                  "(docs/commands.md)")]
    filename: Annotated[str, "the name tracebacks and errors call the snippet by"]
    deep_values: Annotated[bool, "record every torch call's output (may change torch's kernel choice)"]
    keep_trace: Annotated[bool, "keep the trace in the kernel for ``write`` instead of sending it (only when the snippet ran to its end); the session then forgets its records of the run (no backward or inspect after it)"]
    networkx: Annotated[bool, "with ``keep_trace``: the ``write`` to come needs networkx (GraphML, folded scopes), so the kernel imports it before the snippet runs, as it does for every run not kept"]


class BackwardRequest(TypedDict, total=False):
    """``backward``: run backward from the root of the last run."""

    mode: Annotated[Literal["backward", "grad"], "backward() or autograd.grad on every leaf"]
    retain_graph: bool
    passes: Annotated[int, "how many passes in a row (a second one without retain_graph fails as torch does)"]
    gradient: Annotated[Any, "None, ones (ones_like(root)) or numbers"]


class WriteRequest(TypedDict, total=False):
    """``write``: write the trace the last ``run`` kept (``keep_trace``) to a file, from the
    kernel (``gradstep.kernel.writing``), then forget it."""

    path: Annotated[str, "an absolute path (the snippet may have changed the folder); the file is replaced"]
    kind: Annotated[Literal["trace", "text"], "trace: the trace JSON as `gradstep trace --json` prints it; text: a picture or graph file by the path's suffix (.svg, .dot, .gv, .graphml, .json)"]
    rankdir: Literal["TB", "LR"]
    layout: Annotated[Literal["layered", "dot"], "the layout engine"]
    collapse: Annotated[int | None, "fold module scopes deeper than this"]
    scale: Annotated[float, "an SVG's width and height: this many times its drawing (its viewBox), default 1"]


class InspectRequest(TypedDict):
    """``inspect``: one node's details, with its saved tensors' values and its Jacobian."""

    node_id: Annotated[str, "a trace node id"]


class NoArguments(TypedDict):
    """``zero_grad``, ``grad_stats``, ``reset``: no arguments."""


# -------------------------------------------------------------------------- replies


class _RunRequired(TypedDict):
    ok: Annotated[bool, "the snippet ran to its end"]
    trace: Annotated[TraceJSON | None, "the graph (also after a failure, when one was built)"]
    error: Annotated[ErrorRecord | None, "why it failed"]
    calls: Annotated[list[CallRecord], "the backward calls the snippet made itself"]
    output: Annotated[str, "what the snippet printed (capped: policies.output_cap)"]
    root_name: Annotated[str | None, "the name of the drawn root, when it has one"]
    root_candidates: Annotated[list[str], "top-level names holding a tensor with a grad_fn, then the paths (out.loss) of the tensors the snippet's backward calls ran on held in top-level values (the window's root box)"]
    exit_code: Annotated[int, "the command line's status: 0 ran, 1 failed, 2 bad usage or device, "
                         "130 the snippet's own KeyboardInterrupt ended it"]


class PrintOptions(TypedDict):
    """What of torch's print options (``torch._tensor_str.PRINT_OPTS``) the snippet left
    writes a tensor's numbers; the texts shown (labels, formulas, tooltips) follow them."""

    precision: Annotated[int, "digits after the point (torch's default: 4)"]
    sci_mode: Annotated[bool | None, "scientific notation always (true), never (false), or as torch chooses (null, the default)"]


class RunReply(_RunRequired, total=False):
    """The reply to ``run``."""

    print_options: Annotated[PrintOptions, "the snippet's torch.set_printoptions, only where they are not torch's default"]

    state_lost: Annotated[bool, "the kernel was replaced: the snippet's variables are gone"]
    trace_kept: Annotated[bool, "the trace stayed in the kernel (``keep_trace``): ``trace`` is None and ``write`` writes it"]


class BackwardReply(PassRecord, total=False):
    """The reply to ``backward``: the pass record of DESIGN.md's backward JSON, with the
    steps of every pass in one list."""

    passes: Annotated[list[PassSummary], "one summary per pass"]
    from_snippet: Annotated[bool, "gradstep backward: the passes are the snippet's own calls on the graph drawn"]
    output: Annotated[str, "what was printed during the pass (only when something was)"]
    state_lost: Annotated[bool, "the kernel was replaced: the snippet's variables are gone"]


class JacobianBlock(TypedDict):
    slot: Annotated[int, "the input slot"]
    output: Annotated[int, "the forward output"]
    shape: Annotated[list[int], "rows (output elements), columns (input elements)"]
    matrix: Annotated[list[list[Any]] | None, "matrix[i][j] = d output[i] / d input[j] (None: no gradient flows)"]


class _JacobianRequired(TypedDict):
    status: Annotated[Literal["ok", "freed", "too_large", "leaf", "unsupported"], "whether there is one"]


class Jacobian(_JacobianRequired, total=False):
    """A node's local Jacobian (``autograd.jacobian.local_jacobian``)."""

    reason: Annotated[str, "why there is none"]
    reason_words: Annotated[Message, "that reason as a message, to word in the person's language"]
    name: str
    outputs: Annotated[list[list[int]], "forward output shapes"]
    inputs: Annotated[list[list[int] | None], "shape per slot (None where no gradient flows)"]
    blocks: Annotated[list[JacobianBlock], "one per (slot, output)"]
    remembered: Annotated[bool, "computed before a pass freed the node's buffers"]


class VectorJacobianProduct(TypedDict, total=False):
    """What a node sends on for all-ones gradients (``autograd.jacobian.vjp_of_ones``)."""

    status: Annotated[Literal["ok", "freed", "leaf", "unsupported", "too_large"], "whether it could be computed"]
    reason: str
    grad_outputs: Annotated[list[TensorValue], "the all-ones gradients"]
    grad_inputs: Annotated[list[TensorValue], "what the node sent, per slot"]
    blocks: list


class CustomFunction(TypedDict):
    """A custom ``autograd.Function``'s ``backward``, read from its class (``formulas.custom_function_source``)."""

    function: Annotated[str, "the Function's qualified name"]
    source: Annotated[str | None, "the source of its backward (None: it cannot be read)"]
    file: Annotated[str | None, "the file it is in"]
    line: Annotated[int | None, "its first line there"]
    reason: Annotated[str | None, "why the source cannot be read"]


class InspectDetails(TraceNode, total=False):
    """The reply to ``inspect``: the node's trace fields, its saved tensors with their values
    (``saved`` entries with ``value``), and its local gradient."""

    freed: Annotated[bool, "its saved buffers are freed"]
    jacobian: Jacobian
    vjp: VectorJacobianProduct
    grad: Annotated[TensorValue, "a leaf's .grad now"]
    custom_function: Annotated[CustomFunction, "a custom Function's node: its backward's source"]
    output: Annotated[str, "what was printed meanwhile (only when something was)"]
    state_lost: bool


class _InspectFailureRequired(TypedDict):
    id: Annotated[str | None, "the node asked about"]
    error: Annotated[ErrorRecord, "why there are no details (no such node, a stop, a crash)"]


class InspectFailure(_InspectFailureRequired, total=False):
    """The reply to ``inspect`` when there are no details."""

    output: str
    state_lost: bool


InspectReply = InspectDetails | InspectFailure


class ParamStats(TypedDict):
    """One leaf's gradient against its value (``autograd.grad_stats``)."""

    node: str
    label: Annotated[str, "unique among the leaves (label (nK) when shared)"]
    scope: str
    shape: list[int]
    numel: int
    grad_norm: Annotated[float | str | None, "torch's vector_norm of .grad (None: no .grad; NaN/Infinity as strings)"]
    weight_norm: Annotated[float | str | None, "the same of the leaf itself"]
    zeros: Annotated[int, "gradient elements exactly 0"]
    nan: int
    inf: int
    written_after: Annotated[bool, "the leaf was written in place after the first recorded backward call through its graph (an optimizer step), or during that call or a later one (a hook's step): weight_norm is of the weights after it"]
    written_during: Annotated[bool, "of those, written during that call (a hook's step)"]


class _GradStatsRequired(TypedDict):
    params: Annotated[list[ParamStats], "one per leaf, in node order"]
    error: ErrorRecord | None


class GradStatsReply(_GradStatsRequired, total=False):
    """The reply to ``grad_stats``."""

    output: str
    state_lost: bool


class _ZeroGradRequired(TypedDict):
    ok: bool
    leaves: Annotated[int, "how many leaves' .grad were set to None"]
    error: ErrorRecord | None


class ZeroGradReply(_ZeroGradRequired, total=False):
    """The reply to ``zero_grad``."""

    output: str
    state_lost: bool


class _WriteRequired(TypedDict):
    written: Annotated[str | None, "the path written; None when nothing was"]
    refused: Annotated[str | None, "why the path or the options cannot be used, in words"]
    error: ErrorRecord | None


class WriteReply(_WriteRequired, total=False):
    """The reply to ``write``."""

    output: str
    state_lost: bool


class ResetReply(TypedDict, total=False):
    """The reply to ``reset``: None when it worked (a kernel sends this only on failure)."""

    error: ErrorRecord
    output: str
    state_lost: bool


Method = Literal["run", "backward", "inspect", "zero_grad", "grad_stats", "reset", "write"]
REQUESTS: dict[str, type] = {
    "run": RunRequest, "backward": BackwardRequest, "inspect": InspectRequest,
    "zero_grad": NoArguments, "grad_stats": NoArguments, "reset": NoArguments,
    "write": WriteRequest,
}
REPLIES: dict[str, type] = {
    "run": RunReply, "backward": BackwardReply, "inspect": InspectReply,
    "zero_grad": ZeroGradReply, "grad_stats": GradStatsReply, "reset": ResetReply,
    "write": WriteReply,
}
METHODS: tuple[str, ...] = tuple(REQUESTS)


def failure_reply(method: str, error: ErrorRecord, params: dict | None = None) -> dict:
    """Return the reply of ``method`` when the request failed with ``error`` before the
    session could answer it: the method's own shape, nothing in it but the error."""
    params = params or {}
    if method == "run":
        return {"ok": False, "trace": None, "error": error, "calls": [], "output": "",
                "root_name": None, "root_candidates": [], "exit_code": 1}
    if method == "backward":
        return dict(empty_timeline(error, params.get("mode", "backward"),
                                   params.get("retain_graph", False)))
    if method == "inspect":
        return {"id": params.get("node_id"), "error": error}
    if method == "zero_grad":
        return {"ok": False, "leaves": 0, "error": error}
    if method == "grad_stats":
        return {"params": [], "error": error}
    if method == "write":
        return {"written": None, "refused": None, "error": error}
    return {"error": error}
