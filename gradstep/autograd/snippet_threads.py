"""The snippet's own threads and child processes, waited for as ``python FILE`` waits for
them at its end.

When the main module's code is done (it ran to its end, called ``sys.exit`` or raised),
python's ``threading._shutdown`` joins every non-daemon thread before the process ends,
and multiprocessing's exit function every non-daemon child process: a thread or a
``multiprocessing.Process`` that runs ``loss.backward()``, prints or writes a file after
the main code returned still does all of it. The kernel ends with ``os._exit`` (no teardown,
docs/fidelity.md), so without this such a thread was cut off. Unlike python, the wait
is bounded (``WAIT_S``, or ``GRADSTEP_THREAD_WAIT`` seconds: docs/limits.md): a thread that
never ends (a forgotten ``time.sleep(10**6)``) must not hang the window's kernel or a
command; one still running then is left running, as before (docs/fidelity.md). The window's
Stop and a command's ``--timeout`` cut the wait as they cut the snippet. No torch import.
"""

from __future__ import annotations

import os
import sys
import threading
import time

WAIT_S = 3.0  # the longest the snippet's threads are waited for, all together
WAIT_ENV = "GRADSTEP_THREAD_WAIT"  # seconds, instead of WAIT_S (0: not waited for)

# concurrent.futures' executors: python ends their idle workers (threads, and a process
# pool's manager thread and worker processes) through threading's atexit callbacks
# (``_python_exit``), which would also shut every executor of the kernel's process for
# good; they are not waited for.
_EXECUTORS = "concurrent.futures."


def alive() -> set:
    """Return the threads and child processes alive now (those the snippet did not start)."""
    return set(threading.enumerate()) | set(_children())


def _children() -> list:
    """Return multiprocessing's live children of this process (none where the module was
    never imported: nothing is imported here)."""
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing.active_children() if multiprocessing is not None else []


def wait_for_started(before: set) -> None:
    """Join each non-daemon thread and child process not in ``before`` (started by the
    snippet, or by its threads, since ``before`` was taken) until none is left, as python's
    ``threading._shutdown`` and multiprocessing's ``_exit_function`` do (python also
    terminates the daemonic children there; they are left running), for at most
    ``wait_seconds()`` in all (python waits for ever); the kernel's stop (SIGINT)
    interrupts the join."""
    current = threading.current_thread()
    deadline = time.monotonic() + wait_seconds()
    while True:
        left = [thread for thread in threading.enumerate()
                if thread not in before and thread is not current and not thread.daemon
                and thread.is_alive() and not _executor_worker(thread)]
        ended = _ended_by_exit()
        left += [child for child in _children()
                 if child not in before and not child.daemon and child not in ended]
        if not left:
            return
        for thread in left:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                return
            thread.join(left_s)


def wait_seconds() -> float:
    """Return the bound of the wait: ``GRADSTEP_THREAD_WAIT`` seconds where it is a number
    of 0 or more (read at each run, as the snippet's environment holds it), else ``WAIT_S``."""
    try:
        seconds = float(os.environ.get(WAIT_ENV, ""))
    except ValueError:
        return WAIT_S
    return min(seconds, threading.TIMEOUT_MAX) if seconds >= 0 else WAIT_S  # (inf: for ever)


def _executor_worker(thread: threading.Thread) -> bool:
    """Return True for a thread of a ``concurrent.futures`` executor: its target function,
    or for a subclass with its own ``run`` (a process pool's manager thread) its class, is
    that package's (read from the instance's dict and the class: no code of a ``Thread``
    subclass runs)."""
    target = vars(thread).get("_target")
    module = getattr(target, "__module__", None) if target is not None else type(thread).__module__
    return isinstance(module, str) and module.startswith(_EXECUTORS)


def _ended_by_exit() -> set:
    """Return the child processes python's exit ends before it joins the others: the worker
    processes of the live ``ProcessPoolExecutor``s (their manager threads hold them,
    ``processes``; a started process no longer names its target), and the server process
    of each ``multiprocessing`` manager never shut down (its finalizer, run by the exit
    function first, shuts it: ``BaseManager._finalize_manager``'s first argument)."""
    found = set()
    for thread in threading.enumerate():
        if type(thread).__module__.startswith(_EXECUTORS):
            processes = vars(thread).get("processes")
            if isinstance(processes, dict):
                found.update(processes.values())
    util = sys.modules.get("multiprocessing.util")
    for finalizer in list(getattr(util, "_finalizer_registry", {}).values()):
        callback, args = vars(finalizer).get("_callback"), vars(finalizer).get("_args")
        if getattr(callback, "__name__", None) == "_finalize_manager" and args:
            found.add(args[0])
    return found
