"""Whether a tensor hook of the snippet's may run in a pass: then the hooks copy.

A tensor hook (``y.register_hook(fn)``) runs just before ``y``'s node, on the gradient
the node that sent it handed on; a hook that changes it in place (``g.mul_(2)``) changes
the very tensor whose alias the sender's step kept, and no hook of gradstep's runs in
between. The usual hooks keep aliases and then drop the pass's steps ("a gradient was
changed in place during the pass"); the copying hooks (those made for the snippet's own
mode) copy what each step sends when it sends it, so each step shows what torch had then.

torch shows a node's tensor hooks to no Python code; the tensor's ``_backward_hooks``
(its Python dict of hooks) can be read from the tensor. So a pass is recorded by the
copying hooks where a tensor it can reach has hooks: a leaf of its graph (its
``AccumulateGrad``'s variable), a root, or a tensor the snippet's namespace names whose
node is in the graph (or that is a view: its node is not read, see ``safe_reads``).
A hooked tensor none of these names (``h.register_hook`` inside a module's ``forward``,
``h`` gone with it) is told by its node: while the snippet runs, ``Tensor.register_hook``
notes the node a non-leaf tensor's first hook goes onto (``noting_hooks``, installed by
``calls.capture_backward_calls``; torch's own function runs, then the node it has just read
is noted by class and sequence number), and a pass over that node copies. Reading
``_backward_hooks`` runs no hook and changes nothing.
"""

from __future__ import annotations

import functools

from torch.compiler import is_compiling

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.own_frames import frames_out
from gradstep.autograd.safe_reads import (
    ACCUMULATE_GRAD,
    fresh_grad_fn,
    grad_fn_of,
    is_plain,
    plain_reads,
    sequence_nr_of,
)

# (node class, sequence number) of each node a non-leaf tensor's hook went onto while the
# snippet now run ran (``forget`` as the next run begins: the kernel drops the earlier
# run's graph then, and a later pass need not look these up); a number two threads share
# makes a pass copy that need not (exact either way). Past _MOST notes every pass copies
# (_hooked_nodes).
_HOOKED: set = set()
_MOST = 100_000


def forget() -> None:
    """Drop the nodes noted in an earlier run (a new run: ``calls.capture_backward_calls``)."""
    _HOOKED.clear()


def noted_nodes() -> set:
    """Return the (node class, sequence number) of each node a non-leaf tensor's hook went
    onto in this run (``noting_hooks``; read, not copied)."""
    return _HOOKED


def has_tensor_hooks(id_of: dict, tensors=()) -> bool:
    """Return True when a leaf of ``id_of`` (grad_fn -> id), or one of ``tensors`` (roots,
    the snippet's named values: anything else is skipped) in the graph, has tensor hooks.
    True where the look-up fails: the copying hooks are exact either way."""
    try:
        return _has_tensor_hooks(id_of, tensors)
    except Exception as exc:
        reraise_if_handlers(exc)
        return True


def _has_tensor_hooks(id_of: dict, tensors) -> bool:
    if _HOOKED and _hooked_nodes(id_of):
        return True
    with plain_reads():
        for value in tensors:
            if not is_plain(value) or not value.requires_grad:
                continue
            if value._backward_hooks:
                if value._is_view() or grad_fn_of(value) in id_of:
                    return True
        for fn in id_of:
            if type(fn) is ACCUMULATE_GRAD:
                variable = fn.variable
                if variable is not None and variable._backward_hooks:
                    return True
    return False


def _hooked_nodes(id_of: dict) -> bool:
    """Return True when a tensor hook was noted on a node of ``id_of`` (``noting_hooks``)."""
    if len(_HOOKED) >= _MOST:
        return True
    hooked = _HOOKED
    return any((type(fn), sequence_nr_of(fn)) in hooked for fn in id_of)


def noting_hooks(register):
    """Return ``Tensor.register_hook`` for the snippet's run: torch's ``register`` runs as it
    is, its result or error the snippet's; then, for a non-leaf tensor's first hook (torch
    has just put the tensor's hook dict on ``grad_fn``, read up to date), that node is noted
    (``_HOOKED``). Later hooks of the tensor go into the same dict, on the same node."""

    @functools.wraps(register)
    def register_hook(*args, **kwargs):
        if is_compiling():  # torch.compile traces this: it must see torch's own call only
            return register(*args, **kwargs)
        tensor = args[0] if args else kwargs.get("self")
        first = _without_hooks(tensor)
        with frames_out:  # torch's error, as the plain run's traceback has it
            handle = register(*args, **kwargs)
        if first:
            _note(tensor)
        return handle

    return register_hook


def _without_hooks(tensor) -> bool:
    """Return True for a plain non-leaf tensor that has no hook dict yet."""
    try:
        with plain_reads():
            return is_plain(tensor) and tensor._backward_hooks is None and not tensor.is_leaf
    except Exception as exc:
        reraise_if_handlers(exc)
        return False


def _note(tensor) -> None:
    try:
        fn = fresh_grad_fn(tensor)  # torch read it just now: a view's node is up to date
        if fn is not None and len(_HOOKED) < _MOST:
            _HOOKED.add((type(fn), sequence_nr_of(fn)))
    except Exception as exc:  # noting is gradstep's own: never the snippet's error
        reraise_if_handlers(exc)
