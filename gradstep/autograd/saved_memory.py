"""The small saved tensors of a graph, remembered before a backward pass frees them.

A pass without ``retain_graph`` releases each node's saved tensors right after the
node runs, so once the snippet's ``loss.backward()`` is done nothing is left to show
in a node's formula (``2(xᵢ − yᵢ)/n`` with x = [2.0], y = [1.0]). ``remember(id_of)``
reads them just before a pass, the way backward itself would (``safe_reads.unpack``:
torch's version check, no saved-tensors hook, no view of a running snippet), and
``recall_into(fn, items)`` writes them into a node's ``saved`` items once they are
freed, marked ``remembered``. Saved tensors hold what the node saw when it ran and
cannot change afterwards (torch refuses to unpack one that was modified in place), so
a value read before the pass is the value the node's backward used.

Only tensors of at most ``LIMIT`` elements are kept (the numbers a formula shows),
in a bounded cache per node (``node_memory.NodeMemory``: never another thread's node of
the same sequence number and name). ``forget`` drops them all (each run starts with
none: ``runner.run_snippet``).
"""

from __future__ import annotations

from gradstep.autograd import saved_shapes
from gradstep.autograd.elements import numel
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.node_memory import NodeMemory
from gradstep.autograd.safe_reads import (
    is_leaf_node,
    is_plain,
    iter_saved_slots,
    plain_reads,
    unpack,
)
from gradstep.autograd.saved import _display_name
from gradstep.autograd.values import tensor_value

LIMIT = 64  # elements: what values.tensor_value writes out as data
_CACHE_SIZE = 8192  # nodes
_memory = NodeMemory(_CACHE_SIZE)


def remember(nodes, *, snippet_done: bool = False, budget: int = 200_000) -> int:
    """Read and keep the small saved tensors of ``nodes`` (grad_fns; a dict's keys will
    do) before a pass frees them; return how many were kept. ``budget`` bounds the
    elements read, so a huge graph of small tensors stays quick."""
    kept = 0
    # a saved tensor's shape, dtype and size are read where no tensor subclass's
    # __torch_function__ (nor a mode) sees it: after the snippet (``snippet_done``) nothing
    # else sets that aside, and its code must not run for gradstep's reads
    with plain_reads():
        for fn in nodes:
            if budget <= 0:
                break
            if is_leaf_node(fn):
                continue
            try:
                values, shapes = _small_saved(fn, snippet_done)
            except Exception as exc:  # an odd node: its formula simply shows no numbers
                reraise_if_handlers(exc)
                continue
            if shapes:  # its key read once for both memories
                key, mark = _memory.key(fn)
                saved_shapes.note_at(key, mark, shapes)
                if values:
                    _memory.put_at(key, mark, values, merge=True)
                    kept += len(values)
                    budget -= sum(numel(v.get("shape") or []) for v in values.values())
    return kept


def _small_saved(fn, snippet_done: bool) -> tuple[dict, dict]:
    """Return the small saved tensors' values, and every alive one's shape and dtype
    (for ``saved_shapes``: the Saved panel's shape column once the pass frees them)."""
    values = {}
    shapes = {}
    for slot in iter_saved_slots(fn):
        data = slot.data
        if slot.state != "alive" or data is None:
            continue
        name = slot.name
        if name.startswith("tensors"):  # (_display_name: only these can be renamed)
            name = _display_name(fn, name)
        shapes[name] = (data.shape, data.dtype)
        if data.numel() > LIMIT:
            continue
        tensor = unpack(fn, slot, views=snippet_done)
        if tensor is not None and is_plain(tensor):
            values[name] = tensor_value(tensor)
    return values, shapes


def recall(fn) -> dict:
    """Return ``{saved name: value dict}`` remembered for ``fn`` ({} when none)."""
    return dict(_memory.get(fn, {}))


def recall_into(fn, items: list[dict]) -> list[dict]:
    """Return ``items`` (``saved.saved_items``) with each freed tensor's remembered value
    added (``value``, ``remembered: True``; it stays ``freed``)."""
    remembered = recall(fn)
    if not remembered:
        return items
    out = []
    for item in items:
        value = remembered.get(item.get("name"))
        if item.get("freed") and value is not None:
            item = {**item, "shape": value.get("shape"), "dtype": value.get("dtype"),
                    "value": value, "remembered": True}
        out.append(item)
    return out


def remembered_nodes() -> int:
    """Return how many nodes have values remembered."""
    return len(_memory)


def forget() -> None:
    """Drop everything remembered (a new run; tests)."""
    _memory.clear()
    saved_shapes.forget()
