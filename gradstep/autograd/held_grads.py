"""What a recorded pass's hooks hold of each gradient (``step_hooks``): a detached alias
or a copy, its version and its bytes, and the checks that it is still what torch had.
"""

from __future__ import annotations

from operator import attrgetter, is_, itemgetter, ne
from weakref import ReferenceType, ref

import torch
from torch import Tensor

from gradstep.autograd.safe_reads import runs_dispatch_code
from gradstep.autograd.unheard import copied, detached, unheard, warns_when_made
from gradstep.autograd.unseen import unseen


def _changed(kept: list) -> bool:
    """Return True when an alias of ``kept`` (``(alias, version)`` pairs) is no longer at the
    version noted (the same test as ``alias._version != version`` for each, run in C)."""
    return any(map(ne, map(_VERSION, map(_FIRST, kept)), map(_SECOND, kept)))


_FIRST, _SECOND, _VERSION = itemgetter(0), itemgetter(1), attrgetter("_version")
# The hooks keep each gradient as a detached alias: it shares the gradient's storage (and
# version counter), not the tensor itself. A reference to the tensor would change what
# torch does next: AccumulateGrad takes an incoming gradient as ``.grad`` (``detach``) only
# when nobody else holds it, and copies it otherwise, so ``.grad`` would no longer share
# storage with what the gradient was a view of (after ``x.view(4).backward(g)``, the plain
# run's ``x.grad`` is a view of ``g``). The alias's share of the storage still keeps an
# input buffer from adding into a gradient in place (torch checks the storage's users
# too), so what a hook kept keeps its value; a version that moved all the same (a hook
# or a custom Function's backward changed a gradient in place) drops the pass's steps
# (``_to_plain_data``). While the snippet's own dispatch mode or profiler is on
# (``watched``), which would see the ``detach`` calls, the hooks keep copies made out of
# its sight instead (``_unseen_hooks``); of a tensor subclass with its own
# ``__torch_dispatch__`` they keep nothing (copying or reading its gradients would run its
# code; that pass's steps are then not shown).


# In place of a gradient the hooks cannot keep as it is: a subclass's that runs its own
# dispatch code, or one of the BatchedTensors torch's legacy vmap passes through the graph
# for ``autograd.grad(..., is_grads_batched=True)`` (it has no ``detach``, no storage to
# read: each is a whole batch of gradients). The pass then shows no steps.
NOT_KEPT = object()


def _keep(grads, kept, count, sent: dict) -> list:
    """Return a detached alias of each plain gradient of ``grads`` (noting it and its version
    in ``kept``, its bytes in ``count[0]``), ``NOT_KEPT`` for a subclass's own dispatch code
    (or a tensor torch cannot detach), anything else as it is.

    Where a gradient is a tensor the hooks already kept (a node hands the very tensor it
    sent on to the node that takes it; AddBackward sends on what it received), the alias is
    the one kept then. It is not noted in ``kept`` again: its first entry there is checked
    whenever a second one would be (both go with the alias's summary), and a version only
    grows, so a second entry at its version now could only fail where the first fails too.
    Each new alias is noted in ``sent`` by its gradient's id, with a weak reference to the
    gradient (which holds nothing of it).

    An alias is reused for the same object (its weak reference alive: not a new tensor at
    a reused id) that still views the same memory, shape, strides and dtype, with the same
    negative and conjugate bits (``g.data = g._neg_view()`` keeps the rest and reads every
    element negated): the alias a fresh ``detach`` would make now shows the same elements, and an in-place change of them
    moves the version that both share, as a fresh alias's would. What it does not
    cover (a sparse gradient: no strides) gets a fresh alias, as ever.
    """
    out = []
    size = 0
    for g in grads:
        if type(g) is not Tensor:
            out.append(NOT_KEPT if g is not None and runs_dispatch_code(g) else g)
            continue
        key = id(g)
        entry = sent.get(key)
        if entry is not None and entry[0]() is g:
            alias = entry[1]
            try:
                same = (g.data_ptr() == alias.data_ptr() and g.shape == alias.shape
                        and g.stride() == alias.stride() and g.dtype == alias.dtype
                        and g.is_neg() == alias.is_neg() and g.is_conj() == alias.is_conj())
            except RuntimeError:
                same = False
            if same:
                out.append(alias)
                continue
        try:  # (``detached``: inline where making the alias cannot warn)
            alias = g.detach() if g.layout is _STRIDED and not g.is_nested else detached(g)
        except RuntimeError:  # a legacy vmap BatchedTensor (is_grads_batched=True)
            out.append(NOT_KEPT)
            continue
        try:
            version = alias._version
        except RuntimeError:  # an inference tensor (a pass run under inference_mode) has no
            copy = _copy(g)  # version counter to prove an alias unchanged: a copy, as it is now
            size += _size(copy)
            sent[key] = (ref(g), copy)  # (never reused: its memory is not g's; see _same)
            out.append(copy)
            continue
        kept((alias, version))
        try:
            size += alias.nbytes
        except RuntimeError:  # (a sparse tensor: see _nbytes)
            size += _nbytes(alias)
        sent[key] = (ref(g), alias)
        out.append(alias)
    count[0] += size
    return out


_STRIDED = torch.strided


def _same(grads, last: tuple, key, sent: dict) -> bool:
    """Return True when ``last``, a step begun (``(key, kept, before)``), is the node's of
    ``key`` and its pre-hook kept ``grads``, these very tensors: their aliases are the ones
    ``sent`` notes for them, with a weak reference to each that tells it from a new tensor
    at a reused id. A node hook asks this of what the node received (of the latest step
    begun: an identity check per gradient); False sends it to ``StepRecorder._received``.
    """
    if last[0] is not key:
        return False
    aliases = last[1]
    if len(aliases) != len(grads):
        return False
    for g, alias in zip(grads, aliases):
        if g is None:
            if alias is not None:
                return False
            continue
        entry = sent.get(id(g))
        if entry is None or entry[1] is not alias or entry[0]() is not g:
            return False
    return True


def _refs(grads) -> tuple:
    """Return a weak reference to each of ``grads`` (None for None, or for what takes none):
    what the copying hooks' pre-hook notes of what the node is about to receive
    (``_same_refs``)."""
    try:
        return tuple(map(ref, grads))  # (the usual case, in C: no None among them)
    except TypeError:
        pass
    out = []
    for g in grads:
        try:
            out.append(None if g is None else ref(g))
        except TypeError:
            out.append(None)
    return tuple(out)


def _same_refs(grads, refs: tuple) -> bool:
    """Return True when ``grads`` are the very objects of ``refs`` (``_refs``), each still
    alive, so not a new tensor at a reused id: one identity check per gradient.

    The copying hooks' node hook asks this of what the node received, against what its
    pre-hook saw (``_same`` for the others, which a summary's cleared ``sent`` sends here);
    False for a tensor ``_refs`` could not refer to.
    """
    if len(grads) != len(refs):
        return False
    try:
        return all(map(is_, map(_DEREF, refs), grads))  # (the usual case, in C)
    except TypeError:  # a None among refs
        pass
    for g, r in zip(grads, refs):
        if (g is not None or r is not None) and (r is None or r() is not g):
            return False
    return True


_DEREF = ReferenceType.__call__
_NOTHING_NOTED = ((), ())  # (no pre-hook call noted: ``_same_refs`` of no refs fails)


def _versions(tensors) -> tuple:
    """Return the version of each plain tensor of ``tensors`` (None for anything else, or an
    inference tensor, which has no version counter): read off the tensor's class, no code
    of a subclass's runs."""
    out = []
    for t in tensors:
        if type(t) is Tensor:
            try:
                out.append(t._version)
            except RuntimeError:  # an inference tensor
                out.append(None)
        else:
            out.append(None)
    return tuple(out)


def _size(t) -> int:
    """Return the bytes ``t`` is counted for (0 for ``NOT_KEPT`` or a subclass's tensor)."""
    return _nbytes(t) if type(t) is Tensor else 0


def _nbytes(t: Tensor) -> int:
    """Return a tensor's bytes (a sparse one's: its dense size)."""
    try:
        return t.nbytes
    except RuntimeError:
        return t.numel() * t.element_size()


def _sizes(tensors) -> int:
    return sum(_size(t) for t in tensors if t is not None)


def _held(grads):
    """Return ``grads``, with ``NOT_KEPT`` for each tensor a subclass's dispatch code owns."""
    for g in grads:
        if g is not None and type(g) is not Tensor and runs_dispatch_code(g):
            return tuple(NOT_KEPT if g is not None and type(g) is not Tensor and runs_dispatch_code(g)
                         else g for g in grads)
    return grads


def _copies(grads) -> tuple:
    """Return copies of the tensors of ``grads`` (``_held`` for a subclass's, None as it is)."""
    return tuple(g if g is None else _copy(g) if type(g) is Tensor or not runs_dispatch_code(g)
                 else NOT_KEPT for g in grads)


def _copy(g: Tensor):
    """Return a detached copy of ``g``, or ``NOT_KEPT`` where torch cannot copy it."""
    try:
        return copied(g)
    except RuntimeError:  # a legacy vmap BatchedTensor (is_grads_batched=True) has no detach
        return NOT_KEPT


def _grad_copy(variable):
    """Return a copy of ``variable.grad`` (AccumulateGrad adds into it in place), or None."""
    return _grad_copy_of(variable.grad)


def _grad_copy_of(grad):
    """Return a copy of a leaf's ``grad``, read once already (``_grad_copy``), or None."""
    if grad is not None and type(grad) is not Tensor:
        if runs_dispatch_code(grad):
            return NOT_KEPT
        with unseen():  # a subclass's __torch_function__ sees none of these reads and copies
            return _copy_of(grad)
    return grad if grad is None else _copy_of(grad)


def _copy_of(grad: Tensor) -> Tensor:
    """Return a copy of a leaf's ``grad`` (not a subclass's that runs dispatch code).
    A plain tensor that needs no grad is copied without a graph as it is (detach()
    first only where the copy could be recorded, or for subclasses)."""
    if warns_when_made(grad):  # a nested or compressed sparse copy warns: unheard
        with unheard():
            return grad.detach().clone()
    if type(grad) is Tensor and not grad.requires_grad:
        return grad.clone()
    return grad.detach().clone()
