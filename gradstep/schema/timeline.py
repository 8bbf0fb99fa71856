"""Backward passes as plain data: steps, pass records (timelines) and the snippet's own calls.

``autograd.backward.pass_record`` writes a pass record, ``autograd.step_hooks`` its steps,
``autograd.pass_join.combine_passes`` joins several passes into the backward reply, and
``autograd.calls`` writes a ``CallRecord`` for each backward call a snippet makes itself.
``autograd.step_state`` reads them all (the one source of truth for a step's state).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from gradstep.schema.errors import ErrorRecord
from gradstep.schema.graph import TensorValue

Mode = Literal["backward", "grad"]


class _StepRequired(TypedDict):
    index: Annotated[int, "the step's position in the engine's order (runs on across passes)"]
    node: Annotated[str, "the node that ran"]
    name: Annotated[str, "its grad_fn name"]
    grad_outputs: Annotated[list[TensorValue], "the gradient that arrived, per output"]
    grad_inputs: Annotated[list[TensorValue] | None, "what it sent on, per next_functions slot (None where nothing flows; None for the step that raised)"]
    error: Annotated[bool, "this node raised"]


_StepOptional = TypedDict("_StepOptional", {
    "freed": Annotated[bool, "its saved buffers were released right after it ran"],
    "leaf": Annotated[str, "AccumulateGrad: the leaf's label"],
    "grad_before": Annotated[TensorValue, "AccumulateGrad: the leaf's .grad before the step"],
    "grad_after": Annotated[TensorValue, "AccumulateGrad: the leaf's .grad after it"],
    "pass": Annotated[int, "the 0-based pass the step belongs to (backward replies)"],
}, total=False)


class Step(_StepRequired, _StepOptional):
    """One node run by torch's engine, in the order it ran."""


class _PassRequired(TypedDict):
    mode: Annotated[Mode, "backward() or autograd.grad"]
    retain_graph: Annotated[bool | None, "as the call had it"]
    steps: Annotated[list[Step], "in engine order"]
    leaf_grads: Annotated[dict[str, TensorValue], "each leaf's .grad after the pass, by label (label (nK) when shared)"]
    freed: Annotated[bool | None, "the pass released saved buffers (None: no pass ran)"]
    error: Annotated[ErrorRecord | None, "torch's error, explained (None: the pass finished)"]


class PassRecord(_PassRequired, total=False):
    """One backward pass (a timeline): ``autograd.backward.pass_record``."""

    create_graph: Annotated[bool, "as the call had it"]
    retained_grads: Annotated[dict[str, TensorValue], "the .grad of the snippet's tensors that called retain_grad()"]
    freed_nodes: Annotated[list[str], "nodes whose saved tensors read as freed after the pass (probed)"]
    freed_before: Annotated[list[str], "nodes whose saved tensors were freed before it"]
    no_steps: Annotated[Literal["batched", "subclass", "changed", "concurrent", "unreadable", "unhooked"], "the pass ran but its steps are not shown, and why: batched (is_grads_batched=True: vmap's batch of gradients, which gradstep does not read), subclass (a tensor subclass's own dispatch code carries the gradients), changed (a gradient was changed in place during the pass where the hooks kept aliases), concurrent (another pass ran through the nodes at the same time), unreadable (the values could not be read), unhooked (the hooks could not be put on: compiled autograd) (left out when the steps are shown)"]
    ended_snippet: Annotated[bool, "a snippet call's pass in which a hook's sys.exit(0) ended the snippet, as the file's end would (the pass keeps no error; it did not finish: its last step, if any, is the one that raised) (left out otherwise)"]
    graph_root: Annotated[int, "a pass from several roots: how many; torch's engine first ran a GraphRoot node of its own that hands each root its gradient, which is no node of the graph and has no step here (left out for one root)"]
    changed_before: Annotated[dict[str, dict[str, dict]], "node -> saved name -> the refusal fields (changed_in_place, version, saved_version; or detached_in_place) of the saved tensors torch would refuse as the pass began (probed then)"]
    changed_when_raised: Annotated[dict[str, dict[str, dict]], "a pass torch stopped with its error for a saved tensor changed in place: node -> saved name -> the refusal fields of the saved tensors torch would refuse as it raised (probed right after, before the snippet's code ran again; a hook that changed one during the pass), shown from the step that raised on (left out for any other pass)"]
    probed: Annotated[list[list], "with changed_when_raised: the versions read around the snippet's hooks during the pass (hook_probes), as [moment, {node: {saved name: version}}] in the order read, each with the saved tensors whose version moved since the pass began; a moment is the step index k of a probe as steps[k] was about to run (after its tensor hooks), or k + 0.5 right after steps[k] ran. Step states before the step that raised read them (a version only grows); where none bounds a step, changed_during"]
    written_during: Annotated[dict[str, dict], "a pass of gradstep's own (gradstep backward on a snippet that made none, the window's Backward): leaf node -> {pass_version, version}, torch's _version of each leaf a hook wrote during its passes (an optimizer step in a post-accumulate-grad hook; equal for a write the counter does not count: p.data), as they began and after; the trace's value of the leaf is the one before (left out when none was written)"]
    grad_moved: Annotated[list[str], "the labels of the leaves whose .grad the snippet's code (a hook, a custom Function's backward) replaced or changed in place during the pass, other than by their AccumulateGrad: torch's .grad at the steps before that leaf's AccumulateGrad ran (all but the last, where it did not run) is not known, and none is shown (left out when none was; a reply of several passes has it in each of its passes)"]
    returned: Annotated[list[TensorValue] | None, "grad mode: what autograd.grad returned, in input order (None: it raised)"]
    returned_inputs: Annotated[list[str], "grad mode: the labels of those inputs"]
    roots: Annotated[list[str], "a pass gradstep ran: the nodes it started from (its graph is what they reach)"]


_PassSummaryRequired = TypedDict("_PassSummaryRequired", {
    "pass": Annotated[int, "0-based"],
    "first_step": Annotated[int, "the index of its first step"],
    "steps": Annotated[int, "how many steps it has"],
    "leaf_grads": Annotated[dict[str, TensorValue], "each leaf's .grad after it"],
    "returned": Annotated[list[TensorValue] | None, "grad mode: what autograd.grad returned"],
    "freed": Annotated[bool, "it released saved buffers"],
    "error": Annotated[ErrorRecord | None, "where it stopped, when it did"],
})


class PassSummary(_PassSummaryRequired, total=False):
    """One of several passes of a backward reply (``--passes N``)."""

    grad_moved: Annotated[list[str], "its own grad_moved (see PassRecord; left out when none): a reply of several passes has none of its own"]


class CallNode(TypedDict):
    """A node of the graph a snippet's own backward call ran on (numbered like the trace)."""

    id: str
    name: str
    label: Annotated[str | None, "as the trace labels it"]


class _CallRequired(TypedDict):
    index: Annotated[int, "0-based, in the order the snippet made the calls"]
    line: Annotated[int | None, "the snippet line of the call"]
    code: Annotated[str | None, "that line's text"]
    api: Annotated[Literal["Tensor.backward", "torch.autograd.backward", "torch.autograd.grad", "skipped"], "which call (skipped: the calls past the limit, not recorded)"]
    retain_graph: Annotated[bool | None, "as the call had it"]
    create_graph: Annotated[bool | None, "as the call had it"]
    nodes: Annotated[list[CallNode], "that call's own graph"]
    timeline: Annotated[PassRecord | None, "the pass it made (None for skipped)"]
    error: Annotated[ErrorRecord | None, "the error it raised, at the call's line"]


class CallRecord(_CallRequired, total=False):
    """A backward call the snippet made itself (``autograd.calls``)."""

    returned: Annotated[list[TensorValue] | None, "autograd.grad: what it returned, in input order"]
    returned_inputs: Annotated[list[str] | None, "autograd.grad: the labels of those inputs"]
    drawn: Annotated[bool, "its graph is the drawn graph's own (it can be stepped on it)"]
    freed_drawn: Annotated[bool, "not drawn, it freed buffers of the drawn graph (--root loss after loss's parts' own backward calls)"]
    seq_mark: Annotated[int, "torch's autograd sequence number when the call ended: a node whose seq is this or more was built after the call, not by it (absent once the snippet started a thread: torch numbers each thread on its own)"]
    built_marks: Annotated[list[int], "a create_graph call: torch's autograd sequence number after each of its steps, from 0 (as the call began) to the last (as it ended, seq_mark): a node whose seq is at or past entry k did not exist yet after k steps (absent where not known)"]
    skipped_calls: Annotated[int, "skipped: how many calls were not recorded"]
    note: Annotated[str, "skipped: says so in words"]


def pass_ran(timeline: PassRecord) -> bool:
    """Return False for the reply of a backward request that failed before any pass ran
    (``empty_timeline``: a stop, a crash, a kernel that could not start)."""
    return timeline.get("freed") is not None


def empty_timeline(error: ErrorRecord, mode: str = "backward",
                   retain_graph: bool = False) -> PassRecord:
    """Return the record of a pass that never ran because the request failed with ``error``."""
    return {"mode": mode, "retain_graph": bool(retain_graph), "steps": [], "leaf_grads": {},
            "freed": None, "error": error}

