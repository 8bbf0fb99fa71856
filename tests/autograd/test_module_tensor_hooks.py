"""A tensor hook registered inside a module's ``forward`` (``h.register_hook(...)``, ``h``
gone with the call): every step gradstep shows is what torch's own node hooks saw.

The oracle is ``backward_oracle.torch_pass``: the same model built here, a plain torch pass
with node pre-hooks and hooks written in the test that copy each gradient when torch hands
it over (a tensor hook runs before its node's pre-hooks, so they see what it made of it).
"""

from __future__ import annotations

import textwrap

import pytest
import torch

from gradstep.autograd import tensor_hooks
from gradstep.autograd.session import Session
from tests.autograd.backward_oracle import assert_same, assert_value, torch_pass

HOOKS = {
    "out of place": "lambda g: g * 2",
    "in place": "lambda g: g.mul_(2)",
    "in place, returns None": "lambda g: (g.mul_(3), None)[1]",
}

MODEL = """
import torch

class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x):
        h = self.lin(x)
        h.register_hook({hook})
        return h.relu()

torch.manual_seed(0)
model = Block()
x = torch.randn(4, 3)
loss = model(x).sum()
"""


def _torch_model(hook: str):
    """The snippet's model and loss, built here with the same seed: the oracle's graph."""
    namespace: dict = {}
    exec(textwrap.dedent(MODEL.format(hook=hook)), namespace)
    return namespace["loss"], namespace["model"]


@pytest.mark.parametrize("hook", HOOKS)
def test_the_snippets_own_pass_shows_what_torch_passed_on_at_every_step(hook):
    source = MODEL.format(hook=HOOKS[hook]) + "loss.backward()\n"
    result = Session().run(source, filename="<snippet>")
    assert result["ok"], result["error"]
    (call,) = result["calls"]
    timeline = call["timeline"]
    assert "no_steps" not in timeline, timeline.get("no_steps")  # dropped before the fix
    loss, model = _torch_model(HOOKS[hook])
    oracle = torch_pass(loss)
    assert_same(timeline, oracle)
    assert len(timeline["steps"]) == len(oracle["order"]) == 6
    assert_value(timeline["leaf_grads"]["lin.weight"], model.lin.weight.grad)


@pytest.mark.parametrize("hook", HOOKS)
def test_gradsteps_own_pass_from_the_root_shows_what_torch_passed_on(hook):
    session = Session()
    result = session.run(MODEL.format(hook=HOOKS[hook]), filename="<snippet>", root="loss")
    assert result["ok"], result["error"]
    got = session.backward()
    loss, _ = _torch_model(HOOKS[hook])
    oracle = torch_pass(loss)
    assert_same(got, oracle)
    assert len(got["steps"]) == 6


def _error_of(register) -> str:
    try:
        register(torch.ones(2), lambda g: g)
    except RuntimeError as exc:
        return str(exc)
    raise AssertionError("no error")


def test_register_hook_is_torchs_own_again_after_the_run_and_its_errors_are_torchs():
    original = torch.Tensor.register_hook
    result = Session().run(MODEL.format(hook="lambda g: g"), filename="<snippet>")
    assert result["ok"], result["error"]
    assert torch.Tensor.register_hook is original
    assert _error_of(tensor_hooks.noting_hooks(original)) == _error_of(original)


def test_the_wrapper_reads_as_torchs_own_function():
    """What a snippet can ask of ``torch.Tensor.register_hook`` without calling it: its names,
    docstring, signature and ``help()`` text are torch's."""
    import inspect
    import pydoc

    original = torch.Tensor.register_hook
    wrapped = tensor_hooks.noting_hooks(original)
    for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
        assert getattr(wrapped, attr) == getattr(original, attr), attr
    assert inspect.signature(wrapped) == inspect.signature(original)
    assert (pydoc.render_doc(wrapped, renderer=pydoc.plaintext)
            == pydoc.render_doc(original, renderer=pydoc.plaintext))


def test_only_the_hooked_nodes_graph_copies():
    """The note is the node's own: a graph without that node keeps the usual hooks."""
    a = torch.ones(2, requires_grad=True)
    h = a * 2
    other = (a * 3).sum()
    registered = tensor_hooks.noting_hooks(torch.Tensor.register_hook)
    registered(h, lambda g: g * 2)
    assert tensor_hooks.has_tensor_hooks({h.grad_fn: "n0"})
    assert not tensor_hooks.has_tensor_hooks({other.grad_fn: "n0"})
    h.sum().backward()
    assert torch.equal(a.grad, torch.full((2,), 4.0))


TABLES = """
import torch
import torch._dynamo.trace_rules
from torch.overrides import TorchFunctionMode, is_tensor_method_or_property, resolve_name

seen = []

class Names(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func.__name__ in ("register_hook", "backward"):
            seen.append((resolve_name(func), is_tensor_method_or_property(func),
                         torch._dynamo.trace_rules.is_aten_op_or_tensor_method(func)))
        return func(*args, **(kwargs or {}))

x = torch.ones(2, requires_grad=True)
with Names():
    y = x * 2
    y.register_hook(lambda g: g * 2)
    (y * y).sum().backward()
print(seen)
"""


def _table_answers() -> list:
    """What torch's tables say of ``Tensor.register_hook`` and ``Tensor.backward`` now."""
    import torch._dynamo.trace_rules
    from torch.overrides import is_tensor_method_or_property, resolve_name

    return [(resolve_name(f), is_tensor_method_or_property(f),
             torch._dynamo.trace_rules.is_aten_op_or_tensor_method(f))
            for f in (torch.Tensor.register_hook, torch.Tensor.backward)]


def test_torchs_tables_of_tensor_methods_know_the_wrappers_in_every_run():
    """torch builds its tables of Tensor's methods once (``functools.cache``): one built in a
    run held that run's wrappers, and the next run's ``resolve_name(func)`` was None (one
    built outside a run, as here, held torch's own: None in the first run too)."""
    plain = _table_answers()
    assert plain == [("torch.Tensor.register_hook", True, True), ("torch.Tensor.backward", True, False)]
    for _ in range(2):  # the window's kernel runs many snippets in one process
        result = Session().run(TABLES, filename="<snippet>")
        assert result["ok"], result["error"]
        assert result["output"].strip() == str(plain)
    assert _table_answers() == plain


def test_a_new_run_forgets_the_nodes_an_earlier_run_hooked():
    """The hooked nodes noted in one run are that run's: the next run of the same session
    (the window's kernel) starts with none, so its passes look none of them up."""
    session = Session()
    first = session.run(MODEL.format(hook=HOOKS["in place"]) + "loss.backward()\n",
                        filename="<snippet>")
    assert first["ok"], first["error"]
    assert tensor_hooks._HOOKED  # the hook inside forward was noted
    second = session.run("import torch\nx = torch.ones(2, requires_grad=True)\n"
                         "loss = (x * 2).sum()\nloss.backward()\n", filename="<snippet>")
    assert second["ok"], second["error"]
    assert not tensor_hooks._HOOKED
    (call,) = second["calls"]
    assert "no_steps" not in call["timeline"]
