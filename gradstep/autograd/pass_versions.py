"""Which leaves the snippet wrote after its last recorded backward call.

``gradstep check`` reads each parameter's ``|weight|`` when the snippet has ended. A
training step after ``loss.backward()`` (``opt.step()``) has changed the weights by then:
the ratio ``|grad| / |weight|`` then divides the gradient by weights it was not computed
at (a ResNet-18 after an SGD step of lr=1e6: every ratio 1e-6, that is 1/lr, where the
weights of the pass give 1e4, exploding). ``note(nodes)`` keeps each plain leaf's
``_version`` (torch's in-place write counter) after a recorded call, and its norm;
``written_after(leaf)`` says whether either moved since: the report says so, rather than
pass the ratio off as the pass's. The norm is for the writes the counter does not count:
through ``p.data`` (a new tensor with a counter of its own: ``p.data.sub_(lr * p.grad)``)
and torch's fused optimizers (``fused=True``). It is torch's ``vector_norm``, computed (by ``versions`` and by
``note``'s caller) under ``unseen()``, with no grad and no autocast, kept as a tensor on the leaf's device (no
wait for the device) and read when the snippet has ended.
"""

from __future__ import annotations

import contextlib
import math
import weakref

import torch

from gradstep.autograd.safe_reads import (
    is_leaf_node,
    is_plain,
    leaf_variable,
    sequence_nr_of,
    storage_holds,
)
from gradstep.autograd.unseen import unseen

_noted: dict[int, tuple[weakref.ref, int, torch.Tensor | None, int | None]] = {}
# id(leaf): (the leaf, its version then, its norm then, torch's sequence number then)


def forget() -> None:
    """Drop what was noted (a new run)."""
    _noted.clear()


def note(nodes, mark: int | None = None) -> None:
    """Note the version and norm of every plain leaf among ``nodes`` (grad_fns; a dict's
    keys do), and ``mark``: torch's sequence number then (None once the snippet started a
    thread: torch numbers each thread's nodes on its own)."""
    for fn in nodes:
        if not is_leaf_node(fn):
            continue
        leaf = leaf_variable(fn)
        if leaf is not None and is_plain(leaf):
            _noted[id(leaf)] = (weakref.ref(leaf), leaf._version, _norm(leaf), mark)


def _norm(leaf) -> torch.Tensor | None:
    """Return torch's norm of ``leaf`` as a tensor, or None where there is none to take or
    taking it fails (the device out of memory): gradstep's note never fails the call."""
    if (leaf.is_meta or leaf.layout != torch.strided or leaf.is_nested
            or not (leaf.is_floating_point() or leaf.is_complex()) or not storage_holds(leaf)):
        return None
    device = leaf.device.type  # the snippet's autocast would change the norm's precision
    off = (torch.autocast(device, enabled=False) if torch.amp.is_autocast_available(device)
           else contextlib.nullcontext())
    try:
        with torch.no_grad(), off:
            return torch.linalg.vector_norm(leaf.detach())
    except Exception:
        return None


def written_after(leaf) -> bool:
    """Return True when ``leaf`` was written since the last call that noted it."""
    return versions(leaf) is not None


def versions(leaf, used_by=None) -> dict | None:
    """Return ``{"pass_version", "version"}`` (torch's ``_version`` of ``leaf`` at the last
    call that noted it, and now) when ``leaf`` was written since that call, else None
    (the two are equal after a write the counter does not count: ``p.data``, fused).

    ``used_by`` (a callable returning the graph's nodes that take ``leaf`` as an input):
    None too unless each was built before that call, so that a write since the call came
    after the forward that used ``leaf`` (a forward after an optimizer step used the
    stepped value: not noted, as where the sequence numbers say nothing)."""
    if not _noted:
        return None
    entry = _noted.get(id(leaf))
    if entry is None or entry[0]() is not leaf:
        return None
    if used_by is not None and (entry[3] is None
                                or any(sequence_nr_of(fn) >= entry[3] for fn in used_by())):
        return None
    with unseen():  # a mode the snippet left on sees none of it (as ``note``, in a call)
        return _moved(leaf, entry)


def _moved(leaf, entry: tuple) -> dict | None:
    """``versions``' answer for ``leaf``, noted as ``entry``."""
    moved = {"pass_version": entry[1], "version": leaf._version}
    if leaf._version != entry[1]:
        return moved
    now, then = _norm(leaf), entry[2]
    if now is None or then is None:
        return None
    now, then = now.item(), then.item()
    return moved if now != then and not (math.isnan(now) and math.isnan(then)) else None

