"""The kernel's stop, told apart from a KeyboardInterrupt the snippet raises itself.

The kernel (``gradstep.kernel.worker``) stops the request it is running, the user's Stop
or a timeout, with SIGINT: its handler (``Stop.handler``) sets ``Stop.requested``, then
raises KeyboardInterrupt. ``Stop.busy`` is True while it runs a request. A
KeyboardInterrupt raised while busy, not requested, and with the kernel's handler the one
SIGINT runs came from the snippet's own code: ``raise KeyboardInterrupt`` in a hook.
Outside the kernel (busy is False), or where the snippet put a SIGINT handler of its own
(``signal.signal(signal.SIGINT, signal.default_int_handler)``: the kernel's stop then
raises without a note), it cannot be told: a stop raises the same exception at the same
line, so there every KeyboardInterrupt is taken for a stop. The client, which sent the
SIGINT, reads such a reply as its stop (``kernel.client._keyboard_interrupt``).
"""

from __future__ import annotations

import signal


class Stop:
    """Whether the kernel is running a request (``busy``), whether its SIGINT handler
    stopped it (``requested``), and that handler (``handler``); the kernel's worker sets
    them."""

    busy = False
    requested = False
    handler = None


def raised_by_snippet(exc: BaseException) -> bool:
    """Return True for a KeyboardInterrupt the snippet's code raised, not the kernel's stop."""
    return (isinstance(exc, KeyboardInterrupt) and Stop.busy and not Stop.requested
            and Stop.handler is not None and signal.getsignal(signal.SIGINT) is Stop.handler)
