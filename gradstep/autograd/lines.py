"""Which snippet line made each graph node, from autograd's sequence numbers.

Every node an op makes takes the next number of a per-thread counter
(``fn._sequence_nr()``). Each time the snippet's top-level code reports a value
(``observe.Observer.see`` / ``bind``: after every call, operator and assignment
of the snippet's own lines) the counter and the line that is running are noted.
A node whose number lies between two notes was made by the code of the later
note's line: the statement that made it (for a node made inside a module or a
function the snippet calls, the line of that call). Reading the counter changes
nothing in torch, and no Python mode is involved.
"""

from __future__ import annotations

import bisect

MAX_MARKS = 500_000  # notes kept per run (a long top-level loop makes many)


class LineIndex:
    """``note(counter, line)`` while the snippet runs; ``line_of(sequence_nr)`` afterwards.

    ``counters`` is increasing: ``counters[i]`` is the counter when the code of
    ``lines[i]`` had just run, so nodes numbered in ``[counters[i-1], counters[i])``
    were made by line ``lines[i]``.
    """

    def __init__(self, limit: int = MAX_MARKS):
        self.counters: list[int] = []
        self.lines: list[int] = []
        self.limit = limit

    def note(self, counter: int, line: int) -> None:
        """Note that the code of ``line`` has run and the counter stands at ``counter``.
        (``Observer.see`` and ``bind`` make its first check themselves before calling it.)"""
        counters = self.counters
        if counters and counter <= counters[-1]:
            return  # no node was made since the last note
        if self.lines and self.lines[-1] == line:
            counters[-1] = counter  # the same line goes on: widen its span
        elif len(counters) < self.limit:
            counters.append(counter)
            self.lines.append(line)

    def line_of(self, sequence_nr: int) -> int | None:
        """Return the snippet line whose code made node ``sequence_nr`` (None when unknown)."""
        index = bisect.bisect_right(self.counters, sequence_nr)
        return self.lines[index] if index < len(self.lines) else None

    def of_keys(self, keys) -> dict:
        """Return ``{key: get(key)}`` for the op keys of ``keys`` whose line is known (None
        entries are leaves, which have none): ``line_of`` inline, one call for a graph."""
        counters, lines, out = self.counters, self.lines, {}
        count = len(lines)
        for key in keys:
            if key is not None and key[0] == "op":
                index = bisect.bisect_right(counters, key[1])
                if index < count:
                    out[key] = lines[index]
        return out

    def get(self, key, default=None):
        """``trace_graph``'s lookup: the line of an op node's ``node_key`` (None for a leaf)."""
        if key[0] != "op":
            return default
        line = self.line_of(key[1])
        return default if line is None else line
