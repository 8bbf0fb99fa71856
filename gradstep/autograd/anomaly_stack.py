"""The forward call's traceback anomaly mode keeps, with the frames of the plain run only.

Under ``torch.autograd.set_detect_anomaly(True)`` torch keeps, on each node it makes, the
stack of the forward call that made it (``torch.fx.traceback.format_stack``, which torch's
C++ looks up at each node) and prints it when the node's backward fails ("Error detected in
SigmoidBackward0. Traceback of forward call that caused the error: ..."). Under gradstep
that stack began with the kernel's frames (``worker.py`` ``main``, ``serve``, ``answer``,
``session.py`` ``run``, ``runner.py`` ``exec(code, namespace)``) before the snippet's own
``<module>``, where ``python FILE`` shows the snippet's frames only.

While the snippet runs, ``torch.fx.traceback.format_stack`` is a wrapper (``functools.wraps``
of torch's) that leaves out the frames below the snippet (the frame that runs it and those
under it) and gradstep's own on the way (a wrapper of a torch function, the
``--deep-values`` mode, ``calls.as_if_called_from``'s moved frame); every other frame is
written as torch's function writes it. A stack without the runner's frame (a thread the
snippet started) is torch's as it is. After the run torch's function is put back.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import traceback

import torch.fx.traceback as fx_traceback

from gradstep.autograd.own_frames import is_own

_RUNNERS: list = []  # the frames that run a snippet now, innermost last


@contextlib.contextmanager
def snippet_stacks(runner):
    """Within this block, anomaly mode's forward stacks leave out ``runner`` (the frame
    that runs the snippet), the frames below it, and gradstep's own frames."""
    original = fx_traceback.format_stack
    if not _RUNNERS:
        fx_traceback.format_stack = functools.wraps(original)(_stack_of(original))
    _RUNNERS.append(runner)
    try:
        yield
    finally:
        _RUNNERS.remove(runner)
        if not _RUNNERS:
            fx_traceback.format_stack = getattr(fx_traceback.format_stack, "__wrapped__",
                                                fx_traceback.format_stack)


def _stack_of(original):
    def format_stack() -> list[str]:
        if fx_traceback.should_preserve_node_meta:  # torch's own stack, not this process's
            return original()
        frames = plain_frames(sys._getframe(1))
        if frames is None:  # as torch's: from the frame that called it
            return traceback.format_list(traceback.extract_stack(sys._getframe(1)))
        stack = traceback.StackSummary.extract((f, f.f_lineno) for f in frames)
        stack.reverse()
        return traceback.format_list(stack)

    return format_stack


def plain_frames(frame) -> list | None:
    """Return the frames from ``frame`` down that ``python FILE`` has (innermost first): those
    above the runner's, less gradstep's own; None when no runner's frame is below it."""
    kept = []
    while frame is not None:
        if any(frame is runner for runner in _RUNNERS):
            return kept
        if not is_own(frame.f_code):
            kept.append(frame)
        frame = frame.f_back
    return None

