"""What a ``SystemExit`` means to ``python FILE``: status 0 (the script ended well) or not;
and the command line's status for a snippet that failed (``failure_status``)."""

from __future__ import annotations

import os

_LONG_LONG = 2 ** 63  # CPython reads an int code as a C long long (-1 when it does not fit)
_C_INT = 2 ** 32      # ... then keeps it as a C int, which exit() hands to the system
FAILED = 1  # the command line's status for a snippet that failed
INTERRUPTED = 130  # 128 + SIGINT: a program ended by Ctrl+C (python FILE by a KeyboardInterrupt),
#                   as a shell reports it


def failure_status(exc: BaseException) -> int:
    """Return the command line's exit status for a snippet that ``exc`` ended (not a
    ``sys.exit(0)``): 130 for a ``KeyboardInterrupt`` of the snippet's own, as ``python
    FILE`` ends by it, else 1 (``sys.exit(2)`` too: 2 is the command line's "bad usage").
    Python ends itself by SIGINT (a shell reads 130; ``subprocess`` reads -2), gradstep exits
    with status 130, as for its own Ctrl+C. Only ``KeyboardInterrupt`` itself: python
    compares the exception's type (``run_eval_code_obj``), so a subclass of it ends python
    as any error does, status 1. The kernel's own stop (``--timeout``) is no snippet's: it
    exits 1 (``gradstep.kernel.client``)."""
    return INTERRUPTED if type(exc) is KeyboardInterrupt else FAILED


def ended_well(exc: BaseException) -> bool:
    """Return True for ``sys.exit()``, ``sys.exit(0)``, ``exit()``, ``raise SystemExit`` (code
    None or 0, ``False`` too): ``python FILE`` ends there with status 0, so a snippet that
    raised it ended normally, as if its file ended there. Any other code (a number, a
    message) is a failure (python: status 1 or more). Read as python reads it: an ``int`` by
    its value, and no code of the object's own runs (``type()``, ``int.__index__``). On a
    POSIX system the status is the code's low 8 bits, so ``sys.exit(256)`` ends with status
    0 there too, as python's does."""
    if not isinstance(exc, SystemExit):
        return False
    try:
        code = exc.code  # a subclass's own property may fail: then a failure, as any error
    except Exception:
        return False
    if code is None:
        return True
    if not issubclass(type(code), int):
        return False  # python prints it and exits 1
    value = int.__index__(code)
    if os.name != "posix":
        return value == 0
    value = value if -_LONG_LONG <= value < _LONG_LONG else -1
    return value % _C_INT % 256 == 0
