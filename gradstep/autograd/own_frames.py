"""gradstep's own frames, and taking them out of a traceback on its way to the snippet.

While the snippet runs, some of torch's functions are gradstep's wrappers (``backward``,
``torch.autograd.grad``, ``Tensor.register_hook``, ``torch.load``...). An exception raised
through one carried the wrapper's frames (``calls.py`` ``wrapper``, ``record``,
``backward.py`` ``_kept_error``) into its traceback: a snippet that caught torch's error and
printed it (``traceback.print_exc()``, ``logging.exception``) showed them where ``python
FILE`` shows its own line, then torch's (fidhunt6). ``drop_own_frames`` takes them out;
each wrapper calls torch's function inside ``with frames_out:``.
"""

from __future__ import annotations

import os

from gradstep.autograd.errors import MOVED_CALL

_GRADSTEP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")
_EXAMPLES = os.path.join(_GRADSTEP, "resources", "")  # the lessons: snippets, not gradstep's
# ``held_signals``' frames between the code a signal found and the snippet's handler it ran
# (``Held.postponing``, ``run_noted``): python's signal machinery shows none
_SIGNALS = os.path.join(_GRADSTEP, "autograd", "held_signals.py")


def is_own(code) -> bool:
    """Whether ``code`` is gradstep's (a lesson's is the snippet's), or the frame
    ``calls.as_if_called_from`` makes at the snippet's line."""
    name = code.co_filename
    return ((name.startswith(_GRADSTEP) and not name.startswith(_EXAMPLES))
            or code.co_varnames[:1] == (MOVED_CALL,))


def drop_own_frames(exc: BaseException) -> None:
    """Take gradstep's frames out of ``exc``'s traceback as it leaves a wrapper (re-raised
    with a bare ``raise``, which adds no frame): those from the wrapper's own down to the
    first frame of another's (torch's function, the snippet's hook), and the moved call
    frames and ``held_signals``' frames further on (a handler that ran in a hook of a held
    call showed ``postponing`` and ``run_noted`` between the hook's line and its own).
    Frames of gradstep below another's are kept (the snippet's own call of gradstep's
    API). A ``SystemExit`` too: ``calls.ended_by`` finds the recorded call it ended by the
    ``record`` frame between two frames its traceback still holds (the frames taken out stay
    linked through ``f_back``, as python keeps a finished frame's caller)."""
    tb = exc.__traceback__
    while tb is not None and is_own(tb.tb_frame.f_code):
        tb = tb.tb_next
    exc.__traceback__ = tb
    while tb is not None and tb.tb_next is not None:
        following = tb.tb_next
        code = following.tb_frame.f_code
        if code.co_varnames[:1] == (MOVED_CALL,) or code.co_filename == _SIGNALS:
            tb.tb_next = following.tb_next
        else:
            tb = following


class _FramesOut:
    """``with frames_out:`` around a wrapper's call of torch's function: an exception that
    leaves the block has gradstep's frames taken out (``drop_own_frames``) and goes on.

    It adds no frame to what the snippet sees: ``__enter__`` has returned before the block
    runs, and ``__exit__`` is handed the exception without it passing through ``__exit__``'s
    frame; it returns None, so the ``with`` re-raises the exception as a bare ``raise`` does
    (``RERAISE``: its traceback as ``__exit__`` left it, no entry added). Tested against
    ``python FILE``: the printed traceback and ``traceback.extract_tb`` of each wrapper's
    error (``tests/autograd/test_calls.py``). A class, not ``contextlib.contextmanager``:
    that one throws the exception into its generator (a frame of its own) and sets the
    traceback back to the one it was handed, undoing the cut."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if exc is not None:
            drop_own_frames(exc)


frames_out = _FramesOut()
