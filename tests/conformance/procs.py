"""Start the processes of the conformance runs: one environment, one timeout rule.

Every process gets ``offline_environment()``: HuggingFace offline
(``HF_HUB_OFFLINE=1``, ``TRANSFORMERS_OFFLINE=1``), unbuffered Python output
(stdout and stderr share one pipe, in the order the program wrote them: the
kernel's worker runs unbuffered too) and the profiler's log quiet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def offline_environment(base: dict | None = None) -> dict:
    """Return a copy of ``base`` (default: this process's environment) for a case run."""
    env = dict(os.environ if base is None else base)
    env.update(OFFLINE)
    env["PYTHONUNBUFFERED"] = "1"
    env["KINETO_LOG_LEVEL"] = "6"
    env.pop("PYTHONPATH", None)  # a case sees what `python case.py` sees, nothing of ours
    return env


@dataclass
class Finished:
    """A finished process: exit status (None when it timed out), combined output, seconds."""

    returncode: int | None
    output: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def run(args: list[str], *, cwd: str, timeout: float, env: dict | None = None) -> Finished:
    """Run ``args`` with stderr into stdout; kill its process group after ``timeout`` s."""
    start = time.monotonic()
    proc = subprocess.Popen(args, cwd=cwd, env=env or offline_environment(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        code = None
    text = out.decode("utf-8", errors="replace")
    return Finished(code, text, time.monotonic() - start)


def python() -> str:
    """Return the interpreter the tests run with (the project's virtualenv)."""
    return sys.executable
