"""The node hooks a recorded pass puts on without a ``RemovableHandle`` each (``bulk_hooks``):
they run, come off, and leave the nodes, the snippet's own hooks and torch's handle counter
as torch's own ``register_prehook``/``register_hook`` and ``handle.remove()`` leave them."""

from __future__ import annotations

import sys
import threading

import pytest
import torch
from torch.autograd.function import Function
from torch.utils.hooks import RemovableHandle

from gradstep.autograd import bulk_hooks
from gradstep.autograd.bulk_hooks import BulkHooks


class _Sine(torch.autograd.Function):  # a custom Function's node among C++ ones
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.cos()


def _graph():
    x = torch.randn(3, requires_grad=True)
    y = _Sine.apply(x.exp())
    loss = (y * y).sum()
    nodes, stack = [], [loss.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is not None and fn not in nodes:
            nodes.append(fn)
            stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return loss, nodes


def _noting(calls: list, what: str, name: str):
    """Return a node hook (pre-hook or hook) that notes ``(what, name)`` in ``calls``."""
    def hook(*grads):
        calls.append((what, name))
    return hook


def _run(bulk: bool) -> list:
    """Hook every node (with BulkHooks or torch's handles) around a snippet's own hooks,
    run three passes, taking the hooks off after the first: return who ran in each."""
    torch.manual_seed(0)
    loss, nodes = _graph()
    calls: list = []
    mine = [(type(fn).register_prehook(fn, _noting(calls, "snippet pre", fn.name())),
             type(fn).register_hook(fn, _noting(calls, "snippet post", fn.name())))
            for fn in nodes]
    ours = BulkHooks()
    handles = []
    before = RemovableHandle.next_id
    for fn in nodes:
        pre, post = _noting(calls, "pre", fn.name()), _noting(calls, "post", fn.name())
        if bulk:
            with ours.adding():
                ours.handles.append(type(fn).register_prehook(fn, pre))
                ours.handles.append(type(fn).register_hook(fn, post))
        else:
            handles += [type(fn).register_prehook(fn, pre), type(fn).register_hook(fn, post)]
    counted = RemovableHandle.next_id - before
    loss.backward(retain_graph=True)
    if bulk:
        assert len(ours.hooks()) == 2 * len(nodes)
        ours.remove()
        assert ours.hooks() == []
    else:
        for handle in handles:
            handle.remove()
    calls.append("removed")
    loss.backward(retain_graph=True)
    for pre_handle, _ in mine:  # the snippet's own handles still take its hooks off
        pre_handle.remove()
    calls.append("snippet's pre-hooks removed")
    loss.backward()
    return [counted, calls]


def test_the_hooks_run_and_come_off_as_with_torchs_handles():
    assert _run(bulk=True) == _run(bulk=False)


def test_registrations_get_torchs_own_handles_outside_the_block_and_on_other_threads():
    loss, nodes = _graph()
    bulk = BulkHooks()
    other = []
    with bulk.adding():
        assert "_register_hook" in Function.__dict__
        thread = threading.Thread(target=lambda: other.append(nodes[0].register_prehook(print)))
        thread.start()
        thread.join()
    assert "_register_hook" not in Function.__dict__  # as torch has it
    assert type(other[0]) is RemovableHandle and bulk.hooks() == []
    other[0].remove()
    later = nodes[0].register_hook(print)
    assert type(later) is RemovableHandle and later.id > other[0].id  # (no id used twice)
    later.remove()


def test_the_block_puts_torchs_function_back_after_an_error():
    bulk = BulkHooks()
    with pytest.raises(ZeroDivisionError), bulk.adding():
        1 / 0  # noqa: B018
    assert "_register_hook" not in Function.__dict__


def test_a_torch_without_the_handle_counter_is_left_its_own_registration(monkeypatch):
    monkeypatch.delattr(RemovableHandle, "next_id")
    bulk = BulkHooks()
    with bulk.adding():
        assert "_register_hook" not in Function.__dict__
    assert not hasattr(RemovableHandle, "next_id") and bulk.hooks() == []
    bulk.remove()


def _raising_at(line: int, name: str = "register_hook"):
    """Return a trace function that raises KeyboardInterrupt (as a signal handler may) at
    the ``line``-th line ``bulk_hooks``' function ``name`` runs (the registration's)."""
    seen = []

    def trace(frame, event, arg):
        if frame.f_code.co_name != name or "bulk_hooks" not in frame.f_code.co_filename:
            return None

        def line_trace(frame, event, arg):
            if event == "line":
                seen.append(frame.f_lineno)
                if len(seen) == line:
                    raise KeyboardInterrupt
            return line_trace
        return line_trace
    return trace, seen


def _register_raising(line: int, has_hooks: bool) -> tuple[list, list]:
    """Register two pre-hooks in a block, the second one raising at its ``line``-th line,
    take them off and run the pass: return who ran, and the lines the registration ran."""
    loss, nodes = _graph()
    calls: list = []
    if has_hooks:  # the node's hook dict made by the snippet's own hook
        nodes[1].register_prehook(_noting(calls, "snippet pre", "mul"))
    bulk = BulkHooks()
    trace, seen = _raising_at(line)
    try:
        with bulk.adding():
            bulk.handles.append(nodes[0].register_prehook(_noting(calls, "pre", "sum")))
            sys.settrace(trace)
            try:
                bulk.handles.append(nodes[1].register_prehook(_noting(calls, "pre", "mul")))
            finally:
                sys.settrace(None)
    except KeyboardInterrupt:
        calls.append("raised")
    assert "_register_hook" not in Function.__dict__
    bulk.remove()
    loss.backward()
    return calls, seen


@pytest.mark.parametrize("has_hooks", [False, True])
def test_an_exception_in_the_middle_of_a_registration_leaves_no_hook_on(has_hooks):
    """Raised at each line of gradstep's registration in turn, the block ends with torch's
    function back and, once ``remove()`` has run, none of its hooks on the node: the pass
    runs only the snippet's own hooks, as it would have without gradstep."""
    calls, lines = _register_raising(0, has_hooks)  # (no line: all of it)
    assert len(lines) >= 4 and "raised" not in calls  # the thread check to the return
    for line in range(1, len(lines) + 1):
        calls, _ = _register_raising(line, has_hooks)
        assert calls == ["raised"] + ([("snippet pre", "mul")] if has_hooks else []), line


def test_another_torchs_registration_is_left_its_own(monkeypatch):
    """gradstep's function stands in only for the ``_register_hook`` it knows: torch's own
    here, not one that does anything more; under another, the block changes nothing."""
    assert bulk_hooks._is_known(Function._register_hook)  # (torch 2.13's: the block's way)
    own = Function._register_hook

    def _register_hook(backward_hooks, hook):  # torch's, and one more line
        backward_hooks, handle = own(backward_hooks, hook)
        handle.noted = True
        return backward_hooks, handle

    assert not bulk_hooks._is_known(_register_hook)
    monkeypatch.setattr(bulk_hooks, "_TORCH_KNOWN", False)
    _, nodes = _graph()
    bulk = BulkHooks()
    with bulk.adding():
        assert "_register_hook" not in Function.__dict__
        bulk.handles.append(nodes[0].register_prehook(print))
    assert type(bulk.handles[0]) is RemovableHandle and bulk.hooks() == []
    bulk.remove()


def _remove_raising(line: int) -> tuple[list, list]:
    """Put two pre-hooks and a hook on a graph in a block, take them off with an exception
    raised at the ``line``-th line of the taking off, run the pass: return who ran, and the
    lines the taking off ran."""
    loss, nodes = _graph()
    calls: list = []
    bulk = BulkHooks()
    with bulk.adding():
        for fn, what in ((nodes[0], "sum"), (nodes[1], "mul")):
            bulk.handles.append(fn.register_prehook(_noting(calls, "pre", what)))
        bulk.handles.append(nodes[1].register_hook(_noting(calls, "post", "mul")))
    trace, seen = _raising_at(line, "_take_off")
    sys.settrace(trace)
    try:
        bulk.remove()
    except KeyboardInterrupt:
        calls.append("raised")
    finally:
        sys.settrace(None)
    loss.backward()
    return calls, seen


def test_an_exception_in_the_middle_of_the_taking_off_leaves_no_hook_on():
    """Raised at each line of ``remove()``'s taking off in turn (a signal handler's, where
    the snippet's are in place), the exception goes on and none of the hooks stays on the
    nodes (those not yet taken off ran in the snippet's next pass)."""
    calls, lines = _remove_raising(0)  # (no line: all of it)
    assert len(lines) >= 6 and calls == []
    for line in range(1, len(lines) + 1):
        assert _remove_raising(line)[0] == ["raised"], line
