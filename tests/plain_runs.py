"""``python FILE`` as a test's oracle, forked from one process that imported torch once.

``plain_python(path)`` returns what ``subprocess.run([sys.executable, path],
capture_output=True, text=True)`` returns, from a child of ``tests/plain_server.py`` (that
module says what the child is). Each ``python`` start spends ~1.5 s CPU importing torch;
this spends it once per environment: a run is served by a server started in the
environment it asks for (``os.environ`` as it is then, with the run's additions), so
torch's import read the same variables a fresh process's would; the two servers used last
are kept.

Where the process itself is what a test checks (its start, its imports' output, a signal
that ends it: an uncaught ``KeyboardInterrupt`` ends a served run with status 1, where
python dies of SIGINT), the test starts ``python`` itself. ``test_plain_runs.py`` compares
a served run with a fresh one.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

SERVER = Path(__file__).with_name("plain_server.py")


class PlainServer:
    """A ``plain_server.py`` process in one environment; its runs one at a time."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.proc = subprocess.Popen([sys.executable, str(SERVER)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=str(SERVER.parent),
                                     start_new_session=True, text=True)
        self._read(None)  # {"ready": true}: torch is imported

    def _read(self, timeout: float | None) -> dict | None:
        """The next reply, or None when ``timeout`` s pass first."""
        if timeout is not None and not select.select([self.proc.stdout], [], [], timeout)[0]:
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("tests/plain_server.py ended")
        return json.loads(line)

    def run(self, path: str, args: list[str], cwd: str, timeout: float | None,
            ) -> subprocess.CompletedProcess:
        argv = [sys.executable, path, *args]
        with tempfile.TemporaryDirectory(prefix="plain-run-") as folder:
            out, err = os.path.join(folder, "stdout"), os.path.join(folder, "stderr")
            self.proc.stdin.write(json.dumps({"file": path, "args": args, "cwd": cwd,
                                              "stdout": out, "stderr": err}) + "\n")
            self.proc.stdin.flush()
            pid = self._read(None)["pid"]
            ended = self._read(timeout)
            if ended is None:  # as subprocess.run: kill it (its group), then say so
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._read(None)
            # read as subprocess.run(text=True) reads its pipes: the locale's encoding,
            # universal newlines
            with open(out) as stdout, open(err) as stderr:
                result = subprocess.CompletedProcess(argv, None if ended is None else
                                                     ended["status"], stdout.read(),
                                                     stderr.read())
        if ended is None:
            raise subprocess.TimeoutExpired(argv, timeout, result.stdout, result.stderr)
        return result

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
        self.proc.stdout.close()


_servers: list[PlainServer] = []  # the one used last at the end
KEPT = 2


def plain_python(path, *args: str, env: dict[str, str] | None = None, cwd=None,
                 timeout: float | None = 300, check: bool = True,
                 ) -> subprocess.CompletedProcess:
    """What ``subprocess.run([sys.executable, path, *args], capture_output=True,
    text=True, env=env, cwd=cwd, timeout=timeout, check=check)`` returns (standard input
    from ``/dev/null``)."""
    env = dict(os.environ if env is None else env)
    server = next((server for server in _servers if server.env == env), None)
    if server is None:
        server = PlainServer(env)
        while len(_servers) >= KEPT:
            _servers.pop(0).close()
    else:
        _servers.remove(server)
    _servers.append(server)
    result = server.run(str(path), list(args), os.path.abspath(cwd or os.getcwd()),
                             timeout)
    if check:
        result.check_returncode()
    return result


@atexit.register
def _close() -> None:
    while _servers:
        _servers.pop().close()
