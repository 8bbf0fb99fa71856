"""gradstep's own reads of a tensor subclass's tensors (a leaf, a saved tensor, the root)
run none of the subclass's code: a subclass that logs its calls logs what plain python
makes it log, no more (docs/fidelity.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gradstep.autograd.session import Session
from tests.plain_runs import plain_python

ROOT = Path(__file__).resolve().parents[2]

LOGGING_S = """\
import torch


class S(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        seen.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


seen = []
torch.manual_seed(0)
"""

FUNCTION_SUBCLASS = LOGGING_S + """\
w = S(torch.randn(3, 3)).requires_grad_()
x = torch.randn(3).as_subclass(S)
loss = ((w @ x).sigmoid() * w.sum(0)).sum()
"""

DISPATCH_SUBCLASS = """\
import torch
from torch.utils._pytree import tree_map


class W(torch.Tensor):
    @staticmethod
    def __new__(cls, elem):
        return torch.Tensor._make_wrapper_subclass(cls, elem.shape, dtype=elem.dtype,
                                                   requires_grad=elem.requires_grad)

    def __init__(self, elem):
        self.elem = elem

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        seen.append(str(func))
        out = func(*tree_map(lambda t: t.elem if isinstance(t, W) else t, args),
                   **tree_map(lambda t: t.elem if isinstance(t, W) else t, kwargs or {}))
        return tree_map(lambda t: W(t) if isinstance(t, torch.Tensor) else t, out)


seen = []
w = W(torch.randn(3)).requires_grad_()
x = W(torch.randn(3))
loss = (w * x).sum()
"""


def _plain_seen(source: str) -> list:
    namespace: dict = {}
    exec(compile(source, "<plain>", "exec"), namespace)  # the oracle: torch alone
    return namespace["seen"]


@pytest.mark.parametrize("source", [FUNCTION_SUBCLASS, DISPATCH_SUBCLASS],
                         ids=["torch_function", "torch_dispatch"])
def test_the_trace_inspect_and_stats_run_no_code_of_the_subclass(source):
    """The trace read a subclass leaf's ``shape``, ``dtype``, ``device`` and a saved
    tensor's ``shape``/``_is_view`` through ``__torch_function__``; inspecting a node its
    ``.grad`` and its inputs' dtype; gradstep's pass its hooks' ``.grad`` reads and the
    storage checks before it; ``zero_grad`` its ``__set__``."""
    plain = _plain_seen(source)
    session = Session()
    result = session.run(source, root="loss")
    assert result["ok"], result["error"]
    seen = session.state.namespace["seen"]
    assert seen == plain
    assert {"leaf", "op"} <= {n["kind"] for n in result["trace"]["nodes"]}
    if "class S(" in source:  # (the pass computes on a dispatch subclass's gradients: its ops)
        timeline = session.backward(retain_graph=True)
        assert timeline["error"] is None
        # the pass itself: torch hands ``torch.autograd.backward`` to the subclass, as for
        # the snippet's own ``loss.backward()``; none of gradstep's reads around it
        plain = [*plain, "backward"]
        assert seen == plain
    for node_id in list(session.state.trace.node_of):
        session.inspect(node_id)
    session.grad_stats()
    session.zero_grad()
    assert seen == plain


def test_the_api_reads_a_subclass_out_of_its_sight():
    """``gradstep.trace`` reads nothing through the subclass; ``gradstep.backward`` runs the
    pass the caller asked for (torch hands ``backward`` to the subclass, as for the caller's
    own ``loss.backward()``) and nothing else."""
    import gradstep

    namespace: dict = {}
    exec(compile(FUNCTION_SUBCLASS, "<api>", "exec"), namespace)
    seen, loss = namespace["seen"], namespace["loss"]
    before = list(seen)
    gradstep.trace(loss)
    assert seen == before
    timeline = gradstep.backward(loss)
    assert timeline["error"] is None
    assert seen == [*before, "backward"]


PRINTING = """\
import torch


class S(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        print("S", getattr(func, "__name__", func))
        return super().__torch_function__(func, types, args, kwargs or {})


w = S(torch.randn(3)).requires_grad_()
loss = (w * torch.randn(3)).sum()
loss.backward()
print("done")
"""


def test_a_printing_subclass_prints_what_python_prints(tmp_path):
    """Byte for byte: before, ``S __get__`` came out four times past ``done``. (``trace``,
    ``check`` and ``export`` run the same session: one command here, ~10 s a kernel.)"""
    path = tmp_path / "snippet.py"
    path.write_text(PRINTING, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    plain = plain_python(path, timeout=120)
    assert "S __get__" not in plain.stdout and plain.stdout.endswith("done\n")
    ran = subprocess.run([sys.executable, "-m", "gradstep", "backward", "--json", str(path), "--root", "loss"],
                         capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == plain.stdout


MODE_LEFT_ON = """\
import torch
from torch.overrides import TorchFunctionMode


class Log(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        seen.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


seen = []
torch.manual_seed(0)
w = torch.randn(3, 3, requires_grad=True)
p = torch.nn.Parameter(torch.randn(3))
h = w @ torch.randn(3)
h.retain_grad()
Log().__enter__()  # left on when the snippet ends
loss = (h.sigmoid() * p * w.sum(0)).sum()
"""


def _pop_modes_above(depth: int) -> None:
    while torch._C._len_torch_function_stack() > depth:
        torch._C._pop_torch_function_stack()


def test_a_mode_the_snippet_left_on_sees_only_what_python_shows_it():
    """A TorchFunctionMode the snippet pushed and never popped is on while gradstep walks,
    inspects, runs its pass and reads the grads: it sees the pass's ``backward`` (as the
    snippet's own ``loss.backward()`` shows it) and none of gradstep's reads (the pass's
    ``retains_grad`` read of the snippet's names was one)."""
    depth = torch._C._len_torch_function_stack()
    namespace: dict = {}
    try:
        exec(compile(MODE_LEFT_ON, "<plain>", "exec"), namespace)
        plain_run = list(namespace["seen"])
        namespace["loss"].backward(retain_graph=True)  # the oracle's pass, the mode still on
        plain_pass = list(namespace["seen"])
    finally:
        _pop_modes_above(depth)
    session = Session()
    try:
        result = session.run(MODE_LEFT_ON, root="loss")
        assert result["ok"], result["error"]
        seen = session.state.namespace["seen"]
        assert seen == plain_run
        for node_id in list(session.state.trace.node_of):
            session.inspect(node_id)
        assert seen == plain_run
        timeline = session.backward(retain_graph=True)
        assert timeline["error"] is None
        assert seen == plain_pass
        with torch._C.DisableTorchFunction():  # (the test's own reads: out of the mode's sight)
            for name in ("w", "p", "h"):
                assert torch.equal(session.state.namespace[name].grad, namespace[name].grad)
        session.grad_stats()
        session.zero_grad()
        assert seen == plain_pass
    finally:
        _pop_modes_above(depth)


HOOK_RUNS_SUBCLASS_CODE = LOGGING_S + """\
k = S(torch.randn(3))
w = torch.randn(3, requires_grad=True)
w.register_hook(lambda g: g * k)  # the snippet's hook: torch runs S's code in the pass
loss = (w * torch.randn(3)).sum()
"""


def test_the_snippets_hooks_in_gradstep_pass_run_its_subclass_code():
    """gradstep's pass is not under its ``plain_reads``: a hook of the snippet's that
    computes with a subclass tensor runs the subclass's code as in python's pass."""
    namespace: dict = {}
    exec(compile(HOOK_RUNS_SUBCLASS_CODE, "<plain>", "exec"), namespace)
    namespace["loss"].backward()
    session = Session()
    result = session.run(HOOK_RUNS_SUBCLASS_CODE, root="loss")
    assert result["ok"], result["error"]
    timeline = session.backward()
    assert timeline["error"] is None
    assert "mul" in namespace["seen"]
    assert session.state.namespace["seen"] == namespace["seen"]
    assert torch.equal(session.state.namespace["w"].grad, namespace["w"].grad)


def test_a_callers_mode_sees_the_api_run_only_the_pass_it_asked_for():
    """``gradstep.trace`` and ``gradstep.backward`` under a TorchFunctionMode of the caller's:
    the mode sees what the caller's own ``loss.backward()`` shows it (the grads set aside
    around the pass entered ``no_grad`` where the mode saw ``_set_grad_enabled`` 4 times)."""
    import gradstep

    depth = torch._C._len_torch_function_stack()
    plain: dict = {}
    api: dict = {}
    try:
        exec(compile(MODE_LEFT_ON, "<plain>", "exec"), plain)
        before = len(plain["seen"])
        plain["loss"].backward()
    finally:
        _pop_modes_above(depth)
    try:
        exec(compile(MODE_LEFT_ON, "<api>", "exec"), api)
        assert api["seen"][:before] == plain["seen"][:before]
        gradstep.trace(api["loss"])
        assert api["seen"][before:] == []
        timeline = gradstep.backward(api["loss"])
    finally:
        _pop_modes_above(depth)
    assert timeline["error"] is None
    assert api["seen"][before:] == plain["seen"][before:]
