"""Which module call made each graph node, from autograd's sequence numbers.

Every node an op makes takes the next number of a per-thread counter. A
module's forward pre-hook and hook read that counter, so each module call
covers a span ``[start, end)`` of numbers; calls nest like the call stack.
The scope of a node is the stack of module calls whose spans hold its number
(innermost last) — no Python mode needed, no tensor kept.
"""

from __future__ import annotations

import bisect
import weakref


class ScopeIndex:
    """The spans of the module calls made while a snippet ran.

    ``enter(module, counter)`` / ``leave(module, counter)`` come from the hooks;
    ``stack_of(sequence_nr)`` returns the module ids around a node, outermost first.
    """

    def __init__(self):
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.parents: list[int] = []
        self.module_ids: list[int] = []
        self.modules: dict[int, tuple] = {}  # id -> (weak reference or None, class name)
        self._open: list[int] = []  # indices of the calls still running, innermost last

    def enter(self, module, counter: int) -> None:
        self.modules.setdefault(id(module), (_weak(module), type(module).__name__))
        self.parents.append(self._open[-1] if self._open else -1)
        self.starts.append(counter)
        self.ends.append(-1)
        self.module_ids.append(id(module))
        self._open.append(len(self.starts) - 1)

    def leave(self, module, counter: int) -> None:
        # Close down to this module: a forward that raised may have skipped a hook.
        while self._open:
            index = self._open.pop()
            self.ends[index] = counter
            if self.module_ids[index] == id(module):
                break

    def close(self, counter: int) -> None:
        """End every call still open (the snippet stopped inside a forward)."""
        while self._open:
            self.ends[self._open.pop()] = counter

    def stack_of(self, sequence_nr: int) -> tuple[int, ...]:
        """Return the ids of the modules whose calls made node ``sequence_nr``, outermost first."""
        index = self.innermost(sequence_nr)
        stack = []
        while index >= 0:
            stack.append(self.module_ids[index])
            index = self.parents[index]
        return tuple(reversed(stack))

    def innermost(self, sequence_nr: int) -> int:
        """Return the index of the innermost module call whose span holds node
        ``sequence_nr`` (its outer calls follow through ``parents``), -1 when none does."""
        index = bisect.bisect_right(self.starts, sequence_nr) - 1
        while index >= 0 and not sequence_nr < self.ends[index]:
            index = self.parents[index]
        return index

    def module(self, module_id: int):
        """Return the module with this id while it is alive, else None."""
        ref = self.modules.get(module_id, (None, ""))[0]
        return ref() if ref is not None else None

    def class_name(self, module_id: int) -> str:
        return self.modules.get(module_id, (None, ""))[1]


def _weak(module):
    try:
        return weakref.ref(module)
    except TypeError:
        return None
