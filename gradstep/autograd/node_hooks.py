"""The pre-hooks and hooks a recorded pass puts on the nodes (``step_hooks.StepRecorder``):
the same two on every node where torch tells which node runs (and two on the leaves), else
made per node, and copying ones while the snippet's own mode or profiler watches.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gradstep.autograd.held_grads import (
    _NOTHING_NOTED,
    _STRIDED,
    _copies,
    _grad_copy,
    _grad_copy_of,
    _held,
    _keep,
    _refs,
    _same,
    _same_refs,
    _size,
    _sizes,
    _versions,
)
from gradstep.autograd.leaf_steps import _grad_after, _takes_it
from gradstep.autograd.own_pass import current_task
from gradstep.autograd.safe_reads import _PLAIN_TYPES, subclass_grad
from gradstep.autograd.unseen import unseen

# The hooks return None: they never change what a node receives or sends. One call
# makes both hooks of a node (they share its cells).
# ``held`` is ``([bytes held], limit, summarise, mine, sent)``: a hook that took the bytes
# past the limit summarises what is held (``StepRecorder._summarise_held``); a hook call
# ``mine()`` (``own_pass.OwnPass``) does not take for its pass's does nothing. A leaf's
# ``.grad`` after AccumulateGrad is counted only where it is copied (``_grad_after``): the
# leaf holds it anyway. ``sent`` maps the
# id of each gradient the hooks kept to (a weak reference to it, its alias): the engine hands
# the very tensor a node sent on to the node that takes it, whose pre-hook then keeps that
# alias (``_keep``) instead of a second one, so the pair is one tensor to summarise (a pass
# of 2,687 steps hands on 2,686 such).


# ``_hooks`` and ``_unseen_hooks`` (hooks made per node, see ``_current_node`` below) return
# ``hooks_for(node_id)``, made once per pass: the hooks of a node then hold one cell of their
# own (thousands of nodes), the rest shared.


def _hooks(started, finished: dict, kept, held):
    count, limit, summarise, mine, sent, entries, _, received = held

    def hooks_for(node_id: str):
        def pre_hook(grad_outputs):
            if current_task() != mine.task and not mine():  # (see own_pass.current_task)
                return
            started((node_id, _keep(grad_outputs, kept, count, sent), None))
            if count[0] > limit:
                summarise()

        def hook(grad_inputs, grad_outputs):
            if current_task() != mine.task and not mine():
                return
            if not (entries and _same(grad_outputs, entries[-1], node_id, sent)):
                received(node_id, grad_outputs)
            finished[node_id] = _keep(grad_inputs, kept, count, sent)
            if count[0] > limit:
                summarise()
        return pre_hook, hook
    return hooks_for


# Where torch tells which node runs now (``torch._C._current_autograd_node``, torch 2.1 on:
# the node whose hooks the engine calls, on the thread that runs it, also inside a nested
# pass), every node can share the same hooks: none is made per node, and the hooks note
# the node itself (the very object ``id_of`` holds: torch keeps one Python object per node
# while it lives, a custom Function's node is its ``ctx``). Otherwise, and while the
# snippet's mode or profiler watches, each node gets hooks of its own (``hooks_for``).
_current_node = getattr(torch._C, "_current_autograd_node", None)


def _shared_hooks(started, finished: dict, kept, held):
    count, limit, summarise, mine, sent, entries, _, received = held
    node = _current_node

    def pre_hook(grad_outputs):
        if current_task() != mine.task and not mine():  # (see own_pass.current_task)
            return
        fn = node()
        started((fn, _keep(grad_outputs, kept, count, sent), None))
        if count[0] > limit:
            summarise()

    def hook(grad_inputs, grad_outputs):
        if current_task() != mine.task and not mine():
            return
        fn = node()
        if not (entries and _same(grad_outputs, entries[-1], fn, sent)):
            received(fn, grad_outputs)
        finished[fn] = _keep(grad_inputs, kept, count, sent)
        if count[0] > limit:
            summarise()
    return pre_hook, hook


def _leaf_pre_hook(started, kept, held, marks, fixed: tuple | None = None):
    """Return the pre-hook of a leaf's AccumulateGrad: it keeps what the node received and a
    copy of the leaf's ``.grad`` (AccumulateGrad adds into it in place), and summarises what
    the hooks hold past the limit or where the leaf's post-accumulate-grad hooks may change
    what it received (``_takes_it``). ``fixed`` is ``(node_id, variable)`` for the hooks made
    per node (``_leaf_hooks``); None for the one every leaf shares (``_shared_leaf_hooks``:
    the node is the one torch runs now, noted by itself). ``marks`` (``grad_marks.GradMarks``)
    checks the ``.grad`` it reads against the one the leaf had as the pass began."""
    count, limit, summarise, mine, sent, _, _, _ = held
    node = _current_node
    check = marks.check

    def pre_hook(grad_outputs):
        if current_task() != mine.task and not mine():
            return
        if fixed is None:
            key = node()
            variable = key.variable
        else:
            key, variable = fixed
        grads = _keep(grad_outputs, kept, count, sent)
        # (``_grad_copy``: inline for a plain strided one; a subclass's read, unseen)
        grad = variable.grad if type(variable) in _PLAIN_TYPES else subclass_grad(variable)
        noted = check(variable, grad)  # (its copy as the pass began, where the same bits)
        if grad is None:
            before = None
        elif (type(grad) is Tensor and not grad.requires_grad and grad.layout is _STRIDED
              and not grad.is_nested):
            before = grad.clone() if noted is None else noted
        else:
            before = _grad_copy_of(grad)
        started((key, grads, before))
        if before is not None:
            count[0] += _size(before)
        if count[0] > limit or _takes_it(grad_outputs, before, variable):
            summarise()
    return pre_hook


def _shared_leaf_hooks(started, finished: dict, grad_after: dict, kept, held, marks):
    count, limit, summarise, mine, sent, entries, _, received = held
    node = _current_node
    pre_hook = _leaf_pre_hook(started, kept, held, marks)

    def hook(grad_inputs, grad_outputs):  # after the node ran: a reference changes nothing
        if current_task() != mine.task and not mine():
            return
        fn = node()
        if not (entries and _same(grad_outputs, entries[-1], fn, sent)):
            received(fn, grad_outputs, leaf=fn.variable)
        finished[fn] = _held(grad_inputs)
        variable = fn.variable
        grad = variable.grad if type(variable) in _PLAIN_TYPES else subclass_grad(variable)
        grad_after[fn] = _grad_after(grad, kept, count)
        if count[0] > limit:
            summarise()
    return pre_hook, hook


def _leaf_hooks(started, finished: dict, grad_after: dict, node_id: str, variable, kept, held,
                marks):
    count, limit, summarise, mine, sent, entries, _, received = held
    pre_hook = _leaf_pre_hook(started, kept, held, marks, (node_id, variable))

    def hook(grad_inputs, grad_outputs):  # after the node ran: a reference changes nothing
        if current_task() != mine.task and not mine():
            return
        if not (entries and _same(grad_outputs, entries[-1], node_id, sent)):
            received(node_id, grad_outputs, leaf=variable)
        finished[node_id] = _held(grad_inputs)
        grad_after[node_id] = _grad_after(variable.grad, kept, count)
        if count[0] > limit:
            summarise()
    return pre_hook, hook


def _unseen_hooks(started, finished: dict, kept, held):
    count, limit, summarise, mine, _, _, pending, received = held

    def hooks_for(node_id: str):
        def pre_hook(grad_outputs):
            if not mine():
                return
            with unseen():  # (a version read is a ``__get__`` the snippet's mode would see)
                pending[node_id] = (_refs(grad_outputs), _versions(grad_outputs))
                copies = _copies(grad_outputs)
                started((node_id, copies, None))
                count[0] += _sizes(copies)
                if count[0] > limit:
                    summarise()

        def hook(grad_inputs, grad_outputs):
            if not mine():
                return
            with unseen():
                _check_received(node_id, grad_outputs, pending, received)
                finished[node_id] = copies = _copies(grad_inputs)
                count[0] += _sizes(copies)
                if count[0] > limit:
                    summarise()
        return pre_hook, hook
    return hooks_for


def _check_received(node_id, grad_outputs, pending, received, leaf=None) -> None:
    """Tell ``received`` where a copying hook got other tensors than its pre-hook saw, or
    the same ones changed in place since (a late pre-hook's ``g.mul_(10)``; ``leaf``: the
    variable of a leaf's AccumulateGrad, see ``StepRecorder._received``)."""
    refs, versions = pending.pop(node_id, _NOTHING_NOTED)
    if not _same_refs(grad_outputs, refs):
        received(node_id, grad_outputs, copies=True)
    elif _versions(grad_outputs) != versions:
        received(node_id, grad_outputs, moved=True, leaf=leaf)


def _unseen_leaf_hooks(started, finished: dict, grad_after: dict, node_id: str, variable, kept,
                       held, marks):
    count, limit, summarise, mine, _, _, pending, received = held
    def pre_hook(grad_outputs):
        if not mine():
            return
        with unseen():
            if id(variable) in marks.pending:  # (a plain leaf: its .grad read runs no code)
                marks.check(variable, variable.grad)
            pending[node_id] = (_refs(grad_outputs), _versions(grad_outputs))
            copies, before = _copies(grad_outputs), _grad_copy(variable)
            started((node_id, copies, before))
            count[0] += _sizes((*copies, before))
            if count[0] > limit:
                summarise()

    def hook(grad_inputs, grad_outputs):
        if not mine():
            return
        with unseen():
            _check_received(node_id, grad_outputs, pending, received, leaf=variable)
            finished[node_id] = copies = _copies(grad_inputs)
            grad_after[node_id] = after = _copies((variable.grad,))[0]
            count[0] += _sizes((*copies, after))
            if count[0] > limit:
                summarise()
    return pre_hook, hook
