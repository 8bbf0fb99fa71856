"""Run each case three ways, concurrently: plain, the oracle, gradstep.

- plain: what ``python CASE`` in the case's folder does, forked from a process that imported
  torch once (``tests/plain_runs.py``);
- oracle: what ``python oracle.py CASE --root NAME --out FACTS`` in the case's folder does,
  forked by the session's one ``oracle_server.py`` (torch imported once, not once a case);
- gradstep: a fresh ``gradstep.kernel.client.Kernel()`` per case, ``kernel.run(source,
  filename=<absolute path>, root=<root>)``.

``CaseRunner`` starts every job of the selected cases at once on a thread pool
(``CONFORMANCE_JOBS`` workers, default: the number of CPUs), case by case, so
the first tests can check their case while later ones still run.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import procs
from corpus import HERE, Case

from tests.plain_runs import plain_python

ORACLE_SERVER = HERE / "oracle_server.py"
TIMEOUT = float(os.environ.get("CONFORMANCE_TIMEOUT", "600"))
_KERNEL_ENVIRONMENT = {**procs.OFFLINE, "KINETO_LOG_LEVEL": "6"}


@dataclass
class CaseRun:
    """The three runs of one case; ``oracle`` is FACTS.json (None when the oracle failed)."""

    case: Case
    plain: procs.Finished
    oracle: dict | None
    oracle_run: procs.Finished
    gradstep: dict
    seconds: dict = field(default_factory=dict)


def run_plain(case: Case) -> procs.Finished:
    """What ``python CASE`` in the case's folder does (``procs.run``: both streams in one,
    its process group killed after ``TIMEOUT``), forked from a process that imported torch
    once (tests/plain_runs.py; its start's own output fails the run loudly)."""
    start = time.monotonic()
    try:
        done = plain_python(case.path.name, cwd=str(case.path.parent), timeout=TIMEOUT,
                            env=procs.offline_environment(), check=False, merged=True,
                            text=False)
        code, out = done.returncode, done.stdout
    except subprocess.TimeoutExpired as exc:
        code, out = None, exc.stdout
    return procs.Finished(code, out.decode("utf-8", errors="replace"), time.monotonic() - start)


def run_oracle(case: Case, *, device: str | None = None) -> tuple[procs.Finished, dict | None]:
    with tempfile.TemporaryDirectory(prefix="conformance-") as folder:
        out = os.path.join(folder, "facts.json")
        args = [str(case.path), "--out", out]
        if case.root:
            args += ["--root", case.root]
        if device:
            args += ["--device", device]
        finished = oracle_process(args, cwd=str(case.path.parent), timeout=TIMEOUT)
        try:
            with open(out, encoding="utf-8") as handle:
                return finished, json.load(handle)
        except (OSError, ValueError):
            return finished, None


def oracle_facts_of(folder, source: str, root: str = "loss") -> dict:
    """Write ``source`` as ``folder/case.py``, run the oracle on it there, return its facts
    (for the oracle's own tests)."""
    case = Path(folder) / "case.py"
    case.write_text(source, encoding="utf-8")
    out = Path(folder) / "facts.json"
    finished = oracle_process([str(case), "--root", root, "--out", str(out)], cwd=str(folder),
                              timeout=300)
    assert finished.returncode == 0, finished.output
    return json.loads(out.read_text(encoding="utf-8"))


def oracle_process(args: list[str], *, cwd: str, timeout: float) -> procs.Finished:
    """What ``python oracle.py ARGS`` in ``cwd`` does, started by the session's oracle
    server (``oracle_server.py``: torch imported once, not once a case)."""
    with _server_lock:
        if _servers and _servers[0].ended:
            _servers.pop().close()
        if not _servers:
            _servers.append(OracleServer())
        server = _servers[0]
    return server.run(args, cwd=cwd, timeout=timeout)


def close_oracle_server() -> None:
    with _server_lock:
        for server in _servers:
            server.close()
        _servers.clear()


class OracleServer:
    """An ``oracle_server.py`` process and the oracle runs it forked (see that module)."""

    def __init__(self):
        self._log = tempfile.TemporaryFile()  # its own stderr: why it ended, if it did
        # Each run it forks has this environment: the suite's process as the server started
        # (a variable the suite's process sets later, e.g. inductor's cache folder once
        # something imports it, reaches no served run).
        self.environment = procs.offline_environment()
        self.proc = subprocess.Popen(
            [procs.python(), str(ORACLE_SERVER)], cwd=str(HERE), env=self.environment,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            start_new_session=True)
        self._lock = threading.Lock()
        self._next_id = 0
        self._requests: dict[int, dict] = {}  # id -> {"pid", "status", "done": Event}
        self.ended = False
        self._ready = threading.Event()  # its imports are done (or it ended)
        self._problem = ""
        self._reader = threading.Thread(target=self._read_replies, daemon=True,
                                        name="oracle-server")
        self._reader.start()

    def run(self, args: list[str], *, cwd: str, timeout: float) -> procs.Finished:
        """What ``python oracle.py ARGS`` in ``cwd`` does; ``timeout`` counts from when the
        server is ready (its imports are shared, not this run's)."""
        start = time.monotonic()
        if not self._ready.wait(timeout):
            self._end(f"its imports did not finish in {timeout:.0f} s")
            self._ready.wait()
        with tempfile.TemporaryDirectory(prefix="oracle-run-") as folder:
            output = os.path.join(folder, "output.txt")
            with self._lock:
                self._next_id += 1
                request_id = self._next_id
                entry = self._requests[request_id] = {"pid": None, "status": None,
                                                      "done": threading.Event()}
                line = json.dumps({"id": request_id, "args": args, "cwd": cwd, "output": output})
                try:
                    if self.ended:
                        raise BrokenPipeError
                    self.proc.stdin.write(line.encode() + b"\n")
                    self.proc.stdin.flush()
                except OSError:
                    entry["done"].set()
            timed_out = not entry["done"].wait(timeout)
            if timed_out:
                if entry["pid"] is not None:
                    _kill_group(entry["pid"])
                if entry["pid"] is None or not entry["done"].wait(60):
                    self._end("it did not answer about a run past its time")
                    entry["done"].wait()
            with self._lock:
                del self._requests[request_id]
            if entry["status"] is None and entry["pid"] is not None:
                _kill_group(entry["pid"], group_only=True)  # the server ended first
            try:
                with open(output, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                text = ""
        if entry["status"] is None and not timed_out:
            text += f"\noracle_server.py ended before this run did:\n{self._stderr()}"
            return procs.Finished(-1, text, time.monotonic() - start)
        code = None if timed_out else entry["status"]
        return procs.Finished(code, text, time.monotonic() - start)

    def _read_replies(self) -> None:
        try:
            for line in self.proc.stdout:
                message = json.loads(line)
                if "ready" in message:
                    self._ready.set()
                    continue
                with self._lock:
                    entry = self._requests.get(message["id"])
                    if entry is None:
                        continue
                    if "pid" in message:
                        entry["pid"] = message["pid"]
                    else:
                        entry["status"] = message["status"]
                        entry["done"].set()
        except ValueError:  # not a reply: say so, and use this server no more
            self._end(f"it wrote {line!r} where a reply belongs")
        finally:
            with self._lock:  # the server ended: no run of it will finish now
                self.ended = True
                self._ready.set()
                for entry in self._requests.values():
                    entry["done"].set()

    def _end(self, why: str) -> None:
        """Kill the server (its reader then sees it end and releases every run)."""
        self._problem = f"killed: {why}\n"
        _kill_group(self.proc.pid)

    def _stderr(self) -> str:
        self._log.seek(0)
        return self._problem + self._log.read().decode("utf-8", errors="replace")[-3000:]

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc.pid)
            self.proc.wait()
        self._reader.join()
        self.proc.stdout.close()
        self._log.close()


def _kill_group(pid: int, *, group_only: bool = False) -> None:
    """SIGKILL the process group ``pid`` leads (or, unless ``group_only``, the process
    alone if it has not made its group yet)."""
    try:
        os.killpg(pid, 9)
    except ProcessLookupError:
        if group_only:
            return
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


_servers: list[OracleServer] = []
_server_lock = threading.Lock()


def run_gradstep(case: Case) -> tuple[dict, float]:
    """Return the kernel's run dict and its seconds (a fresh kernel: import-time output too)."""
    from gradstep.kernel.client import Kernel

    start = time.monotonic()
    with Kernel(timeout=TIMEOUT) as kernel:
        result = kernel.run(case.source, filename=str(case.path), root=case.root)
    return result, time.monotonic() - start


class CaseRunner:
    """Runs the three jobs of each case on a shared pool; ``get(case)`` waits for them."""

    def __init__(self, jobs: int | None = None):
        jobs = jobs or int(os.environ.get("CONFORMANCE_JOBS", "0")) or os.cpu_count() or 2
        self.jobs = jobs
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="conformance")
        self.futures: dict[str, tuple[Future, Future, Future]] = {}
        self.seconds: dict[str, dict] = {}  # case -> each run's seconds (the oracle's by level)
        self.coverage: dict[str, tuple[int, int]] = {}  # case -> (op nodes with a value, op nodes)
        self.started = time.monotonic()
        self.finished_at = self.started
        # The kernel's worker copies this process's environment: offline for every case.
        self._saved_environment = {k: os.environ.get(k) for k in _KERNEL_ENVIRONMENT}
        os.environ.update(_KERNEL_ENVIRONMENT)

    def start(self, cases: list[Case]) -> None:
        for case in cases:
            if case.name not in self.futures:
                self.futures[case.name] = (self.pool.submit(_timed, run_plain, case),
                                           self.pool.submit(_timed, run_oracle, case),
                                           self.pool.submit(run_gradstep, case))

    def get(self, case: Case) -> CaseRun:
        if case.name not in self.futures:
            self.start([case])
        plain_job, oracle_job, gradstep_job = self.futures[case.name]
        plain, plain_s = plain_job.result()
        (oracle_run, facts), oracle_s = oracle_job.result()
        gradstep, gradstep_s = gradstep_job.result()
        self.finished_at = max(self.finished_at, time.monotonic())
        seconds = {"plain": plain_s, "oracle": oracle_s, "gradstep": gradstep_s}
        self.seconds[case.name] = {**seconds, "levels": (facts or {}).get("seconds") or {}}
        ops = [n for n in ((gradstep.get("trace") or {}).get("nodes") or []) if n.get("kind") == "op"]
        if ops:  # how many op nodes gradstep shows a value on (docs/fidelity.md)
            self.coverage[case.name] = (sum(1 for n in ops if n.get("value")), len(ops))
        return CaseRun(case, plain, facts, oracle_run, gradstep, seconds)

    @property
    def wall_seconds(self) -> float:
        return self.finished_at - self.started

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _timed(function, case):
    start = time.monotonic()
    result = function(case)
    return result, time.monotonic() - start

