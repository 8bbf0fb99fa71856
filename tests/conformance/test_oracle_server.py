"""The oracle server (``oracle_server.py``): each run it forks is what a fresh
``python oracle.py`` is, and a run past its time, or a server that ends, leaves no
process behind."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import procs
from case_runs import _servers, oracle_facts_of, oracle_process
from corpus import HERE

# What a case can see of the process it runs in (the output must be the same served or
# fresh; the environment but for pytest's own per-test variable, which differs by test).
PROBE = """\
import atexit, os, signal, sys, warnings
import torch
torch.manual_seed(1)
print(sys.argv, sys.path[0] == os.getcwd(), sys.modules["__main__"].__file__ == __file__)
print(sorted(sys.modules))
print(sorted(int(fd) for fd in os.listdir("/proc/self/fd")), os.readlink("/proc/self/fd/0"))
print(torch.get_num_threads(), torch.get_num_interop_threads(), torch.get_default_dtype())
print(warnings.filters, atexit._ncallbacks())
print({s.name: signal.getsignal(s) for s in signal.valid_signals() if isinstance(s, signal.Signals)})
print(sorted((k, v) for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"))
x = torch.rand(3, requires_grad=True)
y = x.exp()
loss = (y * y).sum()
loss.backward()
print(x.grad)
loss
"""


def _without_seconds(facts):
    if isinstance(facts, dict):
        return {k: _without_seconds(v) for k, v in facts.items() if k != "seconds"}
    if isinstance(facts, list):
        return [_without_seconds(v) for v in facts]
    return facts


def test_the_oracle_server_gives_what_a_fresh_oracle_process_gives(tmp_path):
    """The suite's oracle runs are forked by one ``oracle_server.py`` (torch imported
    once); a fresh ``python oracle.py`` finds the same facts, and both end as python does
    on bad arguments."""
    facts = oracle_facts_of(tmp_path, PROBE)
    # the fresh process gets the environment the server was started with: the suite's own
    # process may have gained a variable since (inductor sets its cache folder's when a
    # test imports it), which an oracle started then would see and a served one not
    environment = _servers[0].environment
    fresh = procs.run([sys.executable, str(HERE / "oracle.py"), "case.py", "--root", "loss",
                       "--out", "fresh.json"], cwd=str(tmp_path), timeout=300, env=environment)
    assert fresh.returncode == 0, fresh.output
    alone = json.loads((tmp_path / "fresh.json").read_text(encoding="utf-8"))
    assert _without_seconds(facts) == _without_seconds(alone)
    assert facts["minimal"]["output"].startswith("['case.py'] True True\n")
    served = oracle_process(["case.py", "--no-such-option"], cwd=str(tmp_path), timeout=300)
    fresh = procs.run([sys.executable, str(HERE / "oracle.py"), "case.py", "--no-such-option"],
                      cwd=str(tmp_path), timeout=300, env=environment)
    assert served.returncode == fresh.returncode == 2
    assert served.output == fresh.output


SLEEPER = "import os, time\nopen('pid', 'w').write(str(os.getpid()))\ntime.sleep(600)\n"


def _gone(pid: int, seconds: float = 30) -> bool:
    """Whether process ``pid`` ended (a zombie counts) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def _case_pid(folder) -> int:
    path = folder / "pid"
    deadline = time.monotonic() + 120
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, "the case never started"
        time.sleep(0.1)
    return int(path.read_text())


def test_an_oracle_run_past_its_time_is_killed_with_its_children(tmp_path):
    (tmp_path / "case.py").write_text(SLEEPER, encoding="utf-8")
    finished = oracle_process(["case.py", "--out", "facts.json"], cwd=str(tmp_path), timeout=5)
    assert finished.timed_out and finished.seconds < 60
    assert not (tmp_path / "facts.json").exists()
    assert _gone(_case_pid(tmp_path))  # the level child that ran the case, too
    assert oracle_process(["case.py", "--out", "facts.json", "--no-such-option"],
                          cwd=str(tmp_path), timeout=60).returncode == 2  # the server still serves


def test_a_server_that_ends_fails_its_runs_leaves_none_behind_and_is_replaced(tmp_path):
    (tmp_path / "case.py").write_text(SLEEPER, encoding="utf-8")
    oracle_process(["case.py", "--no-such-option"], cwd=str(tmp_path), timeout=60)
    server = _servers[0]
    result = []
    thread = threading.Thread(target=lambda: result.append(oracle_process(
        ["case.py", "--out", "facts.json"], cwd=str(tmp_path), timeout=300)))
    thread.start()
    pid = _case_pid(tmp_path)
    os.killpg(server.proc.pid, signal.SIGKILL)
    thread.join(60)
    assert result and result[0].returncode == -1
    assert "oracle_server.py ended before this run did" in result[0].output
    assert _gone(pid)
    assert oracle_process(["case.py", "--out", "facts.json", "--no-such-option"],
                          cwd=str(tmp_path), timeout=60).returncode == 2
    assert _servers[0] is not server
