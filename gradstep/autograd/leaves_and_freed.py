"""Facts about a live autograd graph that a backward record needs: its leaves and
their labels, and which nodes' saved tensors are freed (probed, never guessed).

Every function takes ``id_of`` (``{grad_fn: node id}``, as ``Trace.id_of``).
"""

from __future__ import annotations

from collections import Counter

import torch

from gradstep.autograd.safe_reads import (
    ACCUMULATE_GRAD,
    is_leaf_node,
    is_python_node,
    iter_saved_slots,
    raw_saved_names,
)


def leaf_tensors(id_of: dict) -> list[torch.Tensor]:
    """Return the leaf tensors (AccumulateGrad variables) of a graph, in node-id order."""
    leaves = [(node_id, fn.variable) for fn, node_id in id_of.items() if is_leaf_node(fn)]
    return [t for _, t in sorted(leaves, key=lambda item: id_number(item[0]))]


def leaf_grad_tensors(id_of: dict, labels: dict) -> dict:
    """Return ``{leaf label: .grad}`` (tensors, None where no grad) for every leaf, in id order."""
    leaves = [(node_id, fn.variable) for fn, node_id in id_of.items()
              if type(fn) is ACCUMULATE_GRAD]  # (``is_leaf_node``, inline)
    leaves.sort(key=lambda item: id_number(item[0]))
    counts = _label_counts(id_of, labels)
    grads = {}
    for node_id, variable in leaves:
        if variable is not None:
            grads[_unique_label(node_id, labels, counts)] = variable.grad
    return grads


def unique_labels(id_of: dict, labels: dict) -> dict:
    """Return ``{node id: label}`` where a label shared by several nodes gets ``(id)`` appended."""
    counts = _label_counts(id_of, labels)
    return {node_id: _unique_label(node_id, labels, counts)
            for node_id in sorted(id_of.values(), key=id_number)}


def _label_counts(id_of: dict, labels: dict) -> Counter:
    """Return how many nodes of the graph show each label (a node's id where it has none)."""
    return Counter([labels.get(node_id) or node_id for node_id in id_of.values()])


def _unique_label(node_id: str, labels: dict, counts: Counter) -> str:
    label = labels.get(node_id) or node_id
    return label if counts[label] == 1 else f"{label} ({node_id})"


def freed_node_ids(id_of: dict, held: dict | None = None) -> list[str]:
    """Return the ids of the nodes whose saved tensors are freed now, in id order.

    ``held`` (optional) remembers between probes of one graph which saved slot of a node
    was found holding its tensor (``{grad_fn: (attr, index)}``): the probe fills it, and a
    later probe with the same dict tells that slot freed without unpacking it (``is_freed``).
    """
    # Most nodes' classes save nothing (``is_freed`` is False for them): the classes are
    # read once, in C, and only the nodes of those that save are probed.
    saving = {kind for kind in set(map(type, id_of)) if raw_saved_names(kind)}
    if not saving:
        return []
    freed = [node_id for fn, node_id in id_of.items() if type(fn) in saving and is_freed(fn, held)]
    return sorted(freed, key=id_number)


def is_freed(fn, held: dict | None = None) -> bool:
    """Return True when torch has released ``fn``'s saved tensors.

    torch releases all of a node's saved tensors together, so the first saved
    tensor answers for the node. Read through ``_raw_saved_*``: no unpack hook
    runs (see ``safe_reads``). ``held``: see ``freed_node_ids`` (a custom Function's
    slots are left out: torch releases them as a list, which then raises when read).
    """
    if not raw_saved_names(type(fn)):  # most nodes save nothing: no slot to read
        return False
    where = None if held is None else held.get(fn)
    if where is None:
        if _first_slot_holds(fn, held):
            return False
    elif where[1] is None:
        freed = _held_slot_freed(fn, where[0])
        if freed is not None:
            return freed
    for slot in iter_saved_slots(fn, where):
        if slot.state != "unsaved":
            if held is not None and slot.data is not None and not is_python_node(fn):
                held[fn] = (slot.attr, slot.index)
            return slot.state == "freed"
    return False


def _first_slot_holds(fn, held: dict | None) -> bool:
    """Return True when the first saved slot of ``fn`` that was read at all (not a list)
    holds its tensor with no hook: ``iter_saved_slots`` would stop there, alive, so the
    node is not freed; note it in ``held`` as ``is_freed`` does. False where that is not
    the answer read this way (a hook, no data, a list, a read that raised): the full
    probe then answers. (The usual node, read without a ``SavedSlot`` or a generator.)"""
    for attr in raw_saved_names(type(fn)):
        try:
            raw = getattr(fn, attr)
        except RuntimeError:
            return False
        if raw is None:
            continue
        if isinstance(raw, (list, tuple)) or raw.unpack_hook is not None:
            return False
        if not isinstance(raw.data, torch.Tensor):
            return False
        if held is not None and not is_python_node(fn):  # (as ``is_freed``)
            held[fn] = (attr, None)
        return True
    return False


def _held_slot_freed(fn, attr: str) -> bool | None:
    """Return what ``is_freed`` answers for a node whose slot ``attr`` (not a list) an
    earlier probe found holding its tensor, read straight from that slot: freed once it
    holds no data and no hook (see ``safe_reads._slot``), not freed while it holds either.

    The slots before it were found saved as None, which they stay (torch fixes that when
    it makes the node, and refuses a hook on such a slot), so ``iter_saved_slots`` would
    reach this slot first too; its ``SavedSlot`` and the generator are what this spares
    (~1.5 us a node, some hundreds a probe). None where the read raised: the full probe
    then answers."""
    try:
        raw = getattr(fn, attr)
    except RuntimeError:
        return None
    if raw is None or isinstance(raw, (list, tuple)):
        return None
    return raw.unpack_hook is None and raw.data is None


def input_names(inputs, id_of: dict, labels: dict) -> list[str]:
    """Return a label for each tensor of ``inputs``: its leaf's or its grad_fn's label."""
    node_labels = unique_labels(id_of, labels)
    by_tensor = {id(fn.variable): node_id for fn, node_id in id_of.items() if is_leaf_node(fn)}
    names = []
    for i, t in enumerate(inputs):
        node_id = by_tensor.get(id(t)) or id_of.get(getattr(t, "grad_fn", None))
        names.append(node_labels.get(node_id) or f"input{i}")
    return names


def id_number(node_id: str) -> int:
    """Return 12 for ``"n12"`` (ids sort numerically, not as text)."""
    try:
        return int(node_id[1:])
    except (TypeError, ValueError):
        return -1
