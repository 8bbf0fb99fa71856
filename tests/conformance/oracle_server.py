"""Many oracle runs from one process that imported torch once.

    python oracle_server.py      (stdin: one JSON request a line; stdout: JSON replies)

``python oracle.py CASE ...`` spends more CPU importing torch (~1.5 s) than a small
case's runs take; the conformance suite starts one oracle for each of its ~80 cases.
This process imports ``oracle`` (and with it torch) once, in the environment an
oracle process gets (``procs.offline_environment``), and then for each request forks a
child that is what a fresh ``python oracle.py ARGS`` is once its imports are done:

- its own session and process group (as ``procs.run`` starts one: a timeout kills it
  and its level children together),
- the request's folder (the case's) as working directory, ``sys.argv`` the oracle's,
  fd 0 from ``/dev/null``, fd 1 and 2 into the request's output file,
- then ``oracle.main(ARGS)``: preload, the forked levels, FACTS.json; its status as
  ``python`` would end with (an uncaught exception: the traceback and 1). A case whose
  leading imports print starts again as a fresh ``python oracle.py ... --no-preload``
  (``os.execv``, as it does when started alone).

This process itself never runs a case, never imports one's modules and draws no random
number, so each child starts from the state a fresh oracle has after its imports.

A request: ``{"id": N, "args": [...], "cwd": FOLDER, "output": FILE}``. Replies:
``{"ready": true}`` first, once its imports are done; ``{"id": N, "pid": PID}`` once
forked, ``{"id": N, "status": S}`` once it ended (the exit code, or minus the signal
that ended it). Nothing here imports gradstep.
"""

from __future__ import annotations

import json
import os
import selectors
import sys
import traceback

import oracle  # noqa: E402  (imports torch: once, for every request)

ORACLE = os.path.abspath(oracle.__file__)


def main() -> int:
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, None)
    pending = b""
    children: dict[int, tuple[int, int]] = {}  # pidfd -> (request id, pid)
    reply({"ready": True})
    while True:
        for key, _ in selector.select():
            if key.data is not None:  # a child ended
                request_id, pid = key.data
                _, status = os.waitpid(pid, 0)
                selector.unregister(key.fd)
                os.close(key.fd)
                del children[key.fd]
                reply({"id": request_id, "status": os.waitstatus_to_exitcode(status)})
                continue
            chunk = os.read(0, 1 << 16)
            if not chunk:  # the suite is over
                return 0
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    request = json.loads(line)
                    pid = start(request, [selector.fileno(), *children])
                    pidfd = os.pidfd_open(pid)
                    children[pidfd] = (request["id"], pid)
                    selector.register(pidfd, selectors.EVENT_READ, (request["id"], pid))
                    reply({"id": request["id"], "pid": pid})


def reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def start(request: dict, open_fds: list[int]) -> int:
    """Fork the child of one request; return its pid. ``open_fds``: this process's
    own descriptors (its selector's, the other children's pidfds), closed in the child."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setsid()
        for fd in open_fds:
            os.close(fd)
        os.chdir(request["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        sys.argv = [ORACLE, *request["args"]]
        sys.modules["__main__"] = sys.modules.pop("oracle")  # as in `python oracle.py`
        code = oracle.main(request["args"])
    except SystemExit as exc:  # as python ends on one
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001  as python ends on an uncaught exception
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
