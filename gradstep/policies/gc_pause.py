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


class _Settling:
    """How many frozen objects gradstep froze itself (``settle_after_work``): fewer are left
    as some are freed, more means the snippet froze some; None: not known (a user's
    process: its frozen objects are its own business)."""

    frozen: int | None = None


def settle_after_work(frozen_count: int) -> None:
    """Let ``paused_after_snippet`` leave what gradstep's work made in the oldest generation,
    unwalked. Call only in a process where every frozen object is gradstep's own (the
    kernel, after its imports: ``frozen_count`` of them)."""
    _Settling.frozen = frozen_count


@contextlib.contextmanager
def paused_after_snippet() -> Iterator[None]:
    """Pause the collector for gradstep's bulk work on what a snippet left (walking its graph).

    The snippet's own young objects get their young collection first (where the pause's
    end gave them one). In a kernel (``settle_after_work``), what the work made then goes
    to the oldest generation unwalked when it ends (``freeze`` then ``unfreeze``: no walk;
    this also ends the imports' freeze) instead of a young collection walking it all (a
    100,000-node trace: ~1.2 M objects, ~0.3 s); elsewhere the collector resumes as
    ``gc_paused`` leaves it. Nothing is done while a snippet froze objects of its own, or
    turned the collector off.
    """
    settle = gc.isenabled() and _frozen_by_gradstep_only()
    if settle:
        gc.collect(0)
    with gc_paused():
        try:
            yield
        finally:
            if settle and _frozen_by_gradstep_only():
                gc.freeze()
                gc.unfreeze()
                _Settling.frozen = 0


def _frozen_by_gradstep_only() -> bool:
    return _Settling.frozen is not None and gc.get_freeze_count() <= _Settling.frozen
