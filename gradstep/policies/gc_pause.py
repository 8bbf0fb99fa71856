"""When gradstep pauses Python's cyclic garbage collector: around its own bulk work.

Reading a big reply, building a 100,000-node graph, laying it out or writing its
picture each make millions of small dicts and lists; every few hundred of them the
collector runs, and each full collection walks the whole heap (the graph itself), so
a collector left on costs more than the work. None of that work makes cycles. The
kernel also pauses it while it imports torch, networkx and gradstep at start (a
collection after each module walks torch's heap), then collects once or, for the
command line, freezes what they made, unwalked (``worker.settle_imports``).
Never used
around a snippet's own code (its garbage and ``__del__`` timing stay Python's).
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block (no-op when already paused)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_gc(func: Callable) -> Callable:
    """Decorate ``func`` to run with the cyclic collector paused."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return func(*args, **kwargs)
    return wrapper
