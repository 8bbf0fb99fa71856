"""Every hostile snippet of ``hostile_cases.CASES``, through the Kernel and through the command line.

Each case checks the error kind and words, the snippet line, the time bound
(stopped within a second and a half of the timeout), the command line's exit
status and strict-JSON stdout, and that a good snippet still runs afterwards
with the value torch computes for it. The command line's cases run in real command
processes where the process is the answer (``PROCESS_CASES``), the others as typed in
this process on one kernel made as a command's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hostile_cases import CASES, GOOD, Hostile

from gradstep.kernel.client import Kernel
from gradstep.schema.kernel import RunReply
from gradstep.schema.validate import problems
from tests.command_runs import commands_on, run_command

pytest.importorskip("gradstep.autograd.session")

ROOT = Path(__file__).resolve().parents[2]
KERNEL_TIMEOUT = 1.0
CLI_TIMEOUT = 2.0
STOP_SLACK = 1.5  # SIGINT, the grace before the kill, and the reply
IDS = [case.name for case in CASES]


def source_text(case: Hostile) -> str:
    """Return the case's source as text (binary garbage decoded byte for byte)."""
    return case.source if isinstance(case.source, str) else case.source.decode("latin-1")


def strict_json(text: str):
    """Return ``text`` parsed as strict JSON (bare NaN or Infinity is an error)."""

    def reject(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def good_loss() -> float:
    """Return the GOOD snippet's loss as torch computes it here."""
    w = torch.full([1], 2.0, requires_grad=True)
    return F.mse_loss(torch.ones(1), torch.ones(1) * w).item()


def check_error(case: Hostile, error: dict | None, text_of: str) -> None:
    """Assert the error (or its absence) matches the case; ``text_of`` is where words must appear."""
    if case.ok:
        assert error is None, error
    else:
        assert error is not None and error["kind"] in case.kinds, error
    for word in case.words:
        assert word.lower() in text_of.lower(), (word, text_of[:2000])


@pytest.fixture(scope="module", autouse=True)
def short_thread_wait():
    """``lingering_thread``'s thread never ends: the kernels and command lines started here
    wait 0.2 s for it, not the 3 s default (``GRADSTEP_THREAD_WAIT``, docs/limits.md), so
    that each way through costs CI little; the bound itself is tests/autograd/test_snippet_threads.py's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADSTEP_THREAD_WAIT", "0.2")
        yield


# -- through the Kernel ------------------------------------------------------------


@pytest.fixture(scope="module")
def kernel():
    with Kernel(timeout=KERNEL_TIMEOUT, stop_grace=0.5) as k:
        assert k.wait_ready(120)
        yield k


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kernel_answers_hostile_snippet(kernel, case):
    assert kernel.wait_ready(120)  # a restart after the previous case is not timed
    start = time.monotonic()
    # the one-second limit is for the cases that run into it; the others get room, so a
    # loaded machine does not turn a bounded flood of output into a timeout
    limit = KERNEL_TIMEOUT if case.stops else 15.0
    reply = kernel.run(source_text(case), filename="hostile.py", timeout=limit)
    elapsed = time.monotonic() - start
    assert problems(reply, RunReply) == []  # a stop, a crash or a memory error keeps run's shape

    error = reply["error"]
    message = (error or {}).get("message", "") if not case.ok else reply.get("output", "")
    check_error(case, error, message)
    if case.ok:  # every snippet of the table that ends well builds a graph: it is drawn
        assert reply["trace"] and reply["trace"]["nodes"], reply
    if case.line is not None:
        assert error["line"] == case.line, error
    assert bool(reply.get("state_lost")) == case.restarts, reply
    for text in case.never:
        assert text not in reply.get("output", "")
    assert len(reply.get("output", "")) < 200_000
    assert elapsed < (KERNEL_TIMEOUT + STOP_SLACK if case.stops else 20), elapsed

    good = kernel.run(GOOD, filename="good.py", timeout=60)
    assert good["ok"], good["error"]
    root = next(n for n in good["trace"]["nodes"] if n["id"] == good["trace"]["root"])
    assert root["value"]["data"] == pytest.approx(good_loss())


def test_kernel_ignores_a_system_exit_in_a_thread_and_draws_after_sys_exit_0(kernel):
    # python FILE: a SystemExit in a thread ends that thread only; sys.exit(0) exits 0
    assert kernel.wait_ready(120)
    source = ("import sys, threading\nt = threading.Thread(target=sys.exit, args=(4,))\n"
              "t.start()\nt.join()\nw = torch.ones(1, requires_grad=True)\nloss = (w * 2).sum()\n"
              "sys.exit(0)\nprint('not reached')\n")
    reply = kernel.run(source, filename="thread.py", timeout=60)
    assert reply["ok"] is True and reply["error"] is None and reply["exit_code"] == 0
    assert reply["root_name"] == "loss" and reply["trace"]["nodes"] and reply["output"] == ""


# -- through the command line ------------------------------------------------------

# The cases whose answer is the command's own process: it exits though its kernel keeps a
# thread running, its streams carry what the snippet's closed or flooded ones and bytes that
# are not text leave, and its status is python's after an interrupt, a crash and
# sys.exit(0). They run as real command lines (each start imports torch, ~1.5 s CPU); the
# others run the command as typed (``gradstep.cli.main``) in this process, on one kernel
# process made as a command makes its own (tests/command_runs.py).
PROCESS_CASES = ("lingering_thread", "closes_stdout_and_stderr", "binary_garbage",
                 "output_flood", "keyboard_interrupt", "segfault", "sys_exit_zero")


def case_file(case: Hostile, tmp_dir: Path) -> Path:
    path = tmp_dir / f"{case.name}.py"
    path.write_bytes(case.source if isinstance(case.source, bytes) else case.source.encode())
    return path


def cli_arguments(case: Hostile, path: Path) -> list[str]:
    """``trace FILE --json --timeout T``: 2 s for a snippet that is meant to run into the
    timeout, a minute for the others (a busy machine, e.g. the conformance suite running
    beside, must not time them out)."""
    return ["trace", str(path), "--json", "--timeout",
            str(CLI_TIMEOUT if "timeout" in case.kinds else 60.0)]


def run_cli(case: Hostile, tmp_dir: Path) -> tuple[int, str, str, float]:
    """Return the status, stdout and stderr of ``python -m gradstep trace FILE ...``, and its
    seconds."""
    path = case_file(case, tmp_dir)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "gradstep", *cli_arguments(case, path)],
                          capture_output=True, cwd=ROOT, timeout=120)
    return (done.returncode, done.stdout.decode("utf-8"),
            done.stderr.decode("utf-8", errors="replace"), time.monotonic() - start)


def run_here(case: Hostile, tmp_dir: Path) -> tuple[int, str, str, float]:
    """Return what ``run_cli`` returns, of the command run here (``commands_on``)."""
    path = case_file(case, tmp_dir)
    start = time.monotonic()
    return (*run_command(cli_arguments(case, path)), time.monotonic() - start)


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory, module_command_kernel):
    """Run every case through the command: the PROCESS_CASES as command lines, a few at a
    time, while the others run here one after the other, on one kernel."""
    tmp_dir = tmp_path_factory.mktemp("hostile")
    processes = [case for case in CASES if case.name in PROCESS_CASES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = pool.map(lambda case: run_cli(case, tmp_dir), processes)
        with commands_on(module_command_kernel):
            results = {case.name: run_here(case, tmp_dir) for case in CASES
                       if case.name not in PROCESS_CASES}
        results.update(zip((case.name for case in processes), started))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_command_line_answers_hostile_snippet(cli_results, case):
    status, stdout, stderr, elapsed = cli_results[case.name]
    assert status == case.exit, stderr[-3000:]
    if case.exit == 0:
        graph = strict_json(stdout)
        assert graph["nodes"], graph
    else:
        assert stdout.strip() == "" or strict_json(stdout) is not None
    for word in case.words:
        assert word.lower() in stderr.lower(), (word, stderr[-3000:])
    if case.line is not None:
        assert f"hostile.py:{case.line}" in stderr.replace(f"{case.name}.py", "hostile.py"), stderr
    for text in case.never:
        assert text not in stderr and text not in stdout
    assert len(stderr) < 300_000  # the flood is capped
    assert elapsed < 60  # never hangs (the precise stop bound is checked through the Kernel)


@pytest.mark.slow
def test_command_line_good_snippet_after_the_table(command_kernel, tmp_path):
    """The command's kernel that ran the table (those of its cases run here) draws a good
    snippet with torch's value."""
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    status, out, err = run_command(["trace", str(path), "--json"])
    assert status == 0, err
    graph = strict_json(out)
    root = next(n for n in graph["nodes"] if n["id"] == graph["root"])
    assert root["value"]["data"] == pytest.approx(good_loss())


def test_command_line_unavailable_device_exits_2(tmp_path):
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    done = subprocess.run([sys.executable, "-m", "gradstep", "trace", str(path), "--json",
                           "--device", "cuda"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "CUDA" in done.stderr
