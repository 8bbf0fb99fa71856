"""tests/command_runs.py: a command run on the shared kernel after another starts as on a
fresh command's kernel.

A command's own kernel is a new process; the tests that run commands here share one per
module. The first command on a new ``SharedKernel`` is a fresh command's run (the oracle);
after a command that switched process-wide state and was stopped by its ``--timeout``, the
same command on the same process (the pid is checked: no restart hides a leak) must print,
exit and write its JSON as that first one did. What the kernel does not set back (a module
the snippet imported stays imported, the random generators go on, torch's node sequence
numbers go on: docs/fidelity.md) the table's and these files' snippets do not read.
"""

from __future__ import annotations

import json

import pytest

from tests.command_runs import SharedKernel, commands_on, run_command

pytestmark = pytest.mark.slow  # a kernel process

# prints what a run reads of the process; a graph so that trace draws and exits 0
PROBE = """\
import builtins, json, os, signal, sys, torch
handler = signal.getsignal(signal.SIGINT)
print(json.dumps({
    "dtype": str(torch.get_default_dtype()), "grad": torch.is_grad_enabled(),
    "print": {k: getattr(torch._tensor_str.PRINT_OPTS, k)
              for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")},
    "threads": torch.get_num_threads(), "anomaly": torch.is_anomaly_enabled(),
    "cwd": os.getcwd(), "env": os.environ.get("GRADSTEP_LEAK"), "path": sys.path,
    "recursion": sys.getrecursionlimit(), "leaked": hasattr(builtins, "leaked"),
    "sigint": getattr(handler, "__qualname__", repr(handler)),
    "argv": sys.argv, "main": __name__, "names": sorted(n for n in globals() if n[0] != "_"),
}))
print(torch.tensor([1 / 3, 2e-5]))
x = torch.ones(2, requires_grad=True)
loss = (x / 3).sum()
"""

# switches what it can, leaves a file open and its names set, then runs into --timeout
LEAK = """\
import builtins, os, signal, sys, torch
torch.set_default_dtype(torch.float64)
torch.set_printoptions(precision=1, sci_mode=True)
torch.set_num_threads(1)
torch.autograd.set_detect_anomaly(True)
os.chdir("/")
os.environ["GRADSTEP_LEAK"] = "1"
sys.path.insert(0, "/leak")
sys.setrecursionlimit(200)
signal.signal(signal.SIGINT, signal.SIG_IGN)
builtins.leaked = 1
kept = open(__file__)
w = torch.ones(2, requires_grad=True)
loss = (w * 2).sum()
torch.set_grad_enabled(False)
signal.signal(signal.SIGINT, signal.default_int_handler)
while True:
    pass
"""


def _unsequenced(out: str) -> dict:
    graph = json.loads(out)  # torch's sequence numbers go on in a process (docs/fidelity.md)
    return {**graph, "nodes": [{k: v for k, v in n.items() if k != "seq"}
                               for n in graph["nodes"]]}


def test_a_command_after_a_leaking_stopped_one_runs_as_on_a_fresh_kernel(tmp_path):
    probe, leak = tmp_path / "probe.py", tmp_path / "leak.py"
    probe.write_text(PROBE, encoding="utf-8")
    leak.write_text(LEAK, encoding="utf-8")
    kernel = SharedKernel()
    try:
        with commands_on(kernel):
            fresh = run_command(["trace", str(probe), "--json"])
            pid = kernel.pid
            stopped = run_command(["trace", str(leak), "--json", "--timeout", "1"])
            again = run_command(["trace", str(probe), "--json"])
            assert kernel.pid == pid  # the same process, not a restart
    finally:
        kernel.end()
    assert fresh[0] == 0, fresh[2]
    assert stopped[0] == 1 and "timeout" in stopped[2].lower(), stopped[2]
    assert again[0] == 0, again[2]
    assert again[2] == fresh[2]  # what the snippet printed (stderr)
    assert _unsequenced(again[1]) == _unsequenced(fresh[1])
    state = json.loads(fresh[2].splitlines()[0])
    assert state["dtype"] == "torch.float32" and state["grad"] and state["env"] is None
