"""The snippet's signal handlers, held while a recorded backward call runs gradstep's own code.

Python runs a signal handler in the main thread at the next bytecode boundary of whatever
Python code runs then. In the plain run a backward pass with no Python code of the snippet's
in it (no hook, no custom ``Function``) runs in torch's C++ from start to end: a timer that
goes off during it has its handler run after the pass, in torch's ``_engine_run_backward``,
so a handler that raises (a timeout) raises once every ``.grad`` is written. Under gradstep
the pass runs gradstep's step hooks, Python code, at every node: the handler ran in one of
them, its exception went into torch's engine, and the pass stopped there, leaving some
leaves' ``.grad`` unwritten, which no plain run can do (fidhunt5 left it; recfix3).

While a recorded call runs on the main thread (``record``), each Python handler of the
snippet's (not SIGINT's: the kernel's Stop) is replaced by ``Held.postponing``: a signal that
comes while gradstep's code runs is noted, and its handler runs as the call ends, in the
caller's frame (each noted signal once, by signal number, as Python runs the handlers of
the signals pending at one check: two that came during a pass of torch's C++ code run
lowest number first, whatever their order; a signal that comes twice before its handler
runs is one); one that comes while other Python code runs (a nested frame of torch's or
the snippet's the engine called) runs its handler there, with those noted before it.
Only for a pass with no Python code gradstep can see: where one has a tensor hook, a custom
``Function`` or a module's backward hook (``calls._runs_python``), the handlers are put back
once the call is set up, those noted meanwhile run there, and a signal during the pass runs
its handler where it finds it (a step hook of gradstep's: the pass stops at about the node
where python's would stop at the hook). Holding them there, a noted signal
waited for the next signal or the call's end (``postponing`` runs only as a signal comes): a
hook after it ran, and a pass python stops ran through (review of recfix3). What is still
seen: ``signal.getsignal`` read during a held call gives ``postponing`` (only Python code
gradstep cannot see reads it: a hook put on a ``grad_fn`` itself, a saved tensor's unpack
hook), and a handler's ``frame`` is the caller's where the plain run gives torch's.
"""

from __future__ import annotations

import _signal
import signal
import threading

from torch.autograd import graph as autograd_graph

from gradstep.autograd.own_frames import is_own

# SIGINT is the kernel's Stop (and python's KeyboardInterrupt); the others take no handler
_NUMBERS = tuple(sorted(int(n) for n in signal.valid_signals()
                        if n not in (signal.SIGINT, signal.SIGKILL, signal.SIGSTOP)
                        and n < signal.NSIG))


def hold() -> Held | None:
    """Return the ``Held`` of the snippet's Python handlers now set, ``postponing`` not yet in
    their places (``Held.install``, in the ``try`` whose ``finally`` releases it: an exception
    landing between two of its ``signal.signal`` calls leaves none swapped after the call);
    None when there is none, or off the main thread (where no handler can be set). About
    15 us a call (reading the ~60 handlers; review of recfix3, load 6.5)."""
    if threading.get_ident() != threading.main_thread().ident:
        return None
    try:  # (signal.getsignal's enum conversions: 60 times slower)
        now = list(map(_signal.getsignal, _NUMBERS))
    except (OSError, ValueError):  # not expected: a number Python does not know
        return None
    handlers = {number: handler for number, handler in zip(_NUMBERS, now)
                if handler is not None and type(handler) is not int}  # SIG_DFL, SIG_IGN, C
    return Held(handlers) if handlers else None


class Held:
    """The handlers set aside (``handlers``: number to the snippet's handler) and the signals
    noted while gradstep's code ran (``noted``: run lowest number first)."""

    __slots__ = ("handlers", "noted")

    def __init__(self, handlers: dict):
        self.handlers = handlers
        self.noted: dict = {}

    def install(self) -> None:
        for number in self.handlers:
            _signal.signal(number, self.postponing)

    def postponing(self, number, frame):
        self.noted[number] = None  # run with those pending, by number
        if not _in_gradsteps_code(frame):
            self.run_noted(frame)

    def run_noted(self, frame) -> None:
        """Run the handler of each noted signal, lowest number first (one that raises stops
        the rest, as in Python's own loop over the signals pending; those left stay noted).
        Not in the order they came: python runs SIGUSR1's handler before SIGUSR2's after a
        pass both came in, SIGUSR2 first (review of the merged branches)."""
        while self.noted:
            number = min(self.noted)
            del self.noted[number]
            handler = self.handlers[number]
            if callable(handler):
                handler(number, frame)

    def release(self, frame, failed: BaseException | None = None) -> None:
        """Put the snippet's handlers back (where the snippet did not set another meanwhile),
        then run those of the signals noted, in ``frame``.

        ``failed``: the error torch's engine ended the pass with. Python runs a handler
        pending at the pass's end in the ``finally`` of torch's ``_engine_run_backward``,
        while that error is handled: the handler's exception is chained to it ("During
        handling of the above exception"), ``sys.exc_info()`` in the handler is it, and its
        traceback ends there (it goes no further). So the noted handlers run while it is
        handled, its traceback cut to python's for that time (put back if none raised)."""
        landed = None
        for number, handler in self.handlers.items():
            try:
                if _signal.getsignal(number) == self.postponing:
                    _signal.signal(number, handler)
            except BaseException as exc:  # a handler put back already, run here: put back
                landed = landed or exc    # the rest first
        if landed is not None:
            raise landed
        engine = _engine_entry(failed) if self.noted and failed is not None else None
        if engine is None:  # (an error torch raised before its engine ran: python's handler
            self.run_noted(frame)  # ran before it, with no error to chain to)
            return
        kept, context = failed.__traceback__, failed.__context__
        try:
            raise failed
        except BaseException:
            failed.__traceback__, failed.__context__ = engine, context
            self.run_noted(frame)
        failed.__traceback__ = kept


def _engine_entry(exc: BaseException):
    """The entry of ``exc``'s traceback for torch's ``_engine_run_backward`` (the error
    came out of the engine there), or None."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code is not _ENGINE_CALLER:
        tb = tb.tb_next
    return tb


def _in_gradsteps_code(frame) -> bool:
    """Return whether ``frame`` runs for gradstep's code: the first frame, from it outwards,
    that is gradstep's comes before the engine's caller (a hook's frame, the snippet's or
    torch's, is called by the engine)."""
    while frame is not None:
        code = frame.f_code
        if code is _ENGINE_CALLER:
            return False
        if is_own(code):
            return True
        frame = frame.f_back
    return False


_ENGINE_CALLER = getattr(getattr(autograd_graph, "_engine_run_backward", None), "__code__", None)
