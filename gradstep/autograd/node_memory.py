"""What gradstep remembers of graph nodes, kept so that it can never be another node's.

A record made before a pass (a saved tensor's value or shape, a node's Jacobian) is read
after it, when the node's Python object may be a new one. torch numbers a node from a
counter of the thread that made it (``_sequence_nr``), so nodes made on two threads (the
snippet's own, or the device thread a CUDA pass with ``create_graph`` runs on) may share a
number and a name: neither tells one node from the other.

What does is the node's anomaly metadata dict (``fn.metadata``): torch makes it once per
node (on the first read, when anomaly mode did not make it already: the same empty
``{}`` torch shows) and it lives as long as the node. A record holds that dict, so no
other node can have it while the record is kept, and a record is found only through the
very dict (its ``id``). A node whose dict holds anything but anomaly mode's
``traceback_`` (a ``parent_``: a node made by a ``create_graph`` pass under anomaly mode;
or what the snippet stored there itself) is not recorded: holding the dict would keep
that parent node, or the snippet's objects, alive past the node, as a plain run does not.
An entry the snippet stores after the record was made is kept alive until the next run
or the record's eviction (left: torch gives no node a weak-referenceable identity). The
sequence number and name are kept beside it, so a node with none of them remembered is
answered without reading its dict.
"""

from __future__ import annotations

from collections import OrderedDict

from gradstep.autograd.handler_raised import reraise_if_handlers

_TRACE = "traceback_"  # anomaly mode's forward stack: strings, the only entry a record may hold


def mark_of(fn) -> dict | None:
    """Return node ``fn``'s metadata dict (None when it has none it can give)."""
    try:
        mark = fn.metadata
    except Exception as exc:  # a custom Function's node that is gone
        reraise_if_handlers(exc)
        return None
    if type(mark) is not dict or len(mark) > (_TRACE in mark):
        return None  # a parent node, or the snippet's own entries: not to be kept alive
    return mark


class NodeMemory:
    """A bounded map from graph nodes to records: ``put(fn, record)``, ``get(fn)``; the
    oldest record goes first once more than ``size`` are kept."""

    def __init__(self, size: int):
        self.size = size
        self._records: OrderedDict = OrderedDict()  # (seq, name, id(mark)) -> (mark, record)
        self._numbers: dict = {}  # (seq, name) -> how many records have it

    def __len__(self) -> int:
        return len(self._records)

    def _key(self, fn, reading: bool) -> tuple:
        """Return ``(key, mark)`` of ``fn`` (``(None, None)``: none, or, ``reading``, no
        record has its number and name)."""
        node_type = type(fn)
        number = node_type._sequence_nr(fn), node_type.name(fn)
        if reading and number not in self._numbers:
            return None, None
        mark = mark_of(fn)
        return (None, None) if mark is None else ((*number, id(mark)), mark)

    def get(self, fn, default=None):
        """Return the record kept for ``fn`` (``default`` when none)."""
        if not self._records:
            return default
        key, _ = self._key(fn, True)
        held = None if key is None else self._records.get(key)
        return default if held is None else held[1]

    def __contains__(self, fn) -> bool:
        return self.get(fn, _NONE) is not _NONE

    def key(self, fn) -> tuple:
        """Return ``(key, mark)`` of ``fn`` for ``put_at`` (``(None, None)``: it cannot be
        kept)."""
        return self._key(fn, False)

    def put(self, fn, record, *, merge: bool = False) -> None:
        """Keep ``record`` for ``fn`` (in place of any it had; ``merge``: a dict, into the
        one it had), as the newest."""
        self.put_at(*self._key(fn, False), record, merge=merge)

    def put_at(self, key, mark, record, *, merge: bool = False) -> None:
        """``put`` for the node whose ``key(fn)`` is ``(key, mark)`` (read once for two
        memories)."""
        if key is None:
            return
        records = self._records
        if key in records:
            if merge:
                record = {**records[key][1], **record}
            records.move_to_end(key)
        else:
            number = key[:2]
            self._numbers[number] = self._numbers.get(number, 0) + 1
        records[key] = (mark, record)
        while len(records) > self.size:
            old, _ = records.popitem(last=False)
            number = old[:2]
            left = self._numbers[number] - 1
            if left:
                self._numbers[number] = left
            else:
                del self._numbers[number]

    def clear(self) -> None:
        self._records.clear()
        self._numbers.clear()


_NONE = object()
