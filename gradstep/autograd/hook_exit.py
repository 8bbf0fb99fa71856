"""A hook of the snippet's that calls ``sys.exit()`` inside the pass gradstep runs itself.

``gradstep backward`` (and the window's Backward) runs a pass on the snippet's root when
the snippet made none: its hooks then run where ``python FILE`` never ran them. One that
calls ``sys.exit()`` stops that pass where it was. The pass keeps its steps so far and
this error names the hook's line; ``exit_status`` is what the command line exits with:
0 for a status python reads as 0 (``sys.exit()``, ``sys.exit(0)``: the hook asked for a
normal end, as the same hook in the snippet's own ``loss.backward()`` ends the snippet
normally), 1 for any other (a failure, as the snippet's own ``sys.exit(2)``).
"""

from __future__ import annotations

from gradstep.autograd.errors import explain
from gradstep.autograd.exit_status import ended_well
from gradstep.i18n import lazy, with_words


def hook_exit_error(exc: SystemExit, source: str, filename: str, target: str | None) -> dict:
    """Return the pass record's error for ``exc``, a hook's ``sys.exit()`` in gradstep's pass."""
    error = dict(explain(exc, source, filename, target=target))
    line = error.get("line")
    where = lazy("the hook at line {line}", line=line) if line else lazy("a hook of the snippet's")
    if ended_well(exc):
        error["exit_status"] = 0
        return with_words(
            error,
            title=lazy("A hook ended gradstep's backward pass with exit()"),
            explanation=lazy(
                "The snippet makes no backward call on this graph, so under python its hooks "
                "never run. In the pass gradstep ran on the root, {where} called exit() with "
                "status 0, which stopped the pass there: the steps before it are shown, the "
                "nodes after it did not run. As python ends with status 0 there, so does "
                "gradstep.", where=where),
            fix=lazy("Call backward() in the snippet itself to see what python does, or leave "
                     "exit() out of the hook."))
    error["exit_status"] = 1
    return with_words(
        error,
        title=lazy("A hook exited with a failure status in gradstep's backward pass"),
        explanation=lazy(
            "The snippet makes no backward call on this graph, so under python its hooks "
            "never run. In the pass gradstep ran on the root, {where} called exit() with a "
            "status other than 0 (or a message), which python reports as a failure: the pass "
            "stopped there, the steps before it are shown.", where=where),
        fix=lazy("Call backward() in the snippet itself to see what python does, or leave "
                 "exit() out of the hook."))
