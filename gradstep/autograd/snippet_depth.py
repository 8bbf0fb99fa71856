"""Python's recursion limit as the snippet meets it under ``python FILE``.

``python FILE`` runs the file's ``<module>`` with nothing above it: a recursive function of
the snippet's goes ~999 calls deep under the default limit of 1,000. Under gradstep the
``<module>`` runs inside gradstep's own frames (the command line's ``runpy``, ``__main__``,
the command and the runner: 8 units of the limit under ``gradstep backward``; a window's
kernel and the in-process API more), so the same function hit ``RecursionError`` that much
sooner, and a snippet that works under python failed (991 calls deep under ``gradstep
backward``).

``levelled`` raises the limit by exactly what gradstep's frames use while the snippet runs,
and shows the snippet the limit python would show: ``sys.getrecursionlimit`` and
``sys.setrecursionlimit`` are wrappers meanwhile that take that offset off and put it on
(the value read, the limit set, the numbers of the "too low" error). What gradstep's frames
use is measured, not counted: the same probe (a function calling itself until
``RecursionError``, run by ``exec`` as the snippet is) runs from the runner's own frame and
from a new thread's first frame, which has nothing above it as a ``python FILE``
``<module>`` has not; the difference is the offset (C code that checks the limit, a
``tp_call`` in the stack, counts as python counts it). The fresh thread's count is taken
once per process and limit. A recorded call raises it further by its own frames while
torch's function runs (``call_levelled``): a hook of the snippet's run in the pass goes as
deep as python's. Still different (docs/fidelity.md): a thread the snippet starts has the
offset more, and the two functions are other objects than ``sys``'s.
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import re
import sys
from collections.abc import Iterator

from gradstep.autograd.own_frames import frames_out


def _deepest(n=1):
    try:
        return _deepest(n + 1)
    except RecursionError:
        return n


# run by ``exec`` as the snippet is (``exec`` itself counts, as it does for the snippet)
PROBE = compile("found.append(deepest())\n", "<gradstep depth probe>", "exec")
_INT_END = 2 ** 31  # the limit is a C int
PROBED_UP_TO = 20_000  # a higher limit is not probed (probe_namespace)
_FRESH: dict[int, int] = {}  # limit -> how deep the probe goes on a fresh thread
_TOO_LOW = re.compile(r"cannot set the recursion limit to (-?\d+) at the recursion depth "
                      r"(-?\d+): the limit is too low")


def _not_probed():
    return None


def probe_namespace() -> dict:
    """A namespace for ``exec(PROBE, ...)``; its ``found`` gets the depth reached, or None
    where the limit is above ``PROBED_UP_TO``: there the probe is not run. It goes as deep
    as the limit, twice the first time (and a run then takes its time and memory: at a
    limit of 1,000,000, which a script raising the limit for deep recursion may have set
    before calling ``Session().run``, ~0.16 s more a run, 0.33 s the first, and ~120 MB;
    review), and a few levels of so many matter little: such a run is not levelled."""
    return {"found": [], "deepest": _deepest if _GET() <= PROBED_UP_TO else _not_probed}


def _on_fresh_thread(found: list, done) -> None:
    found.append(_deepest())
    done.release()


def _fresh_depth(limit: int) -> int | None:
    """How deep the probe goes from a frame with nothing above it: a new thread's first
    frame, a Python function called from C, as ``python FILE`` calls its ``<module>``
    (with no ``exec`` between: calling a C function counts one, while it runs); None if it
    does not answer in 10 s."""
    if limit not in _FRESH:
        found: list = []
        done = _thread.allocate_lock()
        done.acquire()
        _thread.start_new_thread(_on_fresh_thread, (found, done))
        if not done.acquire(timeout=10) or not found:
            return None
        _FRESH[limit] = found[0]
    return _FRESH[limit]


_GET, _SET = sys.getrecursionlimit, sys.setrecursionlimit  # sys's own
_OFFSET = [0]  # what gradstep's frames use, while a snippet runs levelled


@contextlib.contextmanager
def levelled(probed: dict) -> Iterator[None]:
    """Inside the block, the recursion limit is raised by what gradstep's frames use at
    the point ``probed`` (a ``probe_namespace`` run by ``exec(PROBE, probed)``) was run
    from, and the snippet reads and sets the limit python's way (the two wrappers are the
    same objects in every run: torch's dynamo, imported during one, keeps its stand-in
    for the one it met)."""
    limit = _GET()
    depth = probed["found"][0] if probed["found"] else None
    fresh = _fresh_depth(limit) if depth is not None else None
    offset = fresh - depth if fresh is not None else 0
    if offset <= 0 or _OFFSET[0] or (sys.getrecursionlimit, sys.setrecursionlimit) != (
            _GET, _SET):  # (a run inside a run, or sys's functions not sys's: as they are)
        yield
        return
    offset = _raise_by(offset)
    sys.getrecursionlimit, sys.setrecursionlimit = getrecursionlimit, setrecursionlimit
    try:
        yield
    finally:
        sys.getrecursionlimit, sys.setrecursionlimit = _GET, _SET
        _lower_by(offset)


def call_levelled(caller, call, original, args, kwargs):
    """Return ``call(original, args, kwargs)`` (a call's frame at the snippet's line,
    ``calls.as_if_called_from``, recorded or not) with the limit raised meanwhile by
    gradstep's frames between ``caller`` (the frame that called torch's function: the
    snippet's, torch's, or gradstep's own API, whose frames python counts too) and torch's
    function: its wrapper, the recorder's, this one and ``call``'s (counted: a Python frame
    is one level). A hook or custom Function of the snippet's that torch's pass runs then
    goes as deep as python's (5 levels less under a recorded ``loss.backward()``) and reads
    python's limit. Outside a levelled run, or with ``caller`` not above, as it is."""
    if not _OFFSET[0]:
        return call(original, args, kwargs)
    frames, frame = 1, sys._getframe()  # (``call``'s, then this one's and those above)
    while frame is not None and frame is not caller:
        frames, frame = frames + 1, frame.f_back
    if frame is None:
        return call(original, args, kwargs)
    frames = _raise_by(frames)
    try:
        return call(original, args, kwargs)
    finally:
        _lower_by(frames)


def _raise_by(frames: int) -> int:
    """Raise the limit by ``frames`` (to C's int's end at most: there not exact) and add
    them to the offset the wrappers take off; return by how much it was raised."""
    limit = _GET()
    frames = min(limit + frames, _INT_END - 1) - limit
    _SET(limit + frames)
    _OFFSET[0] += frames
    return frames


def _lower_by(frames: int) -> None:
    """Undo ``_raise_by``'s ``frames``: the snippet's own limit as python leaves it, where
    gradstep's frames allow it (a limit the snippet set too low for them is left raised)."""
    _OFFSET[0] -= frames
    with contextlib.suppress(RecursionError, ValueError):
        _SET(_GET() - frames)


@functools.wraps(_GET)
def getrecursionlimit(*args, **kwargs):
    if args or kwargs:  # sys's own TypeError ("takes no arguments (1 given)")
        with frames_out:
            return _GET(*args, **kwargs)
    return _GET() - _OFFSET[0]


@functools.wraps(_SET)
def setrecursionlimit(*args, **kwargs):
    with frames_out:  # sys's own errors, raised at the snippet's line
        if kwargs or len(args) != 1:  # its TypeError ("takes exactly one argument (0 given)")
            return _SET(*args, **kwargs)
        new_limit, offset = args[0], _OFFSET[0]
        try:
            value = new_limit.__index__() if type(new_limit) is not int else new_limit
        except Exception:
            value = None
        if value is None or value < 1 or value >= _INT_END:
            return _SET(new_limit)  # its TypeError, ValueError or OverflowError
        too_low = None
        try:
            return _SET(min(value + offset, _INT_END - 1))  # (C's int: the end, not exact)
        except RecursionError as exc:
            too_low = _TOO_LOW.fullmatch(str(exc))
            if too_low is None:
                raise
        raise RecursionError(  # (raised here: python's has no context of gradstep's)
            f"cannot set the recursion limit to {value} at the recursion depth "
            f"{int(too_low.group(2)) - offset - 1}: the limit is too low")  # (this frame)
