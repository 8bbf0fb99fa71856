"""The shapes of saved tensors, remembered before a backward pass frees them.

Once a pass without ``retain_graph`` has run, torch no longer holds a node's saved
tensors (reading one raises), so a trace taken after the snippet's ``loss.backward()``
would know only that they are freed, not their shapes. ``saved_memory.remember`` notes
each alive tensor's shape and dtype here just before the pass (``note``), and
``saved.saved_items`` writes them into the freed entries (``recall``).

Keyed like the trace's op nodes (``trace.node_key`` without its ``"op"``: sequence
number and name), bounded like ``saved_memory``'s cache.
"""

from __future__ import annotations

from collections import OrderedDict

_CACHE_SIZE = 65536  # nodes
_shapes: OrderedDict = OrderedDict()


def key_of(fn) -> tuple:
    """Return ``(sequence number, name)`` of op node ``fn`` (not keeping it alive)."""
    node_type = type(fn)
    return node_type._sequence_nr(fn), node_type.name(fn)


def note(fn, shapes: dict) -> None:
    """Remember ``{saved name: (shape list, dtype name)}`` of ``fn``'s alive tensors."""
    key = key_of(fn)
    _shapes[key] = {**_shapes.get(key, {}), **shapes}
    _shapes.move_to_end(key)
    while len(_shapes) > _CACHE_SIZE:
        _shapes.popitem(last=False)


def recall(fn) -> dict:
    """Return what ``note`` kept for ``fn`` ({} when nothing)."""
    if not _shapes:
        return {}
    return _shapes.get(key_of(fn)) or {}


def forget() -> None:
    """Drop everything remembered (tests)."""
    _shapes.clear()
