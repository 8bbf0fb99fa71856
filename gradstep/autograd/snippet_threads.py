"""The snippet's own threads, waited for as ``python FILE`` waits for them at its end.

When the main module's code is done (it ran to its end, called ``sys.exit`` or raised),
python's ``threading._shutdown`` joins every non-daemon thread before the process ends:
a thread that runs ``loss.backward()``, prints or writes a file after the main code
returned still does all of it. The kernel ends with ``os._exit`` (no teardown,
docs/fidelity.md), so without this such a thread was cut off. Unlike python, the wait
is bounded (``WAIT_S``): a thread that never ends (a forgotten ``time.sleep(10**6)``) must
not hang the window's kernel or a command; one still running then is left running, as
before (docs/fidelity.md). No torch import.
"""

from __future__ import annotations

import threading
import time

WAIT_S = 3.0  # the longest the snippet's threads are waited for, all together

# ThreadPoolExecutor's worker function: python ends its idle workers through threading's
# atexit callbacks (``concurrent.futures.thread._python_exit``), which would also shut
# every executor of the kernel's process for good; those threads are not waited for.
_EXECUTOR_WORKER = ("concurrent.futures.thread", "_worker")


def alive() -> set:
    """Return the threads alive now (those the snippet did not start)."""
    return set(threading.enumerate())


def wait_for_started(before: set) -> None:
    """Join each non-daemon thread not in ``before`` (started by the snippet, or by its
    threads, since ``before`` was taken) until none is left, as python's
    ``threading._shutdown`` does, for at most ``WAIT_S`` seconds in all (python waits for
    ever); the kernel's stop (SIGINT) interrupts the join."""
    current = threading.current_thread()
    deadline = time.monotonic() + WAIT_S
    while True:
        left = [thread for thread in threading.enumerate()
                if thread not in before and thread is not current and not thread.daemon
                and thread.is_alive() and not _executor_worker(thread)]
        if not left:
            return
        for thread in left:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                return
            thread.join(left_s)


def _executor_worker(thread: threading.Thread) -> bool:
    """Return True for a ThreadPoolExecutor's worker (read from the instance's dict: no
    code of a ``Thread`` subclass runs)."""
    target = vars(thread).get("_target")
    return (getattr(target, "__module__", None), getattr(target, "__name__", None)) \
        == _EXECUTOR_WORKER
