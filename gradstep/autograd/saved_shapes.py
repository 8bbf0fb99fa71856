"""The shapes of saved tensors, remembered before a backward pass frees them.

Once a pass without ``retain_graph`` has run, torch no longer holds a node's saved
tensors (reading one raises), so a trace taken after the snippet's ``loss.backward()``
would know only that they are freed, not their shapes. ``saved_memory.remember`` notes
each alive tensor's shape and dtype here just before the pass (``note_at``), and
``saved.saved_items`` writes them into the freed entries (``recall``).

Kept per node in a bounded ``node_memory.NodeMemory`` (never another thread's node of the
same sequence number and name), like ``saved_memory``'s cache.
"""

from __future__ import annotations

from gradstep.autograd.node_memory import NodeMemory
from gradstep.autograd.values import dtype_name

_CACHE_SIZE = 65536  # nodes
_shapes = NodeMemory(_CACHE_SIZE)  # node -> {saved name: (torch.Size, torch.dtype)}


def note_at(key, mark, shapes: dict) -> None:
    """Remember ``{saved name: (shape, dtype)}`` of a node's alive tensors (all of them: a
    node's tensors are alive together, or were freed together); ``(key, mark)`` is its
    ``NodeMemory.key``."""
    _shapes.put_at(key, mark, shapes)


def recall(fn, name: str) -> tuple[list | None, str] | None:
    """Return ``(shape list, dtype name)`` that ``note`` kept for ``fn``'s ``name`` (None
    when nothing)."""
    if not _shapes:
        return None
    noted = (_shapes.get(fn) or {}).get(name)
    if noted is None:
        return None
    shape = list(noted[0])
    if not all(type(size) is int for size in shape):
        shape = None  # a jagged nested tensor's ragged size (a SymInt): no one shape, as alive
    return shape, dtype_name(noted[1])


def forget() -> None:
    """Drop everything remembered (tests)."""
    _shapes.clear()
