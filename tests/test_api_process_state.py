"""The API leaves the caller's process as plain Python would have left it.

A user's script or notebook keeps running after ``gradstep.trace``, ``backward``,
``draw``, ``step_through`` and ``record`` return, so each call is compared here with the
same lines without it (in this process: the state just before the call): the random
generators (torch, numpy, ``random``), grad and inference mode, the default dtype,
print options, threads, deterministic algorithms, anomaly mode, the torch-function and
dispatch mode stacks, saved-tensor default hooks, global module hooks, warning filters
and a warning's once-per-place record, recursion limit, signal handlers, the collector,
trace and profile functions, logging, the hooks on every node, tensor and module, the
weak references on the modules, parameters, their ``.grad`` and tensors, the
modules' training mode, the parameters' storage and versions, ``.grad`` objects, and
that the graph can still be backwarded. docs/fidelity.md lists them.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import random
import signal
import sys
import threading
import warnings
import weakref

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

import gradstep


def _process_state() -> dict:
    po = torch._tensor_str.PRINT_OPTS
    module = nn.modules.module
    return {
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state()[1].copy(),
        "python_rng": random.getstate(),
        "grad_mode": (torch.is_grad_enabled(), torch.is_inference_mode_enabled()),
        "default_dtype": torch.get_default_dtype(),
        "print_options": (po.precision, po.threshold, po.edgeitems, po.linewidth, po.sci_mode),
        "threads": (torch.get_num_threads(), torch.get_float32_matmul_precision()),
        "deterministic": (torch.are_deterministic_algorithms_enabled(),
                          torch.is_deterministic_algorithms_warn_only_enabled()),
        "anomaly": (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()),
        "modes": (torch._C._len_torch_function_stack(), len(_get_current_dispatch_mode_stack())),
        "saved_tensor_hooks": torch._C._autograd._top_saved_tensors_default_hooks(False),
        "module_hooks": (dict(module._global_forward_hooks), dict(module._global_forward_pre_hooks),
                         dict(module._global_backward_hooks)),
        "warning_filters": list(warnings.filters),
        "recursion_limit": sys.getrecursionlimit(),
        "signals": {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM,
                                                      signal.SIGCHLD, signal.SIGPIPE)},
        "collector": (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()),
        "trace_profile": (sys.gettrace(), sys.getprofile(), threading._trace_hook,
                          threading._profile_hook),
        "logging": (logging.root.level, list(logging.root.handlers), logging.root.manager.disable),
        "hooks": (sys.excepthook, threading.excepthook, sys.displayhook),
        "threads_alive": sorted(t.name for t in threading.enumerate()),
    }


def _graph_nodes(root) -> list:
    seen, stack = {}, [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is not None and id(fn) not in seen:
            seen[id(fn)] = fn
            stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return list(seen.values())


def _node_hook_counts(root) -> list:
    """How many hooks and pre-hooks each node holds (through a handle of the test's own)."""
    counts = []
    for fn in _graph_nodes(root):
        post, pre = fn.register_hook(lambda *a: None), fn.register_prehook(lambda *a: None)
        counts.append((len(post.hooks_dict_ref()), len(pre.hooks_dict_ref())))
        post.remove()
        pre.remove()
    return counts


def _objects_state(net, tensors, loss) -> list:
    state = [(name, m.training, dict(m._forward_hooks), dict(m._forward_pre_hooks),
              dict(m._backward_hooks), dict(m._backward_pre_hooks))
             for name, m in net.named_modules()]
    # the weak references on each tensor, as ``weakref.getweakrefcount`` reads them (none of
    # gradstep's may stay: the caller's code would count them; the modules': below)
    state += [(name, weakref.getweakrefcount(p), p.grad is not None and weakref.getweakrefcount(p.grad))
              for name, p in net.named_parameters()]
    # a .grad by its id (the object is kept too, so no new one can take its id) and values
    state += [(name, p.data_ptr(), p._version, (id(p.grad), p.grad), None if p.grad is None else p.grad.clone())
              for name, p in net.named_parameters()]
    for t in tensors:
        grad = t.grad if t.is_leaf or t.retains_grad else None
        state.append((t.requires_grad, t.retains_grad, t._version, (id(grad), grad),
                      None if grad is None else grad.clone(), dict(t._backward_hooks or {}),
                      t.grad_fn, sys.getrefcount(t), weakref.getweakrefcount(t)))
    state.append(_node_hook_counts(loss))
    return state


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a is b or (a.shape == b.shape and torch.equal(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a is b or a == b


def _record(net, x):
    with gradstep.record():
        net(x)


def _record_deep(net, x):
    with gradstep.record(deep=True):
        net(x)


CALLS = {
    "trace": lambda net, x, loss: gradstep.trace(loss),
    "backward": lambda net, x, loss: gradstep.backward(loss),
    "backward_grad_mode": lambda net, x, loss: gradstep.backward(loss, mode="grad"),
    "draw": lambda net, x, loss: gradstep.draw(loss).svg,
    "step_through": lambda net, x, loss: gradstep.step_through(
        loss, timeline=gradstep.backward(loss))._repr_html_(),
    "record": lambda net, x, loss: _record(net, x),
    "record_deep": lambda net, x, loss: _record_deep(net, x),
    "refused": lambda net, x, loss: gradstep.trace(net),
}


CONTEXTS = {"plain": contextlib.nullcontext,
            "no_grad": torch.no_grad,  # the call made inside the caller's no_grad block
            "inference_mode": torch.inference_mode,
            "anomaly": lambda: torch.autograd.set_detect_anomaly(True, check_nan=False)}


def _model():
    """Return a small model, its input, a ``retain_grad()`` activation and the loss; the
    first layer's weight holds a ``.grad`` already."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).train()
    x = torch.randn(2, 3, requires_grad=True)
    h = net[0](x)
    h.retain_grad()
    loss = net[2](net[1](h)).square().mean()
    net[0].weight.grad = torch.ones_like(net[0].weight)
    return net, x, h, loss


@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("call", list(CALLS))
def test_each_call_leaves_the_process_as_without_it(call, context):
    net, x, h, loss = _model()
    tensors = [x, h, loss, net[0].weight]
    # (torch itself may hold some: once torch.compile ran in the process, dynamo keeps one on
    # every module made; the call must add none but ``record``'s)
    modules_before = [weakref.getweakrefcount(m) for m in net.modules()]
    with CONTEXTS[context]():
        process, objects = _process_state(), _objects_state(net, tensors, loss)
        try:
            CALLS[call](net, x, loss)
        except TypeError as error:  # the refusal: gradstep's own words
            assert call == "refused" and "pass a tensor computed with it" in str(error)
        after_process = _process_state()
    assert [k for k in process if not _same(process[k], after_process[k])] == []
    assert _same(objects, _objects_state(net, tensors, loss))
    # ``record`` keeps one weak reference on each module called in its block (docs/fidelity.md)
    called = {"record", "record_deep"}
    assert [weakref.getweakrefcount(m) for m in net.modules()] == \
        [count + (call in called) for count in modules_before]
    want = torch.autograd.grad(loss, [x], retain_graph=True)  # the graph still backwards
    loss.backward()
    assert torch.equal(x.grad, want[0])


def test_a_warning_shown_once_before_a_call_is_not_shown_again_after_it():
    """Python shows a warning once per place (the ``default`` action); a call that reset
    the registries (``warnings.catch_warnings`` changing a filter does) would show it again."""
    x = torch.ones(2, requires_grad=True)
    loss = (x * 2).sum()
    shown = []
    old_show = warnings.showwarning
    warnings.showwarning = lambda message, *a, **k: shown.append(str(message))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            for round_ in range(2):
                warnings.warn("once per place", UserWarning, stacklevel=1)
                if round_ == 0:
                    gradstep.trace(loss)
                    gradstep.backward(loss)
                    with gradstep.record(deep=True):
                        (x * 3).sum()
    finally:
        warnings.showwarning = old_show
    assert shown == ["once per place"]


def _interrupt_in_a_hook(h):
    """A Ctrl-C that lands in the caller's own tensor hook, at the pass's first gradient."""
    fired = []

    def stop(grad):
        if not fired:
            fired.append(True)
            raise KeyboardInterrupt
    return h.register_hook(stop)


def _interrupt_in_gradsteps_hook(monkeypatch):
    """A Ctrl-C that lands in gradstep's own pre-hook on a node (where a real one lands most
    often: its hooks run at every node), once; returns the list that says it did."""
    from gradstep.autograd import step_hooks

    fired = []

    def interrupting(pre):
        def hook(*args):
            if not fired:
                fired.append(True)
                raise KeyboardInterrupt
            return pre(*args)
        return hook

    shared, per_node, unseen = step_hooks._shared_hooks, step_hooks._hooks, step_hooks._unseen_hooks

    def shared_hooks(*args):
        pre, post = shared(*args)
        return interrupting(pre), post

    def node_hooks(make):
        def hooks(*args):
            hooks_for = make(*args)

            def for_node(node_id):
                pre, post = hooks_for(node_id)
                return interrupting(pre), post
            return for_node
        return hooks
    monkeypatch.setattr(step_hooks, "_shared_hooks", shared_hooks)
    monkeypatch.setattr(step_hooks, "_hooks", node_hooks(per_node))
    monkeypatch.setattr(step_hooks, "_unseen_hooks", node_hooks(unseen))
    return fired


@pytest.mark.parametrize("where", ["the caller's hook", "gradstep's hook"])
@pytest.mark.parametrize("mode", ["backward", "grad"])
def test_a_keyboard_interrupt_during_backward_goes_on_up_and_leaves_the_process_as_it_was(
        where, mode, monkeypatch):
    """Ctrl-C in the middle of ``gradstep.backward``: the KeyboardInterrupt reaches the caller
    (as from ``loss.backward()``), and gradstep's hooks are off, grad mode and every
    ``.grad`` are back, and the graph still runs backward as torch computes it."""
    net, x, h, loss = _model()
    if where == "the caller's hook":
        handle = _interrupt_in_a_hook(h)
    else:
        handle, fired = None, _interrupt_in_gradsteps_hook(monkeypatch)
    tensors = [x, h, loss, net[0].weight]
    process, objects = _process_state(), _objects_state(net, tensors, loss)
    # called from a frame of its own, as CALLS are: before 3.13 the caller's f_locals dict,
    # which gradstep reads for names, holds every local until that frame returns
    # (docs/fidelity.md); not pytest.raises: its traceback would hold the tensors
    try:
        (lambda: gradstep.backward(loss, mode=mode))()
    except KeyboardInterrupt:
        interrupted = True
    else:
        interrupted = False
    assert interrupted
    if handle is None:
        assert fired  # the interrupt came from gradstep's own hook
    assert [k for k in process if not _same(process[k], _process_state()[k])] == []
    assert _same(objects, _objects_state(net, tensors, loss))
    if handle is not None:
        handle.remove()
    want = torch.autograd.grad(loss, [x], retain_graph=True)
    loss.backward()
    assert torch.equal(x.grad, want[0])
