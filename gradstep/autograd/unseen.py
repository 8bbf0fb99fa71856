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

import contextlib
import threading

from torch._C import (
    DisableTorchFunction,
    _is_torch_function_mode_enabled,
    _len_torch_dispatch_stack,
)
from torch._C._autograd import _enable_record_function, _profiler_enabled
from torch.utils._python_dispatch import _disable_current_modes


def watched() -> bool:
    """Return True while a torch function mode, a dispatch mode or a profiler is on."""
    return _is_torch_function_mode_enabled() or _len_torch_dispatch_stack() > 0 or _profiler_enabled()


@contextlib.contextmanager
def unseen():
    """Run the block where no function mode, dispatch mode or profiler of the snippet sees it.

    Blocks nest (a summary inside a recorded pass's bookkeeping): only the outermost one
    turns op recording off and on again, so the rest of the outer block stays unseen.
    (Torch offers no way to read the recording flag: it is taken to be on, as it is
    unless the snippet turned it off through torch's private ``_enable_record_function``.)
    """
    with DisableTorchFunction(), contextlib.ExitStack() as stack:
        if _len_torch_dispatch_stack():
            stack.enter_context(_disable_current_modes())
        if _profiler_enabled() and not getattr(_recording, "off", False):
            _enable_record_function(False)
            _recording.off = True
            stack.callback(_record_again)
        yield


_recording = threading.local()  # off: an outer unseen() on this thread turned recording off


def _record_again() -> None:
    _recording.off = False
    _enable_record_function(True)
