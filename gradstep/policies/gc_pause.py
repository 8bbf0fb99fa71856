"""When gradstep pauses Python's cyclic garbage collector: around its own bulk work.

Reading a big reply, building a 100,000-node graph, laying it out or writing its
picture each make millions of small dicts and lists; every few hundred of them the
collector runs, and each full collection walks the whole heap (the graph itself), so
a collector left on costs more than the work. None of that work makes cycles. The
kernel also pauses it while it imports torch and gradstep (the window's: networkx) at start (a
collection after each module walks torch's heap), then collects once or, for the
command line, freezes what they made, unwalked (``worker.settle_imports``).
Never used
around a snippet's own code (its garbage and ``__del__`` timing stay Python's).
The window's own process goes one step further (``freeze_intakes``, ``settle_intake``):
what a big run and its pass made is frozen, so no collection walks it while the user
steps, and given back, and collected once, when the next run arrives.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import operator
import threading
from collections.abc import Callable, Iterator
from itertools import repeat


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block (see ``hold``)."""
    hold()
    try:
        yield
    finally:
        release()


# The collector is one switch for the whole process, and pauses overlap across threads (the
# window's runner holds it while its worker thread works; a worker's own pause nests in it,
# and a GUI-thread pause may start before a request and end after it). Each pause is
# counted: the collector comes back, as it was before the first, when the last one ends.
# (A pause that saved and restored the switch itself turned the collector back on while a
# worker thread still worked: a collection could then free the window's Qt objects off the
# GUI thread, and a window test hung or crashed now and then.)
_pauses = 0
_enable_after = False
_pauses_lock = threading.Lock()


def hold() -> None:
    """Start a pause of the cyclic collector (end it with ``release``)."""
    global _pauses, _enable_after
    with _pauses_lock:
        if _pauses == 0:
            _enable_after = gc.isenabled()
            gc.disable()
        _pauses += 1


def release() -> None:
    """End a pause ``hold`` started; the last one turns the collector back on if it was on."""
    global _pauses
    with _pauses_lock:
        _pauses -= 1
        if _pauses == 0 and _enable_after:
            gc.enable()


def pauses() -> int:
    """Return how many pauses are open now (0: the collector is as its owner left it)."""
    return _pauses


def without_gc(func: Callable) -> Callable:
    """Decorate ``func`` to run with the cyclic collector paused."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return func(*args, **kwargs)
    return wrapper


class _Probe:
    """A tracked object of gradstep's own (``settle_after_work``)."""


class _Settling:
    """How gradstep tells whether the snippet froze objects of its own.

    ``frozen``: how many frozen objects gradstep knows of (fewer are left as some are
    freed; more means the snippet froze some). ``probe``: instead, after gradstep froze
    everything itself, uncounted: an object made just after, young, which only a later
    ``gc.freeze`` moves out of the generations the collector walks. Both None: not known
    (a user's process: its frozen objects are its own business)."""

    frozen: int | None = None
    probe: _Probe | None = None


def settle_after_work(frozen_count: int | None) -> None:
    """Let ``paused_after_snippet`` leave what gradstep's work made in the oldest generation,
    unwalked. Call only in a process where every frozen object is gradstep's own (the
    kernel, after its imports: ``frozen_count`` of them), or None right after gradstep's
    own ``gc.freeze``: counting walks every frozen object (~17 ms after a kernel's
    imports, twice: here and when the first run is checked), a probe does not."""
    _Settling.frozen = frozen_count
    _Settling.probe = _Probe() if frozen_count is None else None


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
            if settle and _frozen_by_gradstep_only():  # again: a snippet's thread, or a
                # __del__ of its objects, may have frozen some meanwhile
                gc.freeze()
                gc.unfreeze()
                _Settling.frozen, _Settling.probe = 0, None


def _frozen_by_gradstep_only() -> bool:
    if _Settling.probe is not None:  # still in a generation the collector walks: no freeze since
        # Oldest first: the probe has moved there by the end of a snippet, while what a
        # 100,000-node walk makes with the collector paused (~1.2 M objects) is still in
        # the youngest (scanned first: ~70 ms); compared by identity in C, not in Python.
        return any(any(map(operator.is_, repeat(_Settling.probe), gc.get_objects(generation)))
                   for generation in (2, 1, 0))
    return _Settling.frozen is not None and gc.get_freeze_count() <= _Settling.frozen


BIG_INTAKE = 5_000  # graph nodes: from here a full collection of the window's heap takes ~0.1 s or more


class _Intakes:
    """The window's own process (``freeze_intakes``) freezes what a big intake made."""

    enabled = False
    frozen = False  # something is frozen by ``settle_intake`` since the last run


def freeze_intakes(enabled: bool = True) -> None:
    """Let this process freeze what the window takes in from a big run (``settle_intake``).
    Only for a process that is the window's alone (``gradstep gui``): a freeze holds every
    object of the process, not only gradstep's."""
    _Intakes.enabled = enabled


def settle_intake(nodes: int, *, new_run: bool) -> None:
    """After the window took in a run or a pass of a graph with ``nodes`` nodes (the
    collector paused meanwhile): freeze what the process holds, so no collection walks it.

    Why: a 100,000-node window holds ~2.45 M tracked objects; left to the collector, a young
    collection walks them as the pause ends (~0.35 s) and a full one follows within the
    first steps (~1.4 s here, ~3 s on a slower run). Frozen objects are still freed when
    their last reference goes; only cycles among them wait. So a new run first gives the
    last run's frozen objects back and collects once (its cycles are found then: the
    wait moves from the steps to the run the user is waiting for anyway), then freezes
    again when its own graph is big. Below ``BIG_INTAKE`` nodes nothing is frozen.
    """
    if not _Intakes.enabled:
        return
    if new_run and _Intakes.frozen:
        gc.unfreeze()
        _Intakes.frozen = False
        gc.collect()
    if nodes >= BIG_INTAKE:
        gc.freeze()
        _Intakes.frozen = True
