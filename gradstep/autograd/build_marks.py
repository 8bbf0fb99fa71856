"""Which nodes a ``create_graph`` pass had built by each of its steps.

A pass run with ``create_graph=True`` builds the graph of its gradients while it runs:
torch makes each node of that graph when the step that computes it runs, numbering it
from the counter of the thread that runs the step (``_sequence_nr``). The call's record
keeps that counter as the call began and as it ended (``seq_mark``); what lies between,
which of those nodes existed after step ``k``, is read here: a pre-hook on every node of
the pass (put on after the step hooks, so it runs after gradstep's own) reads the counter
as step ``k + 1`` is about to run, the moment the window shows as "k steps done" (after
step ``k``'s node ran, torch adds what it sent into the next nodes' buffers: a sum there
builds an ``AddBackward0``, before the next node's pre-hooks). The read is torch's ``_get_sequence_nr()``, which only looks at the
counter: no node is made and no number taken, so the snippet's later nodes are numbered
as in the plain run.

A node whose number is at or past the counter after step ``k`` did not exist then. The
counter read is that of the thread a hook runs on: where a hook runs on another thread
than the call's (a device thread's pass), the counters say nothing of each other and no
marks are given (the window then shows what it showed before: only ``seq_mark``).
"""

from __future__ import annotations

import threading

from torch._C._autograd import _get_sequence_nr


class BuildMarks:
    """The counter after each step of one pass over ``id_of`` (grad_fn -> id).

    ``install(started)`` puts the hooks on (``started``: the step hooks' list of steps begun,
    whose length numbers each step); ``remove()`` takes them off; ``marks(begin, end, count)``
    gives the counter at each of the pass's ``count + 1`` positions."""

    def __init__(self, id_of: dict):
        self.id_of = id_of
        self._after: dict = {}  # k -> the counter as step k + 1 began (its first read)
        self._handles: list = []
        self._caller = threading.get_ident()
        self._elsewhere = False  # a hook ran on another thread

    def install(self, started: list) -> None:
        after, caller = self._after, self._caller

        def begins(grad_outputs):  # (the step hooks' pre-hook ran: step k + 1 is begun)
            if threading.get_ident() != caller:
                self._elsewhere = True
            else:
                after.setdefault(len(started) - 1, _get_sequence_nr())

        for fn in self.id_of:
            self._handles.append(type(fn).register_prehook(fn, begins))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def drop(self) -> None:
        """Take the hooks off and forget what they read (the pass is recorded without them)."""
        self.remove()
        self._after.clear()
        self._elsewhere = True

    def marks(self, begin: int, end: int, count: int) -> list | None:
        """Return ``[counter after k steps for k in 0 .. count]``: the counter as each step
        began, and ``end`` (as the call ended: the pass's end, after its last step, which may
        have raised). None where one is not known (a step's hook did not run, or ran on
        another thread) or ``count`` is 0 (the pass's one position is its end: ``seq_mark``
        tells it). ``begin``: the counter as the call began, no later than the first."""
        if self._elsewhere or count < 1:
            return None
        after = self._after
        marks = []
        for k in range(count):
            if k not in after:
                return None
            marks.append(after[k])
        marks.append(end)
        if any(a > b for a, b in zip([begin, *marks], marks)):
            return None  # (not one thread's counter)
        return marks
