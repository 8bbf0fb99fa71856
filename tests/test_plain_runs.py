"""A served plain run (tests/plain_runs.py) is what a fresh ``python FILE`` is."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.plain_runs import plain_python

PROBE = '''\
"""the probe"""
import atexit
import os
import signal
import sys
import threading
import warnings

import numpy
import torch

print(sys.argv, sys.orig_argv, sys.path[0], os.getcwd(), __name__, __doc__)
print(list(globals()), type(__loader__).__name__, __loader__.name, __spec__, __file__)
print(sys.modules["__main__"] is sys.modules[__name__], sorted(sys.modules))
print(sorted(os.environ.items()))

def threads():
    return len(os.listdir("/proc/self/task"))


# numpy's OpenBLAS stops its idle worker before a fork and starts it again at its next
# use: count after a use, and after torch's first parallel work
before = threads()
numpy_product = (numpy.arange(90000.0).reshape(300, 300) @ numpy.ones((300, 300))).sum()
torch_product = (torch.ones(300, 300) @ torch.arange(90000.0).reshape(300, 300)).sum()
print(sorted(os.listdir("/proc/self/fd")), threads(), threading.active_count(),
      numpy_product, torch_product.item(), torch.get_num_threads(),
      torch.get_num_interop_threads())
print([(s.name, signal.getsignal(s)) for s in signal.valid_signals()
       if isinstance(s, signal.Signals) and s not in (signal.SIGKILL, signal.SIGSTOP)])
print(warnings.filters, sys.flags, sys.stdout.encoding, sys.stdout.line_buffering,
      sys.stdin.read(), sys.getrecursionlimit(), torch.is_grad_enabled(),
      torch.get_default_dtype(), os.getpgrp() == os.getpid(), os.getsid(0) == os.getpid())
print("to stderr", file=sys.stderr)


class Late:
    def __del__(self):
        print("finalized at the end")


late = Late()
atexit.register(print, "atexit ran")
threading.Thread(target=lambda: (__import__("time").sleep(0.2), print("thread joined"))).start()
warnings.warn("a warning")


def fail():
    raise ValueError("the end")


fail()
'''


@pytest.mark.parametrize("relative", [False, True],
                         ids=["its path from another folder, two streams",
                              "its name in its folder, one stream"])
def test_a_served_run_is_a_fresh_pythons_run(tmp_path, relative):
    """Its argv, path, ``__main__`` and ``__file__``, folder, environment, descriptors,
    threads, signal handlers, warning filters, flags and streams, its printed text (both
    streams, or the two in one), its uncaught exception's traceback, its end (a non-daemon
    thread joined, ``atexit``, a finalizer) and its status; its modules are those of
    ``python`` after ``import torch``."""
    path = tmp_path / "probe.py"
    path.write_text(PROBE, encoding="utf-8")
    folder = tmp_path if relative else tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    given = "probe.py" if relative else str(path)
    env = {**os.environ, "KINETO_LOG_LEVEL": "6"}
    fresh = subprocess.run([sys.executable, given, "an arg"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT if relative else subprocess.PIPE,
                           text=True, env=env, cwd=folder, timeout=300,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    for _ in range(2):  # the second from the same server
        served = plain_python(given, "an arg", env=env, cwd=folder, check=False,
                              merged=relative)
        assert served.args == fresh.args
        assert served.stdout == fresh.stdout
        assert served.stderr == fresh.stderr
        assert served.returncode == fresh.returncode == 1
    assert "finalized at the end" in fresh.stdout and "atexit ran" in fresh.stdout
    assert f" None {path}\n" in fresh.stdout  # __file__: absolute, also from a relative name
    assert ('line 52, in <module>\n    fail()\n  File "'
            f'{path}", line 49, in fail\n    raise ValueError("the end")\nValueError: the end\n'
            ) in (fresh.stdout if relative else fresh.stderr)


NOT_SERVABLE = {
    "frames below the file's": 'import inspect, traceback, warnings\n'
                               'warnings.warn("from past the top", stacklevel=2)\n'
                               'traceback.print_stack()\n',
    "KeyboardInterrupt": 'import atexit\natexit.register(print, "atexit ran")\n'
                         'print("before")\nraise KeyboardInterrupt\n',
    "SyntaxError": 'print("never")\ndef f(:\n',
}


@pytest.mark.parametrize("source", NOT_SERVABLE.values(), ids=NOT_SERVABLE)
def test_a_run_a_server_cannot_be_is_made_fresh(tmp_path, source):
    """What the server's frames below the file's would show (a warning whose stacklevel
    reaches past the top level, ``print_stack``, a ``SyntaxError``'s traceback), and an
    uncaught ``KeyboardInterrupt`` (python dies of SIGINT after its shutdown), are python's."""
    path = tmp_path / "snippet.py"
    path.write_text(source, encoding="utf-8")
    fresh = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    served = plain_python(path, cwd=tmp_path, check=False, timeout=120)
    assert (served.stdout, served.stderr, served.returncode) == (
        fresh.stdout, fresh.stderr, fresh.returncode)
    assert "plain_server" not in fresh.stderr


def test_each_served_run_draws_its_own_default_seed(tmp_path):
    """As two fresh ``python`` runs do (torch seeds its default generator anew in each
    process); the server's seed is not every child's."""
    path = tmp_path / "seed.py"
    path.write_text("import torch\nprint(torch.initial_seed(), torch.rand(3).tolist())\n",
                    encoding="utf-8")
    fresh = [subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            check=True, timeout=120).stdout for _ in range(2)]
    served = [plain_python(path, timeout=120).stdout for _ in range(2)]
    assert fresh[0] != fresh[1]  # (what a fresh python does here)
    assert served[0] != served[1]


def test_a_relative_path_entry_is_found_from_the_runs_folder(tmp_path):
    """``PYTHONPATH=.``: a module in the run's folder (not the file's, not the server's)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "snippet.py").write_text("import beside\nprint(beside.X)\n",
                                                 encoding="utf-8")
    (tmp_path / "beside.py").write_text("X = 'found from the folder'\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": "."}
    fresh = subprocess.run([sys.executable, "sub/snippet.py"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=120, check=True)
    served = plain_python("sub/snippet.py", env=env, cwd=tmp_path, timeout=120)
    assert served.stdout == fresh.stdout == "found from the folder\n"
