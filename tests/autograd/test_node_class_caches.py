"""A custom ``autograd.Function`` the snippet defines makes a node class of its own
(``Twice._backward_cls``), whose methods hold the run's namespace. gradstep's caches keyed
by a node class (``safe_reads.raw_saved_names``, ``saved._KINDS``, ``saved_inputs``' names,
...) kept that class, and through it every object of the run, alive in the kernel's
process after the next run began; a plain run's namespace dies with it. The next run now
drops them (``node_class_caches.forget_custom_classes``), keeping torch's own classes."""

from __future__ import annotations

import gc
import weakref

import torch

from gradstep.autograd import node_class_caches, saved
from gradstep.autograd.safe_reads import raw_saved_names
from gradstep.autograd.session import Session

SNIPPET = """\
class Marker:
    pass
marker = Marker()
class Twice(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        ctx.k = 2
        return t * 2
    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        return g * 2
x = torch.ones(3, requires_grad=True)
y = Twice.apply(x * 1)
print(y.grad_fn.saved_tensors[0].tolist())
y.sum().backward()
del y
drawn = (x * 5).sum()  # the graph drawn: none of Twice's nodes is kept
"""
NEXT = "w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\nloss.backward()\n"


def _refs(namespace: dict) -> tuple:
    return weakref.ref(namespace["marker"]), weakref.ref(namespace["Twice"]._backward_cls)


def test_a_run_s_objects_die_when_the_next_run_starts_as_a_plain_run_s_do():
    plain: dict = {"torch": torch}
    exec(compile(SNIPPET, "<plain>", "exec"), plain)
    refs = _refs(plain)
    del plain
    gc.collect()
    assert [r() for r in refs] == [None, None]  # python: nothing else holds them

    session = Session()
    result = session.run(SNIPPET)
    assert result["ok"] and result["calls"]  # the pass was recorded: its classes were asked
    refs = _refs(session.state.namespace)
    session.run(NEXT)
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_torch_s_own_classes_stay_cached():
    node_class_caches.forget_custom_classes()  # (what an earlier test left)
    y = torch.ones(2, requires_grad=True) * 3
    saved.saved_items(y.grad_fn)
    names = raw_saved_names.cache_info().currsize
    node_class_caches.forget_custom_classes()  # no custom class asked: nothing dropped
    assert raw_saved_names.cache_info().currsize == names and type(y.grad_fn) in saved._KINDS
