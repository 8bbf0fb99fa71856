"""Measure a whole command: CPU seconds of its process tree, wall seconds, peak memory.

A process that outlives its parent (gradstep's kernel when the command does not wait
for it) would escape ``getrusage(RUSAGE_CHILDREN)``; this process makes itself the
"child subreaper" (Linux ``prctl``), so such orphans are re-parented here and reaped
too, and their CPU time counts.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux only; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reap_orphans() -> None:
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def run_measured(command: str, *, env: dict | None = None, limit: float | None = None) -> dict:
    """Run a shell command; return ``{"cpu", "wall", "peak_mb"}``: user + system seconds of
    every process of its tree, wall seconds, and the largest peak RSS of any one of them
    (MB). Each command is measured from a fresh helper process of its own, so the peak
    of an earlier command never counts. Past ``limit`` seconds the command is killed and
    ``{"timeout": limit}`` comes back.

    Every command runs with torch on one thread (``OMP_NUM_THREADS=1``): on a shared
    machine torch's worker threads spin while they wait, and the CPU seconds of one
    and the same snippet swung between 1.0 and 3.1 s from run to run (ResNet-50;
    0.1 s on one thread). Bytecode caches are on, as in an installed package
    (``PYTHONDONTWRITEBYTECODE`` is dropped)."""
    helper = [sys.executable, __file__, command, str(limit or 0)]
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(helper, cwd=ROOT, capture_output=True, text=True,
                          env={**base, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1",
                               **(env or {})})
    if done.returncode != 0:
        raise SystemExit(f"failed: {command}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_of(command: str, repeat: int, **kwargs) -> dict:
    """Return the medians of ``repeat`` runs of ``command`` (each figure on its own)."""
    runs = [run_measured(command, **kwargs) for _ in range(repeat)]
    if any("timeout" in r for r in runs):
        return runs[0]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _measure_here(command: str, limit: float) -> dict:
    become_subreaper()
    start = time.perf_counter()
    proc = subprocess.Popen(command, shell=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=limit or None)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        _reap_orphans()
        return {"timeout": limit}
    _reap_orphans()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(stderr[-2000:])
        raise SystemExit(proc.returncode)
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall,
            "peak_mb": usage.ru_maxrss / 1024}


if __name__ == "__main__":
    print(json.dumps(_measure_here(sys.argv[1], float(sys.argv[2]))))
