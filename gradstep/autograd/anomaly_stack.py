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

Python's own stack walk, ``traceback.walk_stack`` (through which ``traceback.print_stack``,
``extract_stack``, ``format_stack`` and ``logging``'s ``stack_info`` read the stack), is
wrapped the same way for the same block: ``traceback.print_stack()`` in a hook during a
recorded backward call showed the snippet's call line twice (its own frame, and the moved
frame that makes warnings name it) with gradstep's frames between, and at any depth the
kernel's frames below the snippet's ``<module>``; it now shows python's frames. What walks
``frame.f_back`` itself (``inspect.stack()``, ``sys._getframe``) still sees them.
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
    original, walk = fx_traceback.format_stack, traceback.walk_stack
    if not _RUNNERS:
        fx_traceback.format_stack = functools.wraps(original)(_stack_of(original))
        traceback.walk_stack = functools.wraps(walk)(_walk_of(walk))
    _RUNNERS.append(runner)
    try:
        yield
    finally:
        _RUNNERS.remove(runner)
        if not _RUNNERS:
            fx_traceback.format_stack = getattr(fx_traceback.format_stack, "__wrapped__",
                                                fx_traceback.format_stack)
            traceback.walk_stack = getattr(traceback.walk_stack, "__wrapped__",
                                           traceback.walk_stack)


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


def _walk_of(original):
    def walk_stack(f):
        if f is None:  # as Python's: the frame three calls above the walk's consumer
            f = sys._getframe().f_back.f_back.f_back.f_back
        frames = plain_frames(f)
        if frames is None:  # a thread of the snippet's, or gradstep's own code outside it
            yield from original(f)
            return
        for frame in frames:
            yield frame, frame.f_lineno

    return walk_stack


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

