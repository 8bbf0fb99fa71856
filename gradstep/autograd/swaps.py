"""``torch.utils.swap_tensors`` while the snippet runs, with gradstep's weak references out
of its way.

torch refuses to swap a tensor that has a weak reference ("Cannot swap t1 because it has
weakref associated with it"). gradstep keeps weak references to the tensors the snippet
binds to its top-level names (``names.Bindings``: labels and the root candidate, without
keeping them alive) and finalizers on the tensors a recorded call's held root leads to
(``calls.CallGraph``): under gradstep ``torch.utils.swap_tensors(a, b)`` raised, and so did
``m.to(torch.float64)`` after ``w = m.weight`` with
``torch.__future__.set_swap_module_params_on_conversion(True)`` ("_apply(): Couldn't swap
Linear.weight"), where python swapped them.

While the snippet runs, ``torch.utils.swap_tensors`` is a wrapper (``functools.wraps`` of
torch's; torch's modules call it through ``torch.utils``) that lets go of gradstep's own
weak references to the two tensors (those of the runs under way, ``under_way``: a wrapper
a module kept from an earlier run of the kernel serves the next run too; and the recorded
calls' notes of their leaves, ``pass_versions``: plain ``weakref.ref``s, the very object a
name's is where the leaf is named, since CPython makes one plain reference a tensor),
calls torch's,
and makes them again: each Python
object keeps its identity through a swap, so a name still labels the object bound to it;
a recorded call's notes go to the other object, with the data and version counter they
were taken of (the graph's leaf is then that object).
A held root of a recorded call whose tensor is swapped is let go (its tensor no longer
holds the node that root leads to: the call may no longer be drawn on the graph). Where a
weak reference of anyone else's is left, torch's function raises as in python, and
gradstep's references are made again as they were. A recorded pass's weak reference to a
leaf's ``.grad`` as it began (``grad_marks``) is made again too where torch refused the
swap; where torch swapped that tensor, the leaf's ``.grad`` is taken as changed in the pass.
"""

from __future__ import annotations

import functools
import weakref

from gradstep.autograd import grad_marks, pass_versions
from gradstep.autograd.own_frames import frames_out


class Release:
    """A recorded call's finalizer on a tensor its held root leads to: lets the root go
    (``calls.CallGraph``); told from anyone else's by its class."""

    __slots__ = ("held",)

    def __init__(self, held: list):
        self.held = held

    def __call__(self) -> None:
        self.held.clear()


# The ``names.Bindings`` (or None) of each run under way, innermost last, each in a list of
# its own (told apart by identity): a wrapper reads them at each call, not the run's that
# made it, since a module of the snippet's that took ``from torch.utils import
# swap_tensors`` stays imported (``sys.modules``) into the kernel's next run and keeps the
# wrapper it took then.
_RUNS: list = []


def under_way(bindings) -> list:
    """Note a run under way (``bindings``: its ``names.Bindings``, or None) until ``over``."""
    run = [bindings]
    _RUNS.append(run)
    return run


def over(run: list) -> None:
    """Note that ``run`` (``under_way``'s) ended."""
    for i in range(len(_RUNS) - 1, -1, -1):
        if _RUNS[i] is run:
            del _RUNS[i]
            return


def swapping(original):
    """Return ``torch.utils.swap_tensors`` (``original``) that first lets go of the weak
    references of the runs under way (their ``Bindings``', the recorded calls') to the two;
    with no run under way (a wrapper kept past its run), torch's own call as it is. One
    wrapper serves every run (``original`` itself where it is that wrapper: a run inside a
    run), so one a module kept from an earlier run ``is`` ``torch.utils.swap_tensors``, as
    in python."""
    for kept, wrapper in _WRAPPERS:
        if original is kept or original is wrapper:
            return wrapper
    wrapper = _wrapper(original)
    _WRAPPERS.append((original, wrapper))
    return wrapper


_WRAPPERS: list = []  # (torch's function, its wrapper)


# the recorded calls' notes of their leaves (``pass_versions``) and a recorded pass's notes
# of a leaf's ``.grad`` (``grad_marks``): each module's ``let_go(tensors)`` takes its weak
# references to the two tensors out, ``hold_again(taken, swapped)`` makes them again after
# the swap (``swapped``: the two tensors, or None where torch refused it)
_NOTES = (pass_versions, grad_marks)


def _wrapper(original):
    @functools.wraps(original)
    def swap_tensors(t1, t2):
        runs = list(_RUNS)
        if not runs:
            return original(t1, t2)
        with frames_out:  # torch's refusal, as the plain run's traceback has it
            return _swapped(original, t1, t2, runs)

    return swap_tensors


def _swapped(original, t1, t2, runs):
    """Swap with gradstep's weak references to ``t1`` and ``t2`` let go meanwhile."""
    taken = [(run[0], run[0].let_go((t1, t2))) for run in runs if run[0] is not None]
    noted = [(module, module.let_go((t1, t2))) for module in _NOTES]
    swapped = None  # (t1, t2) once torch swapped them: the notes go with the data
    try:
        if not _foreign((t1, t2)):
            for tensor in (t1, t2):
                _release_own(tensor)
        result = original(t1, t2)
        swapped = (t1, t2)
        return result
    finally:
        for module, let_go in noted:
            module.hold_again(let_go, swapped)
        for bindings, let_go in taken:
            if let_go:
                bindings.hold_again(let_go)


def _own_finalizer(reference) -> weakref.finalize | None:
    """Return the recorded calls' finalizer behind ``reference`` (a weak reference to a
    tensor), or None for anyone else's."""
    callback = getattr(reference, "__callback__", None)
    if type(callback) is not weakref.finalize:
        return None
    info = callback.peek()
    return callback if info is not None and type(info[1]) is Release else None


def _foreign(tensors) -> bool:
    """Return True when a weak reference to one of ``tensors`` is not gradstep's."""
    return any(_own_finalizer(r) is None for t in tensors for r in weakref.getweakrefs(t))


def _release_own(tensor) -> None:
    """Let go of the roots whose finalizers are on ``tensor`` (gradstep's only)."""
    for reference in weakref.getweakrefs(tensor):
        finalizer = _own_finalizer(reference)
        if finalizer is not None:
            finalizer()  # (runs Release once, and drops its weak reference)
