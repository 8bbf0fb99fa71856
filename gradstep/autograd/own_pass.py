"""Which calls of the step hooks belong to the pass they record.

The hooks sit on nodes that another pass can run while theirs does: a backward call a
hook of the snippet's makes inside the recorded pass (torch runs it on the same thread,
nested, as a pass of its own), or another thread's pass through a shared graph. Taken for
the recorded pass's steps, those calls showed a node running twice, and a node's
``grad_inputs`` from the other pass. torch numbers each pass (its graph task) and runs a
pass's CPU nodes on the thread that called it; its device threads run the rest.
"""

from __future__ import annotations

import threading

import torch

_task_id = getattr(torch._C, "_current_graph_task_id", None)  # (older torch: no filter)


def _no_task() -> None:
    return None


# The graph task running now (None on an older torch). A hook call of the task an ``OwnPass``
# named (``task``) is its pass's on any thread, and calling the ``OwnPass`` would change
# nothing it tells (``mixed``), so a hook may take ``current_task() == own.task`` as
# ``own()`` without the call (on an older torch both are None, and ``own()`` is always True).
current_task = _task_id or _no_task


class OwnPass:
    """Tells the recorded pass's hook calls from those of other passes.

    Made on the thread that starts the pass. The first hook that runs on that thread
    names the pass's graph task; a hook of another task there belongs to a nested pass.
    torch numbers graph tasks in the order they start, so a nested pass's number is the
    larger: a hook there of a smaller task than the one named means the first hook was a
    nested pass's (a hook of the snippet's on the root ran one before any node), and
    ``mixed`` then says so too.
    On other threads (a device thread's share of this pass, or another thread's pass) a
    hook is taken for this pass unless it is known to be another's; ``mixed`` then says
    whether one of them may have been another pass's. ``on_start`` (optional) is called
    inside the hook call that names the task (``StepRecorder._queue_summary``).
    """

    def __init__(self, on_start=None):
        self.caller = threading.get_ident()
        # called once, inside the hook call that names the pass's task (on its thread)
        self.on_start = on_start
        self.task: int | None = None  # the pass's graph task, once a hook ran on its thread
        self.elsewhere: set = set()  # graph tasks of the hooks taken on other threads
        self.misnamed = False  # the task named first was a nested pass's

    def __call__(self) -> bool:
        """Return True when the hook running now belongs to the recorded pass."""
        if _task_id is None:
            return True
        task = _task_id()
        if threading.get_ident() == self.caller:
            if self.task is None:
                self.task = task
                if self.on_start is not None:
                    self.on_start()
            elif task < self.task:
                self.misnamed = True
            return task == self.task
        if self.task is not None and task != self.task:
            return False
        self.elsewhere.add(task)
        return True

    def mixed(self) -> bool:
        """Return True when some hook calls taken for this pass may have been another's."""
        if self.misnamed:
            return True
        if self.task is None:
            return len(self.elsewhere) > 1
        return any(task != self.task for task in self.elsewhere)
