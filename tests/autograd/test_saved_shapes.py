"""A freed saved tensor's shape and dtype, noted just before the pass (``saved_memory``,
``saved_shapes``): torch's own, and read without running the snippet's code."""

from __future__ import annotations

import torch

from gradstep.autograd import saved_memory
from gradstep.autograd.saved import saved_items


def nodes_of(root: torch.Tensor) -> dict:
    nodes, stack = {}, [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is not None and fn not in nodes:
            nodes[fn] = None
            stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return nodes


class Logged(torch.Tensor):
    """A subclass whose ``__torch_function__`` counts every call and attribute read."""

    calls: list = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.calls.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


def test_the_shape_of_a_freed_tensor_is_what_torch_had_before_the_pass():
    saved_memory.forget()
    x = torch.randn(2, 3, requires_grad=True)
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    loss = ((x.double() @ w).exp().t()[1:] * 2).sum()
    nodes = nodes_of(loss)
    want = {}  # torch's own getters, before the pass frees them
    for fn in nodes:
        for attr in dir(fn):
            if attr.startswith("_saved_") and isinstance(getattr(fn, attr), torch.Tensor):
                t = getattr(fn, attr)
                want[fn, attr[len("_saved_"):]] = (list(t.shape), str(t.dtype).removeprefix("torch."))
    assert len(want) >= 3  # mm's self and mat2, exp's result, mul's other (a wrapped 2)
    saved_memory.remember(nodes)
    loss.backward()
    got = {}
    for fn in nodes:
        for item in saved_items(fn):
            if item.get("freed"):
                got[fn, item["name"]] = (item["shape"], item["dtype"])
    assert got == want
    saved_memory.forget()


def test_remember_runs_no_subclass_code_and_no_unpack_hook():
    """After the snippet (the window's Backward again) no mode sets reads aside: a saved
    subclass tensor's shape is read without its ``__torch_function__``, and a tensor a
    saved-tensors hook holds is not unpacked (its shape is not noted)."""
    saved_memory.forget()
    unpacked = []
    x = torch.ones(2, 3, requires_grad=True)
    w = torch.ones(3).as_subclass(Logged)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        hooked = (x * 3).sin()
    loss = (x * w).sum() + hooked.sum()
    nodes = nodes_of(loss)
    Logged.calls.clear()
    saved_memory.remember(nodes, snippet_done=True)
    assert Logged.calls == [] and unpacked == []
    loss.backward()
    assert len(unpacked) == 1  # torch's own pass unpacked sin's self once
    freed = {item["name"]: item for item in saved_items(hooked.grad_fn)}
    assert "shape" not in freed["self"]
    saved_memory.forget()
