"""Many plain ``python FILE`` runs from one process that imported torch once.

    python plain_server.py      (stdin: one JSON request a line; stdout: JSON replies)

A test whose oracle is a plain run (``python snippet.py``) spends more CPU in that
process's ``import torch`` (~1.5 s) than in the snippet. This process imports torch once,
in the environment the runs ask for (``tests/plain_runs.py`` starts another server when
that changes), and for each request forks a child that is what a fresh ``python FILE
ARGS`` is once torch is imported:

- its own session and process group (a timeout kills it with what it started),
- the request's environment (the server's but for variables torch's import does not read),
- the request's folder as working directory, fd 0 from ``/dev/null``, fd 1 and 2 into the
  request's two output files (or both into one, as a pipe shared by both streams),
- ``sys.argv``, ``sys.orig_argv`` and ``sys.path[0]`` as ``python FILE ARGS`` sets them, a new
  ``__main__`` module as python makes one for a file, the file's code run in it;
- then python's own end (but for an uncaught ``KeyboardInterrupt``: see ``run``): an uncaught exception is printed by ``sys.excepthook`` (this
  file's frames left out of its traceback) and the status is 1; ``SystemExit`` ends it as
  it ends python; the interpreter's shutdown (non-daemon threads joined, ``atexit``
  functions, finalizers) runs as in any python process.

This process imports nothing but torch, runs no torch code and draws no random number, so
each child starts from the state a fresh ``python`` has after ``import torch``; as in a
fresh one, torch's default generator is seeded anew (non-deterministically) in each child,
and Python's ``random`` is reseeded by its own fork hook (Python's hash seed is the
server's for every child).

A request: ``{"file": PATH, "args": [...], "cwd": FOLDER, "env": {...}, "stdout": FILE,
"stderr": FILE, "unserved": FILE}``. Replies: ``{"ready": true}`` once torch is imported; ``{"pid": PID}`` once forked;
``{"status": S}`` once it ended (the exit code, or minus the signal that ended it). One
run at a time. Nothing here imports gradstep.
"""

import json
import os
import sys
import types

import torch  # (once, for every run)


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def serve():
    """Answer requests until stdin ends; in a forked child, return the request to run."""
    reply({"ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            return request
        reply({"pid": pid})
        _, status = os.waitpid(pid, 0)
        reply({"status": os.waitstatus_to_exitcode(status)})
    return None


def become(request):
    """Make this forked child what ``python FILE ARGS`` is after ``import torch``; return
    the file's code and its ``__main__`` module's namespace."""
    os.setsid()
    torch.default_generator.seed()  # a fresh python draws its own default seed
    for name in set(os.environ) - set(request["env"]):
        del os.environ[name]  # (os.environ's changes reach the C environment too)
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    streams = [request["stdout"]] if request["stderr"] == request["stdout"] else [
        request["stdout"], request["stderr"]]  # one file: both streams, in their order
    for fds, name in zip(((1, 2), (1,), (2,))[len(streams) - 1:], streams):
        output = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        for fd in fds:
            os.dup2(output, fd)
        os.close(output)
    given = request["file"]
    sys.argv = [given, *request["args"]]
    sys.orig_argv = [sys.executable, given, *request["args"]]
    path = os.path.abspath(given)  # python's __file__ and code name (not symlinks resolved)
    sys.path[0] = os.path.dirname(os.path.realpath(given))
    with open(path, "rb") as handle:
        code = compile(handle.read(), path, "exec")
    main = types.ModuleType("__main__")
    main.__loader__ = _loader(path)
    main.__dict__.update({"__annotations__": {}, "__builtins__": sys.modules["builtins"],
                          "__file__": path, "__cached__": None})
    sys.modules["__main__"] = main
    return code, main.__dict__


def _loader(path):
    from importlib.machinery import SourceFileLoader

    return SourceFileLoader("__main__", path)


def run(code, namespace, unserved):
    """Run the file's code as python runs a script; an uncaught exception (not
    ``SystemExit``) is printed without this file's frames and ends the process with 1.
    An uncaught ``KeyboardInterrupt`` python ends with SIGINT after its shutdown, which
    this process cannot: it makes the file ``unserved`` and ends (the run is made fresh)."""
    try:
        exec(code, namespace)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        open(unserved, "wb").close()
        os._exit(1)
    except BaseException as exc:  # noqa: BLE001  as python ends on an uncaught exception
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code is not code:
            tb = tb.tb_next
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        raise SystemExit(1) from None


if __name__ == "__main__":
    REQUEST = serve()
    if REQUEST is not None:
        run(*become(REQUEST), REQUEST["unserved"])
