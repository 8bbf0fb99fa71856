"""gradstep's own torch work is out of sight of the snippet's modes and profiler."""

from __future__ import annotations

import contextlib
import os
import sys

import pytest
import torch
from torch.nn.modules import module as nn_module
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from gradstep.autograd import step_hooks
from gradstep.autograd.observe import Observer
from gradstep.autograd.session import Session
from gradstep.autograd.unseen import unseen, watched
from tests.plain_runs import plain_python


def _plain_and_gradstep(tmp_path, source: str):
    """Return ``python FILE``'s finished process (forked from a process that imported
    torch once: tests/plain_runs.py) and gradstep's run of the same file."""
    path = tmp_path / "snippet.py"
    path.write_text(source, encoding="utf-8")
    plain = plain_python(path, timeout=300, env={**os.environ, "KINETO_LOG_LEVEL": "6"})
    return plain, Session().run(source, filename=str(path))


class _Functions(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.seen.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


class _Ops(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.append(str(func))
        return func(*args, **(kwargs or {}))


def test_nothing_is_watched_in_a_plain_run():
    assert not watched()


def test_a_function_mode_sees_nothing_done_unseen():
    t = torch.ones(3, requires_grad=True) * 2
    with _Functions() as mode:
        assert watched()
        with unseen():
            t.grad_fn, t._is_view(), (t + 1).sum()
        t.sum()
    assert mode.seen == ["sum"]


def test_a_dispatch_mode_sees_nothing_done_unseen_and_is_back_after():
    t = torch.ones(3)
    with _Ops() as mode:
        assert watched()
        with unseen():
            (t * 2).abs().sum()
        t.neg()
    assert mode.seen == ["aten.neg.default"]


def test_a_profiler_records_nothing_done_unseen():
    t = torch.ones(3)
    with torch.profiler.profile() as prof:
        assert watched()
        with unseen():
            t.abs()
        t.neg()
    names = {event.key for event in prof.key_averages()}
    assert "aten::neg" in names and "aten::abs" not in names
    t.abs()  # op recording is on again after the profiler
    with torch.profiler.profile() as prof:
        t.abs()
    assert "aten::abs" in {event.key for event in prof.key_averages()}


class _Landed(Exception):
    """What a signal handler of the snippet's raises (a timeout)."""


def _exit_with_a_raise_at(k: int, watcher) -> tuple[bool, bool]:
    """Run ``with unseen(): t.abs()`` under ``watcher`` (a profiler, a dispatch mode or
    none) with an exception raised where the ``k``-th Python function called on the way out
    of the block starts (where a signal handler's exception can land: Python runs handlers
    as a function starts and after a call); return whether it landed (``k`` calls were made)
    and whether the snippet's own op after it is watched again and torch functions are on."""
    t, calls, landed = torch.ones(3), [0], [False]

    def tracer(frame, event, arg):
        if event == "call":
            calls[0] += 1
            if calls[0] == k:
                sys.settrace(None)
                landed[0] = True
                raise _Landed
        return None

    with (watcher() if watcher else contextlib.nullcontext()) as watching:
        try:
            with unseen():
                t.abs()
                sys.settrace(tracer)
        except _Landed:
            pass
        finally:
            sys.settrace(None)
        enabled = torch._C._is_torch_function_enabled()
        t.neg()  # the snippet's own op
    if isinstance(watching, torch.profiler.profile):
        seen = {event.key for event in watching.key_averages()}
        assert "aten::abs" not in seen
        watched_again = "aten::neg" in seen
    elif watching is not None:
        watched_again = watching.seen[-1:] == ["aten.neg.default"]
    else:
        watched_again = True
    return landed[0], watched_again and enabled


@pytest.mark.parametrize("watcher", [None, torch.profiler.profile, _Ops])
def test_an_exception_landing_in_the_blocks_exit_leaves_no_switch_set(watcher):
    """A signal handler of the snippet's that raises as an ``unseen()`` block ends (at the
    start of any Python function its exit calls) leaves the snippet's function modes on, its
    dispatch mode and its profiler's op recording on: the profiler recorded none of the
    snippet's later ops when it landed in the exit's callback (recfix3)."""
    k, landed, restored = 0, True, True
    while landed:
        k += 1
        landed, restored = _exit_with_a_raise_at(k, watcher)
        assert restored, k
    assert (k > 1) == (watcher is not None)  # the plain block's exit is torch's own (no
    # Python call); the watched one's runs contextlib's and gradstep's


def test_nested_unseen_blocks_stay_unseen_to_the_end_of_the_outer_one():
    t = torch.ones(3)
    with torch.profiler.profile() as prof:
        with unseen():
            with unseen():  # a summary inside a recorded pass's bookkeeping
                t.abs()
            t.exp()
        t.neg()
    names = {event.key for event in prof.key_averages()}
    assert "aten::neg" in names and not names & {"aten::abs", "aten::exp"}


def test_the_module_hooks_are_no_global_hooks_to_torch_compile():
    asks = nn_module._has_any_global_hook
    assert not asks()
    with Observer().module_hooks():
        assert nn_module._global_forward_hooks  # installed
        assert not nn_module._has_any_global_hook()  # but torch.compile is told of none
        handle = nn_module.register_module_forward_hook(lambda *args: None)
        assert nn_module._has_any_global_hook()  # the snippet's own hook is told of
        handle.remove()
    assert nn_module._has_any_global_hook is asks


LOGGED_SUBCLASS = """\
import torch
from torch.utils._pytree import tree_map


class Logged(torch.Tensor):
    @staticmethod
    def __new__(cls, data):
        return torch.Tensor._make_wrapper_subclass(cls, data.shape, dtype=data.dtype)

    def __init__(self, data):
        self.inner = data

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        print("op", func)
        unwrap = lambda t: t.inner if isinstance(t, Logged) else t
        out = func(*tree_map(unwrap, args), **tree_map(unwrap, kwargs or {}))
        return tree_map(lambda t: Logged(t) if isinstance(t, torch.Tensor) else t, out)


w = torch.ones(3, requires_grad=True)
y = w * Logged(torch.tensor([2.0, 3.0, 4.0]))
y.sum().backward()
print("w.grad", w.grad.inner.tolist())
loss = (w * 3).sum()
loss
"""


@pytest.mark.parametrize("profiled", [False, True], ids=["plain", "under a profiler"])
def test_a_subclass_with_its_own_dispatch_sees_only_its_own_ops(tmp_path, profiled):
    """No node is called over its saved tensor (a Jacobian), none of its gradients is
    copied, read or held (a held one makes AccumulateGrad copy instead of take it); also
    while a profiler records (the hooks then keep copies of plain gradients only)."""
    source = LOGGED_SUBCLASS
    if profiled:
        source = source.replace("y.sum().backward()", "with torch.profiler.profile():\n"
                                "    y.sum().backward()")
    plain, result = _plain_and_gradstep(tmp_path, source)
    assert "op aten.detach.default" in plain.stdout  # AccumulateGrad took the gradient
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    timeline = result["calls"][0]["timeline"]
    assert timeline["steps"] == [] and timeline["leaf_grads"] == {}  # shown: nothing read


COUNTED_SUBCLASS = """\
import torch


class Counted(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        seen.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


seen = []
a = torch.ones(2, requires_grad=True).as_subclass(Counted)
c = (a * 3).sum()
print(seen)
c
"""


@pytest.mark.parametrize("root", [None, "c"], ids=["last expression", "--root c"])
def test_a_subclass_with_its_own_torch_function_sees_nothing_read_after_the_snippet(root):
    """Picking the root and tracing from it read ``grad_fn`` after the snippet ended: the
    subclass's ``__torch_function__`` saw three ``__get__`` calls (and printed them, for a
    subclass that prints), where the plain run ends after its own ``mul`` and ``sum``."""
    session = Session()
    result = session.run(COUNTED_SUBCLASS, root=root)
    assert result["ok"], result["error"]
    assert result["output"] == "['mul', 'sum']\n"
    assert session.state.namespace["seen"] == ["mul", "sum"]
    assert {"SumBackward0", "MulBackward0"} <= {n["name"] for n in result["trace"]["nodes"]}


def test_the_api_traces_out_of_sight_of_the_callers_own_modes():
    import gradstep

    torch.manual_seed(0)
    x = torch.randn(4, 3, requires_grad=True)
    loss = torch.nn.Linear(3, 2)(x).tanh().sum()
    with _Functions() as functions, _Ops() as ops:
        graph = gradstep.trace(loss)
    assert functions.seen == [] and ops.seen == []
    assert graph.number_of_nodes() > 3


def test_the_probe_of_saved_tensors_changed_in_place_is_out_of_sight_of_the_callers_modes():
    """The trace unpacks a saved slot whose version moved: an output its own node saved
    (exp_'s result, saved at version 1) hands out a new tensor, which is a detach to a
    dispatch mode (seen there when not unseen); a changed one raises torch's error."""
    import gradstep
    from gradstep.autograd.saved import saved_items

    a = torch.ones(3, requires_grad=True)
    x = a * 2
    x.exp_()  # ExpBackward0 saves its result at version 1: unpacked, torch hands it out
    b = a * 3
    c = b.sin()
    b.add_(1)  # SinBackward0's self: changed in place
    loss = x.sum() + c.sum()
    with _Ops() as ops:
        saved_items(x.grad_fn)
    assert ops.seen, "the probe would be seen without unseen(): this test checks nothing"
    with _Functions() as functions, _Ops() as ops:
        graph = gradstep.trace(loss)
    assert functions.seen == [] and ops.seen == []
    changed = {a["name"]: (s["version"], s["saved_version"]) for _, a in graph.nodes(data=True)
               for s in a.get("saved") or () if s.get("changed_in_place")}
    assert changed == {"SinBackward0": (1, 0)}


PROFILED = """\
import sys
import torch

names = []
x = torch.ones(3, requires_grad=True)
y = (x * 2).exp().sum()
sys.setprofile(lambda frame, event, arg: names.append(frame.f_code.co_name))
y.backward()
sys.setprofile(None)
print(sorted(set(names) & {"pre_hook", "hook", "record", "precompute"}))
loss = (x * 3).sum()
loss
"""


def test_a_backward_call_under_the_snippets_profile_function_runs_unrecorded(tmp_path):
    """cProfile or a trace function would count every Python call the recording makes."""
    plain, result = _plain_and_gradstep(tmp_path, PROFILED)
    assert plain.stdout == "[]\n"
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    assert result["calls"] == []


COMPILED_BACKWARD = """\
import torch

w = torch.ones(3, requires_grad=True)


@torch.compile(backend="eager")
def train_step(v):
    total = (w * v).sin().sum()
    total.backward()
    return total


print(f"{train_step(torch.arange(3.0)).item():.6f}", w.grad.tolist())
loss = (w * 2).sum()
loss
"""


def test_a_compiled_function_that_calls_backward_does_not_trace_gradsteps_recording(tmp_path):
    """Dynamo breaks the graph at backward() as in a plain run: no warning about
    gradstep's own code (sys._getframe, gc.isenabled) it could not trace."""
    plain, result = _plain_and_gradstep(tmp_path, COMPILED_BACKWARD)
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout + plain.stderr
    assert "Warning" not in result["output"]


SHARED_GRADIENT = """\
import torch

w = torch.zeros(4, requires_grad=True)
g = torch.ones(2, 2)
for _ in range(3):
    w.view(2, 2).backward(g)  # w.grad is a view of g: the later passes add into g itself
print(w.grad.tolist(), g.sum().item())
loss = w.sum()
loss
"""


def test_a_gradient_changed_in_place_during_its_pass_drops_that_pass_steps(tmp_path):
    """The first pass's AccumulateGrad takes g's view as w.grad (as in a plain run, so
    the printed numbers are python's); the later passes add into w.grad, which changes
    the g they were sent while they run: their steps would show changed values, so
    they show none."""
    plain, result = _plain_and_gradstep(tmp_path, SHARED_GRADIENT)
    assert plain.stdout == "[4.0, 4.0, 4.0, 4.0] 16.0\n"
    assert result["output"] == plain.stdout
    steps = [[s["name"] for s in c["timeline"]["steps"]] for c in result["calls"]]
    assert steps == [["ViewBackward0", "AccumulateGrad"], [], []]
    assert all(c["timeline"]["freed"] for c in result["calls"])  # each pass still ran


GRAPH_LIFETIME = """\
# A graph the snippet no longer holds is freed at once in a plain run, and its leaves'
# AccumulateGrad nodes with it: the next graph gets fresh ones. gradstep must not keep a
# recorded call's graph alive (a hook put on the old node kept firing; a parameter pruned
# through .data failed the next backward with the old node's shape; finalizers ran late).
import weakref

import torch
from torch import nn

w = torch.ones(2, requires_grad=True)
for i in range(3):
    total = (w * 2).sum()
    if i == 0:  # on this graph's AccumulateGrad of w only
        total.grad_fn.next_functions[0][0].next_functions[0][0].register_prehook(
            lambda grads: (grads[0] * 10,))
    total.backward()
    del total
print("w.grad", w.grad.tolist())

lin = nn.Linear(4, 4)
lin(torch.ones(2, 4)).sum().backward()
lin.weight.data = lin.weight.data[:2].clone()  # pruned to 2 outputs
lin.bias.data = lin.bias.data[:2].clone()
lin.weight.grad = lin.bias.grad = None
lin(torch.ones(2, 4)).sum().backward()
print("pruned grad", tuple(lin.weight.grad.shape))

h = torch.ones(3, requires_grad=True) * 2
weakref.finalize(h, print, "h freed")
(h * 3).sum().backward()
del h
print("after del h")
loss = lin(torch.ones(1, 4)).sum()
loss
"""


def test_a_recorded_calls_graph_is_freed_when_the_plain_run_frees_it(tmp_path):
    """A hook on an old graph's AccumulateGrad fires once (24, not 60); a parameter pruned
    through .data gets a fresh node (no shape error); a finalizer runs at ``del``. (The
    oracle keeps graphs alive itself, so this is no conformance case.)"""
    plain, result = _plain_and_gradstep(tmp_path, GRAPH_LIFETIME)
    assert "w.grad [24.0, 24.0]" in plain.stdout
    assert "h freed\nafter del h" in plain.stdout
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    assert len(result["calls"]) == 6 and all(c["timeline"]["steps"] for c in result["calls"])


LOSS_LIFETIME = """\
# A call's root whose tensor the snippet holds (l1 of l1.backward()) may join the drawn
# graph; it must not keep the graph below alive once l1 lets it go (detach_, del).
import weakref

import torch

x = torch.tensor([1., 2.], requires_grad=True)
for how in ("detach_", "del"):
    h = x.sigmoid()
    weakref.finalize(h, print, "h freed")
    l1 = (h * h).sum()
    l2 = h.tanh().sum()
    l1.backward(retain_graph=True)
    l2.backward(retain_graph=True)
    del h
    print("after del h")
    if how == "detach_":
        l1.detach_()
    else:
        del l1
    print("after", how)
l2
"""


def test_a_held_losses_graph_is_freed_when_the_loss_lets_it_go(tmp_path):
    """h (saved by l1's MulBackward0 only) is freed at ``l1.detach_()`` and at ``del l1``
    as in python; a call on l1 was drawn by holding l1's node, which kept h alive past
    ``detach_()`` until the run ended."""
    plain, result = _plain_and_gradstep(tmp_path, LOSS_LIFETIME)
    assert "h freed\nafter detach_" in plain.stdout and "h freed\nafter del" in plain.stdout
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout


GRAPH_LIFETIME_DISTRIBUTED = GRAPH_LIFETIME.replace("from torch import nn\n", """\
from torch import nn
import os
import torch.distributed as dist

os.environ["GLOO_SOCKET_IFNAME"] = "lo"
dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
""", 1).replace("\nloss\n", "\ndist.destroy_process_group()\nloss\n")


def test_a_recorded_calls_graph_is_freed_at_the_same_time_under_a_process_group(tmp_path,
                                                                                  monkeypatch):
    """As above while ``torch.distributed`` is on: each pass's first hook then queues the
    summary in torch's engine (``StepRecorder._queue_summary``), which holds the recorder
    until the pass ends; nothing of it may outlive the pass (a finalizer ran late)."""
    queued, torch_queue = [], step_hooks._queue_callback

    def queue(callback):
        queued.append(1)  # (not the callback: it holds the recorder)
        torch_queue(callback)

    monkeypatch.setattr(step_hooks, "_queue_callback", queue)
    plain, result = _plain_and_gradstep(tmp_path, GRAPH_LIFETIME_DISTRIBUTED)
    assert "h freed\nafter del h" in plain.stdout
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    assert len(result["calls"]) == 6 and all(c["timeline"]["steps"] for c in result["calls"])
    assert len(queued) == 6


def test_hooks_set_aside_come_back_in_their_place():
    from gradstep.autograd.observe import _hooks_set_aside

    def hook(*args):
        return None

    first = nn_module.register_module_forward_hook(hook)
    ours = nn_module.register_module_forward_hook(hook, always_call=True)
    last = nn_module.register_module_forward_hook(hook)
    try:
        with _hooks_set_aside({ours.id}):
            assert list(nn_module._global_forward_hooks) == [first.id, last.id]
            assert ours.id not in nn_module._global_forward_hooks_always_called
            meanwhile = nn_module.register_module_forward_hook(hook)
        assert list(nn_module._global_forward_hooks) == [first.id, ours.id, last.id, meanwhile.id]
        assert ours.id in nn_module._global_forward_hooks_always_called
    finally:
        for handle in (first, ours, last, meanwhile):
            handle.remove()


GRADS_BATCHED = """\
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * x
J, = torch.autograd.grad(y, x, torch.eye(3), is_grads_batched=True, retain_graph=True)
print(J.tolist())
with torch.profiler.profile():
    J2, = torch.autograd.grad(y, x, torch.eye(3), is_grads_batched=True)
print(J2.tolist())
loss = (x * 2).sum()
loss
"""


@pytest.mark.parametrize("recorded", ["plain", "under a profiler"])
def test_a_batch_of_gradients_is_not_read_and_the_pass_runs_as_torch_runs_it(tmp_path, recorded):
    """``is_grads_batched=True`` sends torch's legacy vmap BatchedTensors through the graph:
    they have no ``detach`` (gradstep's hooks raised "Batching rule not implemented for
    aten::detach" inside the snippet's call) and no storage to read. The pass keeps no
    steps, the snippet's results are python's."""
    source = GRADS_BATCHED
    if recorded == "plain":  # the hooks' references (no profiler) only
        source = source.replace("with torch.profiler.profile():\n    J2", "J2")
    plain, result = _plain_and_gradstep(tmp_path, source)
    assert "[[2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 6.0]]" in plain.stdout
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    assert [c["timeline"]["steps"] for c in result["calls"]] == [[], []]
    # and each says why (core8: nothing did; the window words it, ``pass_names.pass_note``)
    assert [c["timeline"].get("no_steps") for c in result["calls"]] == ["batched", "batched"]


def test_gradients_summarised_at_once_are_shown_as_torch_had_them(tmp_path, monkeypatch):
    """Past the hooks' limit (here at every hook) a gradient is summarised while its
    version is the one its hook saw, and let go: a later in-place change (the later
    passes add into w.grad, a view of the g they were sent) no longer makes those
    passes' steps wrong, so they show them, with the values of each step. Torch still
    takes an unheld gradient as ``.grad`` (``g.mul_(5)`` changes ``w.grad``)."""
    from gradstep.autograd import step_hooks

    monkeypatch.setattr(step_hooks, "HELD_BYTES", 0, raising=False)
    source = SHARED_GRADIENT.replace("print(w.grad.tolist(), g.sum().item())",
                                     "print(w.grad.tolist(), g.sum().item())\n"
                                     "g.mul_(5)\nprint(w.grad.tolist())")
    plain, result = _plain_and_gradstep(tmp_path, source)
    assert plain.stdout == "[4.0, 4.0, 4.0, 4.0] 16.0\n[20.0, 20.0, 20.0, 20.0]\n"
    assert result["output"] == plain.stdout
    steps = [c["timeline"]["steps"] for c in result["calls"]]
    assert [[s["name"] for s in passed] for passed in steps] == [["ViewBackward0", "AccumulateGrad"]] * 3
    for number, (view, accumulate) in enumerate(steps):
        sent = [1.0, 1.0, 2.0][number]  # g as the pass found it (the first left it as it was)
        assert view["grad_outputs"] == [[[sent, sent], [sent, sent]]]
        assert view["grad_inputs"] == [[sent] * 4] and accumulate["grad_outputs"] == [[sent] * 4]
        assert accumulate["grad_before"] == (None if number == 0 else [sent] * 4)
        assert accumulate["grad_after"] == [[1.0, 2.0, 4.0][number]] * 4


WATCHED_PASSES = """\
import torch
from torch.utils.flop_counter import FlopCounterMode

torch.manual_seed(0)
m = torch.nn.Linear(8, 8)
x = torch.randn(4, 8, requires_grad=True)
loss = m(x).tanh().sum()
with FlopCounterMode(display=False) as flops:
    loss.backward(retain_graph=True)
print(flops.get_total_flops())
with torch.profiler.profile() as prof:
    loss.backward()
print(sorted(e.name for e in prof.events()))
print(x.grad.sum().item(), m.weight.grad.sum().item())
loss = m(x).sum()
loss
"""


def test_gradients_summarised_at_once_are_out_of_sight_of_the_snippets_modes(tmp_path, monkeypatch):
    """Summaries made inside the hooks (past the limit: here at every hook) run unseen:
    the snippet's FlopCounterMode and profiler count what python's do."""
    from gradstep.autograd import step_hooks

    monkeypatch.setattr(step_hooks, "HELD_BYTES", 0, raising=False)
    plain, result = _plain_and_gradstep(tmp_path, WATCHED_PASSES)
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    assert all(len(c["timeline"]["steps"]) > 3 for c in result["calls"])


GRAD_OF_A_SUBCLASS = """\
import torch

calls = []


class Logged(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        calls.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
x.grad = torch.tensor([10.0, 20.0, 30.0]).as_subclass(Logged)
loss = (x * 2).sum()
loss.backward()
print(type(x.grad).__name__, x.grad.tolist(), calls)
"""


def test_copying_a_subclass_leaf_grad_before_a_step_runs_none_of_its_code():
    """The leaf's ``.grad`` copied before AccumulateGrad adds into it: the copy (and the
    hunt-12 reads of ``is_nested`` and ``layout``) went through the subclass's
    ``__torch_function__``, so the snippet logged ``__get__``, ``detach``, ``clone``."""
    session = Session()
    result = session.run(GRAD_OF_A_SUBCLASS)
    assert result["ok"], result["error"]
    assert result["output"] == "Logged [12.0, 22.0, 32.0] ['tolist']\n"
    steps = result["calls"][0]["timeline"]["steps"]
    leaf = next(step for step in steps if step.get("leaf") == "x")
    assert leaf["grad_before"] == [10.0, 20.0, 30.0] and leaf["grad_after"] == [12.0, 22.0, 32.0]
