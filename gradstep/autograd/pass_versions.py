"""Which leaves the snippet wrote after its last recorded backward call.

``gradstep check`` reads each parameter's ``|weight|`` when the snippet has ended. A
training step after ``loss.backward()`` (``opt.step()``) has changed the weights by then:
the ratio ``|grad| / |weight|`` then divides the gradient by weights it was not computed
at (a ResNet-18 after an SGD step of lr=1e6: every ratio 1e-6, that is 1/lr, where the
weights of the pass give 1e4, exploding). ``note(nodes)`` keeps each plain leaf's
``_version`` (torch's in-place write counter) after a recorded call, and its norm;
``written_when(leaf)`` says whether either moved since: the report says so, rather than
pass the ratio off as the pass's. The norm is for the writes the counter does not count:
through ``p.data`` (a new tensor with a counter of its own: ``p.data.sub_(lr * p.grad)``)
and torch's fused optimizers (``fused=True``). It is torch's ``vector_norm``, computed (by ``versions`` and by
``note``'s caller) under ``unseen()``, with no grad and no autocast, kept as a tensor on the leaf's device (no
wait for the device) and read when the snippet has ended.

A leaf written *during* the call (an optimizer step in a ``register_post_accumulate_grad_hook``,
``p.data.add_`` in a hook) was noted too late by a note after the call: ``begin(nodes)``,
as the call starts, keeps each leaf's version and norm then, and ``note`` keeps those
instead for a leaf whose version or norm moved during the call, marked ``during``:
``versions`` then says ``during: True``, with ``pass_version`` the version the call began
at (the pass's forward used the value of then; which step wrote it is not told).

Each leaf keeps the notes of its last ``KEPT_CALLS`` calls, not only the last one's: the
calls of a ``retain_graph=True`` pair run over one forward, and a hook's write during the
first was lost once the second call noted the leaf again (its start already held the
written value). ``versions(leaf, used_by)`` reads the first call after the forward that
built the nodes ``used_by`` gives (the forward used the value that call began with).
"""

from __future__ import annotations

import contextlib
import math
import weakref

import torch

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.safe_reads import (
    ACCUMULATE_GRAD,
    is_plain,
    sequence_nr_of,
    storage_holds,
)
from gradstep.autograd.unseen import unseen

_noted: dict[int, tuple] = {}
# id(leaf): (the leaf, [one note a call, oldest first: (its version then, its norm then,
# torch's sequence number then, and as the call began: None, or (its version, its norm,
# torch's sequence number))], whether older notes were dropped)
KEPT_CALLS = 8  # notes kept a leaf (a retain_graph loop over one forward past it: older
# calls' notes dropped, and a forward older than the notes kept is not answered for)
_begun: dict[int, tuple[weakref.ref, int, torch.Tensor | None]] = {}
# id(leaf): (the leaf, its version and norm as the call now running began)


def forget() -> None:
    """Drop what was noted (a new run)."""
    _noted.clear()
    _begun.clear()


def let_go(tensors) -> list:
    """Take the notes of ``tensors`` out (``swaps``: torch swaps no tensor that has a weak
    reference, and CPython hands every plain ``weakref.ref(t)`` the same object, so the
    names' letting go of theirs is not enough); return them for ``hold_again``."""
    taken = []
    for table in (_noted, _begun):
        for t in tensors:
            entry = table.get(id(t))
            if entry is not None and entry[0]() is t:
                del table[id(t)]
                taken.append((table, t, entry[1:]))
    return taken


def hold_again(taken: list, swapped: tuple | None = None) -> None:
    """Put back the notes ``let_go`` took, each under its tensor, or where the swap was made
    (``swapped``: its two tensors) under the other one: a note is of the tensor's data and
    version counter, which a swap moves to the other object (the graph's leaf is then that
    object). One noted since (during the swap) is kept; a dead object's, at that id, not."""
    for table, t, rest in taken:
        if swapped is not None:
            t = swapped[1] if t is swapped[0] else swapped[0]
        now = table.get(id(t))
        if now is None or now[0]() is not t:
            table[id(t)] = (weakref.ref(t), *rest)


def begin(nodes) -> None:
    """Keep the version and norm of every plain leaf among ``nodes`` as a call begins (for
    ``note`` after it: a write during the call); nothing where that fails (it never keeps
    the call from running)."""
    _begun.clear()
    try:
        _begin(nodes)
    except Exception as exc:
        _begun.clear()
        reraise_if_handlers(exc)


def _begin(nodes) -> None:
    leaves = _versioned_leaves(nodes)
    for leaf, norm in zip(leaves, _norms(leaves)):
        _begun[id(leaf)] = (weakref.ref(leaf), leaf._version, norm)


def _versioned_leaves(nodes) -> list:
    """Return the plain leaf tensors of the AccumulateGrad nodes among ``nodes`` that keep a
    version counter (not an inference tensor: reading its ``_version`` raises)."""
    leaves = []
    for fn in nodes:
        if type(fn) is ACCUMULATE_GRAD:  # (is_leaf_node, leaf_variable: inline)
            leaf = fn.variable
            if leaf is not None and is_plain(leaf) and not leaf.is_inference():
                leaves.append(leaf)
    return leaves


def _norms(leaves: list) -> list:
    """Return torch's norm of each of ``leaves`` as a tensor, or None where there is none to
    take or taking it fails (the device out of memory): gradstep's note never fails the call.
    Grad and autocast are turned off once for them all (the snippet's autocast would change
    the norm's precision), not once a leaf. The CPU leaves' norms come from one
    ``torch._foreach_norm``, which on the CPU calls the same ``linalg_vector_norm`` for each
    tensor in turn (the same bits; ~1 us a leaf less: docs/speed.md item 71)."""
    devices = {leaf.device.type for leaf in leaves}
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        for device in devices:
            if torch.amp.is_autocast_available(device):
                stack.enter_context(torch.autocast(device, enabled=False))
        out: list = [None] * len(leaves)
        at, cpu = [], []
        for i, leaf in enumerate(leaves):
            if (leaf.is_meta or leaf.layout != torch.strided or leaf.is_nested
                    or not (leaf.is_floating_point() or leaf.is_complex())):
                continue
            n = leaf.numel()  # FSDP frees a parameter's storage:
            if not storage_holds(leaf, n):
                continue
            if leaf.is_cpu and _foreach_norm is not None:
                at.append(i)
                cpu.append(leaf.detach())
            else:
                out[i] = _one_norm(leaf)
        if cpu:
            try:
                norms = _foreach_norm(cpu)
            except Exception as exc:
                reraise_if_handlers(exc)
                norms = [_one_norm(t) for t in cpu]
            for i, norm in zip(at, norms):
                out[i] = norm
        return out


_foreach_norm = getattr(torch, "_foreach_norm", None)


def _one_norm(leaf) -> torch.Tensor | None:
    """Return ``vector_norm`` of ``leaf``, None where it fails (``_norms`` set grad and
    autocast off)."""
    try:
        return torch.linalg.vector_norm(leaf.detach())
    except Exception as exc:
        reraise_if_handlers(exc)
        return None


def note(nodes, mark: int | None = None, begin_mark: int | None = None) -> None:
    """Note the version and norm of every plain leaf among ``nodes`` (grad_fns; a dict's
    keys do), and ``mark``: torch's sequence number then (None once the snippet started a
    thread: torch numbers each thread's nodes on its own); with those ``begin`` kept as the
    call began, and ``begin_mark`` (torch's sequence number then), to tell a write during
    the call (``versions``, once the snippet has ended: no wait for the device here).
    Nothing new is noted where that fails (it never fails the call)."""
    begun = _begun.copy()
    _begun.clear()
    try:
        _note(nodes, mark, begin_mark, begun)
    except Exception as exc:
        reraise_if_handlers(exc)


def _note(nodes, mark, begin_mark, begun: dict) -> None:
    leaves = _versioned_leaves(nodes)
    for leaf, norm in zip(leaves, _norms(leaves)):
        start = begun.get(id(leaf))
        if start is not None and start[0]() is leaf:
            start = (start[1], start[2], begin_mark)
        else:
            start = None
        entry = (leaf._version, norm, mark, start)
        old = _noted.get(id(leaf))
        if old is not None and old[0]() is leaf:
            notes, dropped = old[1] + [entry], old[2]
            if len(notes) > KEPT_CALLS:
                notes, dropped = notes[-KEPT_CALLS:], True
        else:
            notes, dropped = [entry], False
        _noted[id(leaf)] = (weakref.ref(leaf), notes, dropped)


def snapshot(id_of: dict) -> list:
    """Return each plain leaf of ``id_of`` (grad_fn -> id) with its node id, version and
    norm now, for ``moved_since`` after a pass of gradstep's own (the window's Backward,
    ``gradstep backward`` on a snippet that made none: no call of the snippet's notes
    them); [] where that fails (the pass runs all the same)."""
    try:
        with unseen():
            fns = [fn for fn in id_of if type(fn) is ACCUMULATE_GRAD]
            leaves = _versioned_leaves(fns)
            ids = {id(fn.variable): id_of[fn] for fn in fns}
            return [(ids[id(leaf)], weakref.ref(leaf), leaf._version, norm)
                    for leaf, norm in zip(leaves, _norms(leaves))]
    except Exception as exc:
        reraise_if_handlers(exc)
        return []


def moved_since(taken: list) -> dict:
    """Return ``{leaf node id: {"pass_version", "version"}}`` for the leaves of ``snapshot``
    ``taken`` whose version or norm moved since (a hook's write during the pass: an
    optimizer step in a post-accumulate-grad hook, ``p.data.add_``)."""
    out = {}
    try:
        with unseen():
            for node_id, ref, version, norm in taken:
                leaf = ref()
                if leaf is not None:
                    moved = _moved(leaf, (None, version, norm))
                    if moved is not None:
                        out[node_id] = moved
    except Exception as exc:
        reraise_if_handlers(exc)
        return {}
    return out


def _norm(leaf) -> torch.Tensor | None:
    """Return ``_norms`` of ``leaf`` alone."""
    return _norms([leaf])[0]


def written_when(leaf, used_by=None) -> str | None:
    """Return ``"during"`` when ``leaf`` was written during the last call that noted it (a
    hook's step), ``"after"`` when it was written only since that call, else None
    (``used_by``: as ``versions``)."""
    moved = versions(leaf, used_by)
    if moved is None:
        return None
    return "during" if moved.get("during") else "after"


def versions(leaf, used_by=None) -> dict | None:
    """Return ``{"pass_version", "version"}`` (torch's ``_version`` of ``leaf`` at the last
    call that noted it, and now) when ``leaf`` was written since that call, else None
    (the two are equal after a write the counter does not count: ``p.data``, fused);
    with ``during: True`` where it was written during that call or a later one
    (``pass_version``: the version as the call began).

    ``used_by`` (a callable returning the graph's nodes that take ``leaf`` as an input):
    the call read is the first one after the forward that built them (a ``retain_graph``
    pair's first), and None unless there is one, so that a write since the call came
    after the forward that used ``leaf`` (a forward after an optimizer step used the
    stepped value: not noted, as where the sequence numbers say nothing)."""
    if not _noted:
        return None
    noted = _noted.get(id(leaf))
    if noted is None or noted[0]() is not leaf:
        return None
    notes = noted[1]
    with unseen():  # a mode the snippet left on sees none of it (as ``note``, in a call)
        first = len(notes) - 1  # the last call's, without ``used_by``
        if used_by is not None:  # the first call after the forward that built its users
            if any(note[2] is None for note in notes):
                return None  # a thread's numbers: which came first is not told
            users = [sequence_nr_of(fn) for fn in used_by()]
            first = next((i for i, note in enumerate(notes)
                          if all(seq < note[2] for seq in users)), None)
            if first is None or (first == 0 and noted[2]):
                return None  # built after the last call, or before the notes kept
        during = any(note[2] is not None and note[3] is not None
                     and _moved(leaf, (None, *note[3]), note[:2]) is not None
                     for note in notes[first:])
        if during:  # written during a call: the forward used the value the first call
            start = notes[first][3]  # after it began with
            if start is None:
                return None  # not noted as that call began
            moved = _moved(leaf, (None, *start))
        else:
            moved = _moved(leaf, (None, *notes[first][:2]))
    if moved is not None and during:
        moved["during"] = True
    return moved


def _moved(leaf, entry: tuple, after: tuple | None = None) -> dict | None:
    """``versions``' answer for ``leaf``, noted as ``entry``: compared with it now, or with
    ``after`` (its version and norm at a later note)."""
    version = leaf._version if after is None else after[0]
    moved = {"pass_version": entry[1], "version": version}
    if version != entry[1]:
        return moved
    now, then = (_norm(leaf) if after is None else after[1]), entry[2]
    if now is None or then is None:
        return None
    now, then = now.item(), then.item()
    return moved if now != then and not (math.isnan(now) and math.isnan(then)) else None

