"""gradstep's own torch work, out of sight of the snippet's own observers.

A snippet can watch the torch calls made while it runs: a ``TorchFunctionMode``
sees every torch call and tensor attribute read, a ``TorchDispatchMode`` (such as
``FlopCounterMode``) every aten op, ``torch.profiler`` every op it records.
While the snippet runs, gradstep reads nodes and tensors and computes: a
value's summary, a node's Jacobian and saved numbers before a pass frees them, a
leaf's ``.grad`` copy during a recorded step. None of that is the snippet's, and
none of it may show up in what the snippet counts or prints (a FlopCounterMode
around ``loss.backward()`` counted 144 flops under gradstep against python's 48).

``unseen()`` runs a block below every torch function mode (and tensor subclass's
``__torch_function__``), with the snippet's dispatch modes set aside, and, while
a profiler records, with torch's op recording (``RecordFunction``) off on this
thread. ``watched()`` says whether any of those is on; when none is, ``unseen``
changes nothing and the hot paths skip it.
"""

from __future__ import annotations

import collections
import contextlib
import threading

from torch._C import (
    DisableTorchFunction,
    _is_torch_function_mode_enabled,
    _len_torch_dispatch_stack,
    _pop_torch_dispatch_stack,
    _push_on_torch_dispatch_stack,
)
from torch._C._autograd import _enable_record_function, _profiler_enabled
from torch._ops import _len_torch_dispatch_stack_pre_dispatch
from torch.utils._python_dispatch import _disable_current_modes


def watched() -> bool:
    """Return True while a torch function mode, a dispatch mode or a profiler is on."""
    return _is_torch_function_mode_enabled() or _len_torch_dispatch_stack() > 0 or _profiler_enabled()


def unseen():
    """Run the block where no function mode, dispatch mode or profiler of the snippet sees it.

    Blocks nest (a summary inside a recorded pass's bookkeeping): only the outermost one
    turns op recording off and on again, so the rest of the outer block stays unseen.
    (Torch offers no way to read the recording flag: it is taken to be on, as it is
    unless the snippet turned it off through torch's private ``_enable_record_function``.)

    A signal handler of the snippet's that raises may run between any two bytecodes of
    gradstep's (``handler_raised``): none of the switches may stay set when its exception
    lands as the block ends. With no dispatch mode and no profiler on (the usual case) the
    block is torch's ``DisableTorchFunction`` itself, whose exit runs no bytecode; else each
    switch is put back in a ``finally`` of its own, in a generator that, left at its
    ``yield`` by an exception in ``contextlib``'s exit before it resumed, puts them back as
    it is closed. (It was an ``ExitStack`` with a callback: an exception landing in the
    stack's loop or in the callback before its call left op recording off for the rest of
    the snippet's profile, its later ops unrecorded; recfix3.)
    """
    if _len_torch_dispatch_stack() or _profiler_enabled():
        return _unseen_watched()
    return DisableTorchFunction()


@contextlib.contextmanager
def _unseen_watched():
    with DisableTorchFunction(), \
            (_disable_current_modes() if _len_torch_dispatch_stack_pre_dispatch()
             else _dispatch_modes_aside()):
        if not _profiler_enabled() or getattr(_recording, "off", False):
            yield
            return
        _recording.off = True  # (a store: no handler runs between it and the try)
        try:
            _enable_record_function(False)
            yield
        finally:
            try:
                _enable_record_function(True)
            finally:
                _recording.off = False


@contextlib.contextmanager
def _dispatch_modes_aside():
    """torch's ``_disable_current_modes`` for the dispatch mode stack alone (the pre-dispatch
    one is empty), each move one call of torch's C functions: its own loops pushed the modes
    back one by one in Python, and an exception landing between two left the rest off the
    stack (the snippet's ``with`` of its mode then raised "trying to pop from empty mode
    stack")."""
    aside: list = []
    try:
        aside.extend(map(_pop_torch_dispatch_stack, [None] * _len_torch_dispatch_stack()))
        yield
    finally:
        collections.deque(map(_push_on_torch_dispatch_stack, reversed(aside)), maxlen=0)


_recording = threading.local()  # off: an outer unseen() on this thread turned recording off
