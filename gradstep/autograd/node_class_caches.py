"""Caches keyed by a node class, and their forgetting as a run starts.

What is asked once a node class (its saved attributes, which of them are inputs) is kept
for the next ask: a trace has many nodes of one class. A custom ``autograd.Function``'s node
class is made by the snippet's class (``Twice._backward_cls``), whose methods hold that
run's namespace: what is kept of such a class is dropped as the next run starts
(``forget_custom_classes``), so that run's objects die then, as in a fresh process.
torch's own classes are kept (the same in every run).
"""

from __future__ import annotations

from functools import cache

import torch

PYTHON_NODE = torch.autograd.function.BackwardCFunction  # a custom Function's node class

_CLASS_DICTS: list[dict] = []  # dicts keyed by a node class, or (class, ...)
_CLASS_CACHES: list = []  # ``node_class_cache`` functions
_custom_cached = False  # whether one of those kept a custom Function's class since


def node_class_cache(read):
    """Return ``functools.cache(read)`` (``read(node_type)``), its answers for a custom
    Function's node class dropped by ``forget_custom_classes`` (a hit costs as ``cache``'s:
    only a miss is looked at)."""
    def miss(node_type):
        global _custom_cached
        if _is_custom_class(node_type):
            _custom_cached = True
        return read(node_type)

    cached = cache(miss)
    cached.__doc__, cached.__name__ = read.__doc__, read.__name__
    _CLASS_CACHES.append(cached)
    return cached


def class_dict(cached: dict) -> dict:
    """Return ``cached`` (a dict keyed by a node class, or a tuple that starts with one),
    registered for ``forget_custom_classes``."""
    _CLASS_DICTS.append(cached)
    return cached


def forget_custom_classes() -> None:
    """Drop what the node-class caches keep of custom Functions' node classes (a new run:
    the last run's classes, and through them its namespace, are not kept alive)."""
    global _custom_cached
    for cached in _CLASS_DICTS:
        # ``list(cached)``: a copy in one step, so a thread of an earlier run's that fills
        # the dict meanwhile (a backward call of its own) cannot break the walk
        for key in list(cached):
            if _is_custom_class(key[0] if type(key) is tuple else key):
                cached.pop(key, None)
    if _custom_cached:  # (functools.cache drops all or nothing: torch's refill in one run)
        for read in _CLASS_CACHES:
            read.cache_clear()
        _custom_cached = False


def _is_custom_class(node_type) -> bool:
    return isinstance(node_type, type) and issubclass(node_type, PYTHON_NODE)
