"""The node hooks a recorded pass puts on without a ``RemovableHandle`` each (``bulk_hooks``):
they run, come off, and leave the nodes, the snippet's own hooks and torch's handle counter
as torch's own ``register_prehook``/``register_hook`` and ``handle.remove()`` leave them."""

from __future__ import annotations

import threading

import pytest
import torch
from torch.autograd.function import Function
from torch.utils.hooks import RemovableHandle

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
