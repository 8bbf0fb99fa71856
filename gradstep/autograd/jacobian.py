"""The local gradient of one graph node: its vector-Jacobian map and, when small, its Jacobian.

Calling a node directly with a gradient ``v`` for its forward outputs returns
``v`` times its local Jacobian, one result per ``next_functions`` slot — under
``torch.no_grad()`` this frees nothing, so it can run before the real pass.
Calling it with each unit vector gives the Jacobian row by row. Jacobians
computed before a pass are remembered (per node: ``node_memory``), so a node
whose buffers the pass then freed can still show the Jacobian it had.

A Jacobian dict: ``status`` (``ok``, ``freed``, ``too_large``, ``leaf``,
``unsupported``), ``reason``, ``outputs`` (forward output shapes), ``inputs``
(shape per slot, None where no gradient flows) and ``blocks``: one per
(slot, output) pair, ``{"slot", "output", "shape": [rows, cols], "matrix"}``
with ``matrix[i][j] = d output[i] / d input[j]`` (flattened, row-major) or
None when no gradient flows through that slot.
"""

from __future__ import annotations

import torch

from gradstep.autograd.elements import numel
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.node_memory import NodeMemory
from gradstep.autograd.safe_reads import (
    is_freed_error,
    is_leaf_node,
    is_python_node,
    iter_saved_slots,
    leaf_variable,
    runs_dispatch_code,
    storage_holds,
)
from gradstep.autograd.saved import first_line
from gradstep.autograd.trace import node_name
from gradstep.autograd.unheard import unheard
from gradstep.autograd.values import compact, to_jsonable
from gradstep.i18n import ENGLISH, lazy, render

LIMIT = 64  # elements per side
_CACHE_SIZE = 4096
_cache = NodeMemory(_CACHE_SIZE)  # node -> its Jacobian dict, computed before a pass


def why_not_callable(fn, *, snippet_done: bool = False) -> str | None:
    """Return why calling ``fn`` on its own could change what torch or the snippet does
    (None when it cannot: a C++ node whose saved tensors need no hook and no view rebuilt).

    Calling a node unpacks its saved tensors: that runs saved-tensor hooks (user
    code, checkpoint's recomputation), and for a saved view reads the view's
    node, which torch rebuilds if the view's base changed in place since. A
    custom Function's node runs its Python ``backward`` (which may print, count,
    or run a backward of its own). A ``CopySlices`` node (an in-place op on a view)
    calls the op's own node, which Python cannot reach: it may be any of these. A node
    of torch's generic ``CppFunction`` class (a ``_foreach`` op's, a C++ extension's)
    shows none of its saved tensors, so whether a hook holds them cannot be told. Under
    ``torch.use_deterministic_algorithms`` an op without a deterministic version warns
    (``warn_only=True``) into the snippet's output, or raises: no node is called then. Once the snippet has finished
    (``snippet_done``, in the kernel), a rebuilt view node can no longer change
    anything the snippet does, so saved views are allowed then.
    """
    if is_python_node(fn):
        return lazy("its backward is Python code (a custom autograd.Function): gradstep does "
                    "not run it")
    if torch.are_deterministic_algorithms_enabled():
        return lazy("torch.use_deterministic_algorithms is on: a node whose op has no "
                    "deterministic version would raise, or warn into the snippet's output")
    if type(fn).__name__ == "CopySlices":  # holds the in-place op's own node, out of sight
        return lazy("an in-place op on a view: it runs that op's own node, which gradstep "
                    "cannot see (a custom Function's backward or a saved_tensors_hooks unpack "
                    "hook, such as checkpoint's recomputation, would run)")
    if type(fn).__name__ == "CppFunction":  # torch gave this node no class of its own
        return lazy("torch shows nothing of what this node saved (a _foreach op's, a C++ "
                    "extension's): a saved_tensors_hooks unpack hook might run")
    for slot in iter_saved_slots(fn):
        if slot.data is not None and runs_dispatch_code(slot.data):
            return lazy("it saved a tensor of a subclass with its own __torch_dispatch__: "
                        "computing it would run that code")
        if slot.state == "hooked":
            return lazy("a saved_tensors_hooks pack hook holds its saved tensors (checkpoint, "
                        "save_on_cpu): computing it would run the unpack hook")
        if slot.data is not None and not storage_holds(slot.data):
            # FSDP frees a parameter's memory after forward and brings it back before the
            # node runs: a call now would read memory torch no longer owns (a segfault)
            return lazy("the memory of a tensor it saved was freed (its storage resized "
                        "below its size, as FSDP does between forward and backward): "
                        "computing it would read memory torch no longer owns")
        if not snippet_done and slot.state == "alive" and slot.data is not None and slot.data._is_view():
            return lazy("it saved a view: calling it could make torch rebuild that view's node")
    return None


def call_node(fn, grad_outputs) -> tuple:
    """Return ``fn``'s gradients for its inputs given ``grad_outputs`` (the VJP), one per slot.

    Runs under ``torch.no_grad()``; the node keeps its saved buffers. Warnings its
    backward gives are not shown (``unheard``).
    """
    with unheard():
        return _call(fn, grad_outputs)


def _call(fn, grad_outputs) -> tuple:
    """``call_node`` where warnings are already ``unheard`` (one node's many calls)."""
    with torch.no_grad():
        if isinstance(fn, torch.autograd.function.BackwardCFunction):
            result = fn.apply(*grad_outputs)  # a custom Function's backward
        else:
            result = fn(*grad_outputs)
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def output_metadata(fn) -> list:
    """Return the node's forward outputs as ``(shape, dtype, device)`` tuples ([] when unknown)."""
    try:
        outputs = [(tuple(m.shape), m.dtype, m.device) for m in fn._input_metadata]
    except (AttributeError, RuntimeError, TypeError):
        return []
    if any(type(d) is not int for shape, _, _ in outputs for d in shape):
        return []  # a jagged nested tensor's ragged size (a SymInt): no one shape
    return outputs


def vjp_of_ones(fn, *, snippet_done: bool = False) -> dict:
    """Return ``{"grad_outputs", "grad_inputs"}`` for all-ones gradients arriving at ``fn``
    (what the node sends on for ``v = 1``: the column sums of its Jacobian), as plain data."""
    if is_leaf_node(fn):
        return {"status": "leaf"}
    why = why_not_callable(fn, snippet_done=snippet_done)
    if why is not None:
        return {"status": "unsupported", **_reason(why)}
    outputs = output_metadata(fn)
    if not outputs:
        return {"status": "unsupported",
                **_reason(lazy("torch does not say what this node's outputs are"))}
    ones = [torch.ones(shape, dtype=dtype, device=device) for shape, dtype, device in outputs]
    try:
        result = call_node(fn, ones)
    except Exception as exc:  # a node that cannot be called on its own: say so, never crash
        reraise_if_handlers(exc)
        if is_freed_error(exc):
            return {"status": "freed"}
        return {"status": "unsupported", "reason": first_line(exc)}
    return {
        "status": "ok",
        "grad_outputs": [compact(v) for v in ones],
        "grad_inputs": _per_slot(fn, [compact(r) if r is not None else None for r in result]),
    }


def local_jacobian(fn, *, limit: int = LIMIT, snippet_done: bool = False) -> dict:
    """Return the Jacobian dict of node ``fn`` (see the module docstring).

    A freed node answers with the Jacobian remembered before its pass, if any,
    else ``status: "freed"``.
    """
    if is_leaf_node(fn):
        return _status("leaf", lazy("AccumulateGrad adds the arriving gradient into the leaf's "
                                    ".grad"))
    outputs = output_metadata(fn)
    if not outputs or any(not (dtype.is_floating_point) for _, dtype, _ in outputs):
        return _status("unsupported", lazy("the node has outputs that are not real floating "
                                           "point"))
    if not _real_inputs(fn):
        return _status("unsupported", lazy("the node has inputs that are not real floating point"))
    if any(numel(shape) > limit for shape, _, _ in outputs):
        return _status("too_large", lazy("an output has more than {limit} elements", limit=limit))
    why = why_not_callable(fn, snippet_done=snippet_done)
    if why is not None:
        return remembered(fn) or _status("unsupported", why)
    try:
        jac = _unit_vector_jacobian(fn, outputs, limit)
    except Exception as exc:  # a node that cannot be called on its own: say so, never crash
        reraise_if_handlers(exc)
        if not is_freed_error(exc):
            return _status("unsupported", first_line(exc))
        return remembered(fn) or _status(
            "freed", lazy("its saved tensors were freed by a backward pass without retain_graph")
        )
    if jac["status"] == "ok":
        _remember(fn, jac)
    return jac


def remembered(fn) -> dict | None:
    """Return the Jacobian computed for ``fn`` before its buffers were freed, or None."""
    jac = _cache.get(fn)
    return None if jac is None else {**jac, "remembered": True}


def precompute(id_of: dict, *, limit: int = LIMIT, budget: int = 4000,
               snippet_done: bool = False) -> dict:
    """Compute (and remember) the Jacobians of the small op nodes of a graph before a pass.

    Returns ``{node id: Jacobian dict}`` for the nodes done. ``budget`` bounds
    the number of node calls so a huge graph of tiny ops stays quick.
    """
    done = {}
    for fn, node_id in id_of.items():
        if is_leaf_node(fn) or budget <= 0:
            continue
        if fn in _cache:
            continue
        outputs = output_metadata(fn)
        cost = sum(numel(shape) for shape, _, _ in outputs)
        if not outputs or cost > limit or why_not_callable(fn, snippet_done=snippet_done):
            continue
        done[node_id] = local_jacobian(fn, limit=limit, snippet_done=snippet_done)
        budget -= cost
    return done


def _unit_vector_jacobian(fn, outputs: list, limit: int) -> dict:
    """Return the Jacobian dict built from one node call per output element."""
    zeros = [torch.zeros(shape, dtype=dtype, device=device) for shape, dtype, device in outputs]
    with unheard():
        return _unit_vector_rows(fn, outputs, limit, zeros)


def _unit_vector_rows(fn, outputs: list, limit: int, zeros: list) -> dict:
    rows: dict[tuple[int, int], list] = {}
    input_shapes: list | None = None
    for out_index, (shape, _, _) in enumerate(outputs):
        for element in range(numel(shape)):
            grads = list(zeros)
            unit = torch.zeros_like(zeros[out_index])
            unit.view(-1)[element] = 1.0
            grads[out_index] = unit
            result = _call(fn, grads)
            if input_shapes is None:
                input_shapes = [None if r is None else tuple(r.shape) for r in result]
                if any(s is not None and numel(s) > limit for s in input_shapes):
                    return _status("too_large", lazy("an input has more than {limit} elements",
                                                     limit=limit))
            for slot, r in enumerate(result):
                rows.setdefault((slot, out_index), []).append(
                    None if r is None else r.reshape(-1).double().tolist()
                )
    return _assemble(fn, outputs, input_shapes or [], rows)


def _assemble(fn, outputs: list, input_shapes: list, rows: dict) -> dict:
    """Return the Jacobian dict from the collected rows."""
    flows = [nxt is not None for nxt, _ in fn.next_functions]
    blocks = []
    for (slot, out_index), matrix_rows in sorted(rows.items()):
        dead = (slot < len(flows) and not flows[slot]) or any(r is None for r in matrix_rows)
        in_shape = input_shapes[slot]
        blocks.append({
            "slot": slot,
            "output": out_index,
            "shape": [len(matrix_rows), 0 if dead or in_shape is None else numel(in_shape)],
            "matrix": None if dead else to_jsonable(matrix_rows),
        })
    return {
        "status": "ok",
        "name": node_name(fn),
        "outputs": [list(shape) for shape, _, _ in outputs],
        "inputs": _per_slot(fn, [None if s is None else list(s) for s in input_shapes]),
        "blocks": blocks,
    }


def _real_inputs(fn) -> bool:
    """Return True when every input the node sends a gradient to is real floating point
    (a complex one would make the Jacobian's cast to real warn into the snippet's output)."""
    for nxt, input_nr in fn.next_functions:
        if nxt is None:
            continue
        variable = leaf_variable(nxt)
        dtype = variable.dtype if variable is not None else None
        if dtype is None:
            try:
                dtype = nxt._input_metadata[input_nr].dtype
            except (AttributeError, IndexError, RuntimeError, TypeError):
                return False
        if not dtype.is_floating_point:
            return False
    return True


def _per_slot(fn, values: list) -> list:
    """Return ``values`` with None at the slots whose ``next_functions`` entry is None."""
    flows = [nxt is not None for nxt, _ in fn.next_functions]
    return [v if i >= len(flows) or flows[i] else None for i, v in enumerate(values)]


def _remember(fn, jac: dict) -> None:
    _cache.put(fn, jac)


def remembered_nodes() -> int:
    """Return how many nodes have a Jacobian remembered."""
    return len(_cache)


def forget() -> None:
    """Drop every Jacobian remembered (a new run; tests)."""
    _cache.clear()


def _status(status: str, reason) -> dict:
    return {"status": status, **_reason(reason), "blocks": []}


def _reason(reason) -> dict:
    """Return ``{"reason"}`` in English, plus ``reason_words`` (the ``gradstep.i18n.lazy``
    message the window words in its language) when gradstep wrote it; torch's words stay."""
    if isinstance(reason, dict):
        return {"reason": render(reason, ENGLISH), "reason_words": reason}
    return {"reason": reason}
