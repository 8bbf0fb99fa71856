"""An exception a signal handler of the snippet's raised inside gradstep's own code.

Python runs a signal handler in the main thread between two bytecodes of whatever code
runs then: a handler that raises (``signal.setitimer`` and a handler raising a timeout, as
timeout helpers do) raises in gradstep's code when the signal comes while gradstep notes a
value. gradstep's ``except Exception`` blocks, which keep its own failures from the
snippet, then took that exception for one of gradstep's and dropped it: the snippet's
timeout never came (a loop of six timed trials under a 50 ms timer: python interrupted
all six, gradstep five). Such an exception is the snippet's: it goes on up
(``reraise_if_handlers``).
"""

from __future__ import annotations

import _signal
import signal


def raised_by_handler(exc: BaseException) -> bool:
    """Return whether a Python signal handler now installed is among the frames ``exc``
    passed through (asked only on an exception's way: ~10 us; none where the exception
    was raised right in the frame that caught it, by torch's C code: a handler that raised
    would be one frame further)."""
    tb = exc.__traceback__
    if tb is None or tb.tb_next is None:
        return False
    codes = set()
    while tb is not None:
        codes.add(tb.tb_frame.f_code)
        tb = tb.tb_next
    for sig in range(1, signal.NSIG):  # (signal.getsignal's enum conversions: 60 times slower)
        try:
            handler = _signal.getsignal(sig)
        except (OSError, ValueError):
            continue
        if handler is None or type(handler) is int:  # SIG_DFL, SIG_IGN, or a C handler
            continue
        handler = getattr(handler, "__func__", getattr(handler, "func", handler))
        if getattr(handler, "__code__", None) in codes:
            return True
    return False


def reraise_if_handlers(exc: BaseException) -> None:
    """Raise ``exc`` again when a signal handler of the snippet's raised it; else return
    (gradstep's own failure: the caller shows less)."""
    if raised_by_handler(exc):
        raise exc
