"""Thousands of node hooks put on and taken off together, without a ``RemovableHandle`` each.

torch's ``register_prehook`` and ``register_hook`` on a node (a C++ node or a custom
Function's) call ``torch.autograd.function.Function._register_hook(hooks, hook)``, looked up
on that class at every call: it makes the node's hook dict (an ``OrderedDict``, kept on the
node for good) the first time, adds the hook under the next id of ``RemovableHandle``'s
counter, and returns the dict and a ``RemovableHandle`` (a weak reference to the dict, the
id). A recorded pass puts two hooks on every node (5,374 on the 48-layer transformer of
``bench/bench_backward.py``), and the handles were half of that: 14.5 against 6.8 ms
(docs/speed.md item 79).

Inside ``BulkHooks.adding()``, a registration on the thread that opened it finds gradstep's
function there instead: the same dict, the same entry under the same counter's next id, and
in place of a handle it notes the dict and the id, which ``remove()`` deletes as the
handle's ``remove`` would (``if id in dict: del dict[id]``). A registration on another thread
meanwhile gets torch's own; one that returns a real handle (a torch whose C++ no longer calls
``_register_hook``) is removed through that handle.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from torch.autograd.function import Function
from torch.utils.hooks import RemovableHandle

_MISSING = object()
_ADDED = object()  # what a registration inside ``adding()`` returns in place of a handle


class BulkHooks:
    """The node hooks a recorder added, taken off by ``remove()``: inside ``adding()``, each
    registration's return goes into ``handles`` (a handle of torch's, or ``_ADDED``)."""

    __slots__ = ("_dicts", "_ids", "handles")

    def __init__(self):
        self._dicts: list = []  # the hook dict of each hook added ...
        self._ids: list = []  # ... and its id there
        self.handles: list = []  # what each registration returned

    def adding(self) -> _Adding:
        """Return the block inside which this thread's node hook registrations are noted here."""
        return _Adding(self)

    def hooks(self) -> list:
        """Return the hooks added through ``adding()`` and still on, in the order added."""
        return [hooks[key] for hooks, key in zip(self._dicts, self._ids) if key in hooks]

    def remove(self) -> None:
        """Take off every hook added (each at most once)."""
        dicts, ids, handles = self._dicts, self._ids, self.handles
        for hooks, key in zip(dicts, ids):
            if key in hooks:
                del hooks[key]
        for handle in handles:
            if handle is not _ADDED:
                handle.remove()
        dicts.clear()
        ids.clear()
        handles.clear()


class _Adding:
    __slots__ = ("bulk", "saved")

    def __init__(self, bulk: BulkHooks):
        self.bulk = bulk

    def __enter__(self):
        self.saved = Function.__dict__.get("_register_hook", _MISSING)
        Function._register_hook = staticmethod(_registering(self.bulk, Function._register_hook))
        return self

    def __exit__(self, *exc_info):
        if self.saved is _MISSING:
            del Function._register_hook
        else:
            Function._register_hook = self.saved


def _registering(bulk: BulkHooks, torch_own):
    """Return the ``_register_hook`` of an ``adding()`` block: ``torch_own`` (the one it
    replaces) off the thread that opened it."""
    add_dict, add_id = bulk._dicts.append, bulk._ids.append
    thread, get_ident, counter = threading.get_ident(), threading.get_ident, RemovableHandle

    def register_hook(hooks, hook):
        if get_ident() != thread:
            return torch_own(hooks, hook)
        if hooks is None:
            hooks = OrderedDict()
        key = counter.next_id
        counter.next_id = key + 1
        hooks[key] = hook
        add_dict(hooks)
        add_id(key)
        return hooks, _ADDED
    return register_hook
