"""The kernel's stop, told apart from a KeyboardInterrupt the snippet raises itself.

The kernel (``gradstep.kernel.worker``) stops the request it is running, the user's Stop
or a timeout, with SIGINT: its handler sets ``Stop.requested``, then raises
KeyboardInterrupt. ``Stop.busy`` is True while it runs a request (its handler is then the
one SIGINT runs). A KeyboardInterrupt raised while busy and not requested came from the
snippet's own code: ``raise KeyboardInterrupt`` in a hook. Outside the kernel (busy is
False) it cannot be told: a Ctrl+C under python's own handler raises the same exception
at the same line, so there every KeyboardInterrupt is taken for a stop.
"""

from __future__ import annotations


class Stop:
    """Whether the kernel is running a request (``busy``), and whether its SIGINT handler
    stopped it (``requested``); the kernel's worker sets both."""

    busy = False
    requested = False


def raised_by_snippet(exc: BaseException) -> bool:
    """Return True for a KeyboardInterrupt the snippet's code raised, not the kernel's stop."""
    return isinstance(exc, KeyboardInterrupt) and Stop.busy and not Stop.requested
