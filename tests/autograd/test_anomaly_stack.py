"""Anomaly mode's "Traceback of forward call" under gradstep holds the frames ``python FILE``
shows: the snippet's and torch's, not the kernel's below the snippet (worker.py, session.py,
runner.py's ``exec``) nor gradstep's own on the way (``--deep-values``' mode).

torch's own frames are those that ran: a module's ``_call_impl`` takes its slower path
(``inner()``) where global module hooks are set, as gradstep's are, and ``--deep-values``'
mode adds ``handle_torch_function``; those are compared apart from the rest."""

from __future__ import annotations

import os
import traceback

import pytest
import torch

from gradstep.autograd.runner import run_snippet

ORIGINAL = torch.fx.traceback.format_stack  # torch's, as imported before any run
ORIGINAL_WALK = traceback.walk_stack

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


STACKS = """\
import logging, traceback, io
stacks = []
def hook(g):
    stacks.append(traceback.format_stack())
    stacks.append([tuple(e) for e in traceback.extract_stack()])
    stacks.append([tuple(e) for e in traceback.extract_stack(limit=3)])
    stacks.append([tuple(e) for e in traceback.extract_stack(limit=-2)])
    return g
def deeper(n):
    return deeper(n - 1) if n else traceback.format_stack()
x = torch.ones(2, requires_grad=True)
y = (x * 2).sum()
y.register_hook(hook)
y.backward()
torch.autograd.grad((x * 3).sum(), x, grad_outputs=None)
x.register_hook(hook)
(x.sin().sum(),)[0].backward()
stacks.append(deeper(2))
out = io.StringIO()
logging.getLogger("stacks").addHandler(logging.StreamHandler(out))
logging.getLogger("stacks").warning("w", stack_info=True)
stacks.append(out.getvalue().splitlines())
"""


def test_print_stack_in_a_hook_shows_the_plain_runs_frames(tmp_path):
    """``traceback.format_stack``/``extract_stack`` (and so ``print_stack`` and logging's
    ``stack_info``) in a hook during a recorded backward call, and at top level, give the
    frames ``python FILE`` has: the call line once (not again as the moved frame that names
    it in warnings), no gradstep frames between, none of the kernel's below ``<module>``."""
    path = str(tmp_path / "stacks.py")
    (tmp_path / "stacks.py").write_text(STACKS)  # the lines each entry quotes
    plain = {"torch": torch, "__name__": "__main__"}
    exec(compile(STACKS, path, "exec"), plain)

    def from_snippet(stack):  # this test's frames below the plain run's <module> cut
        if stack and isinstance(stack[0], str) and not stack[0].startswith("  File"):
            return stack  # logging's lines: cut below
        first = next((i for i, entry in enumerate(stack)
                      if path in str(entry) and "<module>" in str(entry)), None)
        return stack[first:] if first is not None else stack

    expected = [from_snippet(stack) for stack in plain["stacks"]]
    for i in (3, 7):  # limit=-2: the outermost two, which are this test's here
        expected[i] = expected[i - 2][:2]
    expected[-1] = _logged_from_snippet(expected[-1], path)
    result = run_snippet(STACKS, filename=path)
    assert result.error is None, result.error
    assert len(result.calls) == 3 and all(call["timeline"]["steps"] for call in result.calls)
    got = list(result.namespace["stacks"])
    got[-1] = _logged_from_snippet(got[-1], path)
    assert got == expected
    assert sum("line 14, in <module>" in entry for entry in got[0]) == 1
    assert traceback.walk_stack is ORIGINAL_WALK  # put back


def _logged_from_snippet(lines: list[str], path: str) -> list[str]:
    first = next(i for i, line in enumerate(lines) if path in line)
    return lines[first:]
