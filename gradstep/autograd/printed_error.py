"""An uncaught exception as ``python FILE`` prints it, its tracebacks cut to the user's frames.

The command line explains a snippet's failure on one line, ``FILE:LINE: Type: message``,
with the message's first line. Python prints more: the rest of a multi-line message
(torch's "received an invalid combination of arguments ... expected one of:" lists), the
notes of ``add_note``, an ``ExceptionGroup``'s sub-exceptions and the exceptions it was
raised from or while handling ("The above exception was the direct cause of the following
exception:"). ``printed_text`` returns that text, written by Python's own ``traceback``
module, where it says more than ``Type: message`` does; its tracebacks hold the frames of
the snippet and of the user's own files beside it (``call_site.is_user_file``), not those
of the kernel below the snippet, of gradstep, of torch or of other installed packages.
"""

from __future__ import annotations

import traceback

from gradstep.autograd.call_site import is_user_file
from gradstep.autograd.errors import MOVED_CALL


def printed_text(exc: BaseException, filename: str) -> str | None:
    """Return ``exc`` as python prints it when uncaught (user frames only), or None where it
    says no more than its type and the first line of its message (or cannot be written)."""
    if isinstance(exc, SyntaxError | SystemExit | KeyboardInterrupt):
        return None  # the snippet's syntax error has its own caret; the others print no more
    try:
        printed = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
        _cut_to_user_frames(printed, exc, filename, set())
        if not _says_more(printed):
            return None
        return "".join(printed.format())
    except Exception:  # an exception whose str() or notes fail: the one line stands
        return None


def _cut_to_user_frames(printed, exc, filename: str, seen: set) -> None:
    """Keep in ``printed`` (``exc``'s TracebackException) and in those it was raised from, or
    its group holds, only the frames of the user's code."""
    if printed is None or exc is None or id(printed) in seen:
        return
    seen.add(id(printed))
    frames = [frame for frame, _line in traceback.walk_tb(exc.__traceback__)]
    if len(frames) == len(printed.stack):  # one summary per frame, in order
        printed.stack = traceback.StackSummary.from_list(
            [summary for summary, frame in zip(printed.stack, frames)
             if _users(frame.f_code, filename)])
    _cut_to_user_frames(printed.__cause__, exc.__cause__, filename, seen)
    _cut_to_user_frames(printed.__context__, exc.__context__, filename, seen)
    for inner, raised in zip(getattr(printed, "exceptions", None) or (),
                             getattr(exc, "exceptions", ())):
        _cut_to_user_frames(inner, raised, filename, seen)


def _users(code, filename: str) -> bool:
    if code.co_varnames[:1] == (MOVED_CALL,):  # gradstep's frame at the snippet's line
        return False
    return code.co_filename == filename or is_user_file(code.co_filename)


def _says_more(printed) -> bool:
    """Return True when python's text holds more than ``Type: message`` on one line."""
    chained = printed.__cause__ is not None or (printed.__context__ is not None
                                                and not printed.__suppress_context__)
    if chained or getattr(printed, "exceptions", None):
        return True
    only = "".join(printed.format_exception_only())
    return only.rstrip("\n").count("\n") > 0  # a multi-line message, or notes
