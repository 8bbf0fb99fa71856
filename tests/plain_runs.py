"""``python FILE`` as a test's oracle, forked from one process that imported torch once.

``plain_python(path)`` returns what ``subprocess.run([sys.executable, path],
capture_output=True, text=True)`` returns, from a child of ``tests/plain_server.py`` (that
module says what the child is). Each ``python`` start spends ~1.5 s CPU importing torch;
this spends it once per server: a run is served by a server started in the
environment it asks for (``os.environ`` as it is then, with the run's additions), so
torch's import read the same variables a fresh process's would; the child's environment
is then exactly the run's. ``PYTEST_CURRENT_TEST`` (pytest sets it anew for each test;
torch's import does not read it) does not pick the server: else no server would serve two
tests. A server runs one file
at a time; runs at once from several threads get a server each (the conformance suite's
plain runs); idle servers are kept, the ``KEPT`` used last. A server whose ``import
torch`` printed anything fails its runs (a fresh python would print it in each).

A served run is made again by a fresh ``python`` (and that one returned) where it cannot
be what python does: an uncaught ``KeyboardInterrupt`` (python dies of SIGINT after its
shutdown), or output that names the server's file (the server's frames below the file's:
a warning whose ``stacklevel`` reaches past the file's top level, ``traceback.print_stack``,
a ``SyntaxError`` in the file). What such output cannot show (``len(inspect.stack())``)
stays the server's. Where the process itself is what a test checks (its start, its
imports' output), the test starts ``python`` itself. ``test_plain_runs.py`` compares
served runs with fresh ones.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SERVER = Path(__file__).with_name("plain_server.py")


class PlainServer:
    """A ``plain_server.py`` process in one environment; its runs one at a time."""

    def __init__(self, env: dict[str, str], folder: str):
        self.env = env
        self.folder = folder  # its working folder, where python made PYTHONPATH absolute
        with tempfile.TemporaryFile() as log:
            self.proc = subprocess.Popen([sys.executable, str(SERVER)], env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, cwd=folder,
                                         start_new_session=True, bufsize=0)
            self._pending = b""  # read from its stdout, not yet a whole reply
            try:
                ready = self._read(None)  # {"ready": true}: torch is imported
            except ValueError as exc:  # not a reply: its import printed
                ready = exc
            log.seek(0)
            printed = log.read().decode(errors="replace")
        if printed or ready != {"ready": True}:
            self.close()
            raise RuntimeError(f"tests/plain_server.py: its import printed {printed!r} "
                               f"({ready}); a fresh python would print it in every run")

    def _read(self, timeout: float | None) -> dict | None:
        """The next reply, or None when ``timeout`` s pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.proc.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("tests/plain_server.py ended")
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return json.loads(line)

    def run(self, path: str, args: list[str], cwd: str, env: dict[str, str],
            timeout: float | None, merged: bool,
            text: bool) -> subprocess.CompletedProcess | None:
        """The run's result, or None where it is not what python does (made fresh)."""
        argv = [sys.executable, path, *args]
        with tempfile.TemporaryDirectory(prefix="plain-run-") as folder:
            out = os.path.join(folder, "stdout")
            unserved = os.path.join(folder, "unserved")
            err = out if merged else os.path.join(folder, "stderr")
            self.proc.stdin.write(json.dumps({"file": path, "args": args, "cwd": cwd,
                                              "env": env, "stdout": out, "stderr": err,
                                              "unserved": unserved}).encode() + b"\n")
            pid = self._read(None)["pid"]
            ended = self._read(timeout)
            if ended is None:  # as subprocess.run: kill it (its group), then say so
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._read(None)
            texts = []
            for name in (out, None if merged else err):
                if name is None:
                    texts.append(None)
                    continue
                with open(name, "rb") as handle:
                    data = handle.read()
                if ended is not None and (os.path.exists(unserved) or bytes(SERVER) in data):
                    return None  # not what python does: made fresh (see above)
                # read as subprocess.run(text=True) reads its pipes: the locale's encoding,
                # universal newlines
                texts.append(io.TextIOWrapper(io.BytesIO(data)).read() if text else data)
        result = subprocess.CompletedProcess(argv, None if ended is None else ended["status"],
                                             *texts)
        if ended is None:
            raise subprocess.TimeoutExpired(argv, timeout, result.stdout, result.stderr)
        return result

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()
        self.proc.stdout.close()


_idle: list[PlainServer] = []  # the one used last at the end
_idle_lock = threading.Lock()
KEPT = 2
UNREAD = ("PYTEST_CURRENT_TEST",)  # not read by torch's import: not a server's key


def plain_python(path, *args: str, env: dict[str, str] | None = None, cwd=None,
                 timeout: float | None = 300, check: bool = True, merged: bool = False,
                 text: bool = True) -> subprocess.CompletedProcess:
    """What ``subprocess.run([sys.executable, path, *args], capture_output=True,
    text=text, env=env, cwd=cwd, timeout=timeout, check=check)`` returns (standard input
    from ``/dev/null``); ``merged``: both streams in ``stdout``, as with
    ``stderr=subprocess.STDOUT``."""
    env = dict(os.environ if env is None else env)
    key = {name: value for name, value in env.items() if name not in UNREAD}
    cwd = os.path.abspath(cwd or os.getcwd())
    # python makes PYTHONPATH's entries absolute from the folder it starts in: a relative
    # one (PYTHONPATH=.) needs a server started in the run's folder
    relative = any(not os.path.isabs(entry)
                   for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry)
    folder = cwd if relative else str(SERVER.parent)
    with _idle_lock:
        server = next((server for server in reversed(_idle)
                       if (server.env, server.folder) == (key, folder)), None)
        if server is not None:
            _idle.remove(server)
    if server is None:
        server = PlainServer(key, folder)
    try:
        result = server.run(str(path), list(args), cwd, env, timeout, merged, text)
    except BaseException:
        server.close()  # (not reused after a failure of its own)
        raise
    with _idle_lock:
        _idle.append(server)
        surplus = _idle[:-KEPT]
        del _idle[:-KEPT]
    for extra in surplus:
        extra.close()
    if result is None:
        result = _fresh([sys.executable, str(path), *args], env, cwd, timeout, merged, text)
    if check:
        result.check_returncode()
    return result


def _fresh(argv, env, cwd, timeout, merged, text) -> subprocess.CompletedProcess:
    """``python FILE ARGS`` itself, its outputs as a served run's."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT if merged else subprocess.PIPE,
                            text=text, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout, out, err) from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@atexit.register
def close_plain_servers() -> None:
    with _idle_lock:
        servers = _idle[:]
        _idle.clear()
    for server in servers:
        server.close()
