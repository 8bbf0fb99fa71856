"""A hook of the snippet's that calls ``sys.exit()`` (or raises KeyboardInterrupt) inside the
pass gradstep runs itself.

``gradstep backward`` (on a snippet that made no pass) and the window's Backward (also
after the snippet's own passes, with ``retain_graph``) run a pass ``python FILE`` never
runs: the snippet's hooks run in it. Its words say so, not that the snippet made no
backward call (in the window it may have). One that
calls ``sys.exit()`` stops that pass where it was. The pass keeps its steps so far and
this error names the hook's line; ``exit_status`` is what the command line exits with:
0 for a status python reads as 0 (``sys.exit()``, ``sys.exit(0)``: the hook asked for a
normal end, as the same hook in the snippet's own ``loss.backward()`` ends the snippet
normally), 1 for any other (a failure, as the snippet's own ``sys.exit(2)``). A hook's
``raise KeyboardInterrupt`` stops the pass the same way, exit status 130 (as the snippet's
own ``raise KeyboardInterrupt``: ``exit_status.failure_status``); the kernel's stop (the user's Stop, a timeout) is
not a hook's and never comes here (``stop_flag``).
"""

from __future__ import annotations

from gradstep.autograd.errors import explain
from gradstep.autograd.exit_status import ended_well, failure_status
from gradstep.i18n import lazy, with_words


def hook_exit_error(exc: SystemExit | KeyboardInterrupt, source: str, filename: str,
                    target: str | None) -> dict:
    """Return the pass record's error for ``exc``, a hook's ``sys.exit()`` or ``raise
    KeyboardInterrupt`` in gradstep's pass."""
    error = dict(explain(exc, source, filename, target=target))
    line = error.get("line")
    where = lazy("the hook at line {line}", line=line) if line else lazy("a hook of the snippet's")
    if isinstance(exc, KeyboardInterrupt):
        error["exit_status"] = failure_status(exc)  # 130, as python FILE ended by it
        return with_words(
            error,
            title=lazy("A hook raised KeyboardInterrupt in gradstep's backward pass"),
            explanation=lazy(
                "gradstep ran this backward pass itself on the root: python's run of the "
                "snippet has no such pass. In it, {where} raised KeyboardInterrupt, which "
                "stopped the pass there: the steps before it are shown, the nodes after it "
                "did not run.", where=where),
            fix=lazy("Call backward() in the snippet itself to see what python does, or leave "
                     "the raise out of the hook."))
    if ended_well(exc):
        error["exit_status"] = 0
        return with_words(
            error,
            title=lazy("A hook ended gradstep's backward pass with exit()"),
            explanation=lazy(
                "gradstep ran this backward pass itself on the root: python's run of the "
                "snippet has no such pass. In it, {where} called exit() with status 0, which "
                "stopped the pass there: the steps before it are shown, the nodes after it "
                "did not run. Status 0 is a normal end: the command line exits 0.",
                where=where),
            fix=lazy("Call backward() in the snippet itself to see what python does, or leave "
                     "exit() out of the hook."))
    error["exit_status"] = 1
    return with_words(
        error,
        title=lazy("A hook exited with a failure status in gradstep's backward pass"),
        explanation=lazy(
            "gradstep ran this backward pass itself on the root: python's run of the snippet "
            "has no such pass. In it, {where} called exit() with a status other than 0 (or a "
            "message), which python reports as a failure: the pass stopped there, the steps "
            "before it are shown.", where=where),
        fix=lazy("Call backward() in the snippet itself to see what python does, or leave "
                 "exit() out of the hook."))
