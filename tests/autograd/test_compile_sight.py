"""Dynamo compiles with gradstep's global module hooks out of its sight."""

from __future__ import annotations

import os

import pytest
import torch
from torch.nn.modules import module as nn_module

from gradstep.autograd.observe import Observer
from gradstep.autograd.session import Session
from tests.plain_runs import plain_python

COMPILED = """\
import torch
from torch import nn

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 1))
compiled = torch.compile(net, backend="aot_eager")
x = torch.randn(3, 4)
for step in range(2):
    loss = compiled(x + step).pow(2).mean()
node = loss.grad_fn.next_functions[0][0].next_functions[0][0]
print(node.name(), [fn is None for fn, _ in node.next_functions])
print(dict(torch._dynamo.utils.counters["stats"]))
loss.backward()
print([round(p.grad.norm().item(), 5) for p in net.parameters()])
loss
"""


def test_a_compiled_module_takes_its_inputs_in_the_plain_runs_order(tmp_path):
    """The CompiledFunctionBackward's slots and dynamo's counters are python's, also
    after the snippet's own torch._dynamo.reset(); before, x took slot 0 and every
    parameter moved one slot on."""
    path = tmp_path / "snippet.py"
    path.write_text(COMPILED, encoding="utf-8")
    plain = plain_python(path, timeout=300, env={**os.environ, "KINETO_LOG_LEVEL": "6"})
    assert "[False, False, True, False, False]" in plain.stdout  # x, no grad, in slot 2
    for source in (COMPILED, COMPILED.replace("compiled = ", "torch._dynamo.reset()\ncompiled = ")):
        import torch._dynamo  # noqa: F401  (the second run finds it loaded)

        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()
        result = Session().run(source, filename=str(path))
        assert result["ok"], result["error"]
        assert result["output"] == plain.stdout + plain.stderr


def _hooks() -> dict:
    return {name: list(getattr(nn_module, name)) for name in
            ("_global_forward_pre_hooks", "_global_forward_hooks")}


def test_the_hooks_are_out_of_the_dicts_only_while_dynamo_compiles():
    """Inside the context dynamo enters around each frame it compiles gradstep's hooks are
    out of torch's dicts, nested too, also after the snippet's torch._dynamo.reset() and
    when the compile raises; they are back in their place after it, and torch's own
    function is back after the block."""
    import torch._dynamo

    torchs = torch.compiler._compile_session_context
    before = _hooks()
    seen = []
    with Observer().module_hooks():
        mine = _hooks()
        assert mine != before
        for _ in range(2):
            with torch.compiler._compile_session_context():
                seen.append(_hooks())
                with torch.compiler._compile_session_context():
                    seen.append(_hooks())
                seen.append(_hooks())
            assert _hooks() == mine
            torch._dynamo.reset()
        with pytest.raises(ValueError), torch.compiler._compile_session_context():
            raise ValueError
        assert _hooks() == mine
    assert seen == [before] * 6
    assert _hooks() == before
    assert torch.compiler._compile_session_context is torchs


def test_a_compile_that_raises_puts_the_hooks_back():
    """fullgraph=True over a graph break raises in dynamo's compile: the module calls
    after it run with gradstep's hooks in their place again."""
    net = torch.nn.Linear(2, 2)

    def broken(x):
        print(end="")
        return net(x)

    compiled = torch.compile(broken, backend="eager", fullgraph=True)
    with Observer().module_hooks():
        mine = _hooks()
        with pytest.raises(torch._dynamo.exc.Unsupported):
            compiled(torch.ones(1, 2))
        assert _hooks() == mine
