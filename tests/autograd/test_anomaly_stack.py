"""Anomaly mode's "Traceback of forward call" under gradstep holds the frames ``python FILE``
shows: the snippet's and torch's, not the kernel's below the snippet (worker.py, session.py,
runner.py's ``exec``) nor gradstep's own on the way (``--deep-values``' mode).

torch's own frames are those that ran: a module's ``_call_impl`` takes its slower path
(``inner()``) where global module hooks are set, as gradstep's are, and ``--deep-values``'
mode adds ``handle_torch_function``; those are compared apart from the rest."""

from __future__ import annotations

import os

import pytest
import torch

from gradstep.autograd.runner import run_snippet

ORIGINAL = torch.fx.traceback.format_stack  # torch's, as imported before any run

SOURCE = """\
torch.autograd.set_detect_anomaly(True)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
    def forward(self, x):
        return F.relu(self.fc(x))
y = Net()(torch.ones(1, 3))
stack = y.grad_fn.metadata["traceback_"]
torch.autograd.set_detect_anomaly(False)
"""


def _plain_stack(filename: str) -> list[str]:
    """torch's stack on the plain run, from the snippet's own frame (this test's below cut)."""
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(SOURCE, filename, "exec"), namespace)
    stack = namespace["stack"]
    first = next(i for i, entry in enumerate(stack) if entry.startswith(f'  File "{filename}"'))
    return stack[first:]


def _outside_torch(stack: list[str], *more: str) -> list[str]:
    torch_folder = os.path.dirname(torch.__file__)
    return [entry for entry in stack
            if not (torch_folder in entry and entry.split(",")[0].endswith(more or ".py\""))]


@pytest.mark.parametrize("deep", [False, True])
def test_the_forward_calls_traceback_holds_the_plain_runs_frames(tmp_path, deep):
    path = tmp_path / "net.py"
    path.write_text(SOURCE)
    result = run_snippet(SOURCE, filename=str(path), deep=deep)
    assert result.error is None, result.error
    stack = result.namespace["stack"]
    plain = _plain_stack(str(path))
    assert _outside_torch(stack) == _outside_torch(plain), "".join(stack)
    assert all("gradstep" not in entry.split(",")[0] for entry in stack), "".join(stack)
    if not deep:  # torch's frames too, but for _call_impl's path
        assert _outside_torch(stack, "module.py\"") == _outside_torch(plain, "module.py\"")
    assert stack[0].startswith(f'  File "{path}", line 8, in <module>')
    assert any("in forward" in entry for entry in stack)  # the snippet's own method
    assert torch.fx.traceback.format_stack is ORIGINAL  # put back (a wraps() copy has its
    # __module__ and __name__ too)


def test_torchs_format_stack_is_put_back_after_a_failure_and_a_stop(tmp_path):
    """The snippet's own exception, and a SystemExit, leave torch's function as it was."""
    path = str(tmp_path / "fails.py")
    for source in ("x = torch.ones(1)\nraise ValueError('no')\n", "import sys\nsys.exit(3)\n"):
        result = run_snippet(source, filename=path)
        assert result.error is not None
        assert torch.fx.traceback.format_stack is ORIGINAL
