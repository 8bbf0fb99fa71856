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
function there instead: the same dict, the same entry under the next id of the same
counter (the block takes its ids together), and in place of a handle it notes the dict,
whose entry ``remove()`` deletes as the handle's ``remove`` would (``if id in dict: del
dict[id]``). A registration on another thread meanwhile gets torch's own; one that returns a
real handle (a torch whose C++ no longer calls ``_register_hook``) is removed through it.
gradstep's function stands in for torch's only where torch's is the one this module knows
(``_TORCH_KNOWN``: the same bytecode and names as ``_TORCH_TEXT``, which torch has had from
1.x to 2.13); under any other torch the registrations are torch's own, with their handles.
"""

from __future__ import annotations

import collections
import threading
from collections import OrderedDict
from itertools import count

from torch.autograd.function import Function
from torch.utils import hooks as torch_hooks
from torch.utils.hooks import RemovableHandle

_MISSING = object()
_ADDED = object()  # what a registration inside ``adding()`` returns in place of a handle

# torch's ``_HookMixin._register_hook``, as torch has written it from 1.x to 2.13, with the
# imports of its module (Python compiles a call on an imported name otherwise): gradstep's
# function does what this does, so it stands in only for this one
_TORCH_TEXT = """
from collections import OrderedDict
import torch.utils.hooks as hooks

def _register_hook(backward_hooks, hook):
    if backward_hooks is None:
        backward_hooks = OrderedDict()
    handle = hooks.RemovableHandle(backward_hooks)
    backward_hooks[handle.id] = hook
    return backward_hooks, handle
"""


def _is_known(torch_own) -> bool:
    """Whether ``torch_own`` is ``_TORCH_TEXT``'s function: the same bytecode, names and
    constants, its ``OrderedDict`` and ``hooks`` the ones this module uses."""
    known: dict = {}
    # (not this module's ``from __future__``: it is no part of the code)
    exec(compile(_TORCH_TEXT, "<torch>", "exec", dont_inherit=True), known)  # noqa: S102
    code, ours = getattr(torch_own, "__code__", None), known["_register_hook"].__code__
    names = getattr(torch_own, "__globals__", {})
    return (code is not None
            and all(getattr(code, part) == getattr(ours, part) for part in (
                "co_code", "co_names", "co_consts", "co_varnames", "co_argcount",
                "co_kwonlyargcount"))
            and code.co_flags & 0xFFFF == ours.co_flags & 0xFFFF  # (the future ones above)
            and names.get("OrderedDict") is collections.OrderedDict
            and getattr(names.get("hooks"), "RemovableHandle", None) is RemovableHandle
            and torch_hooks.RemovableHandle is RemovableHandle)


# (looked up as torch has it, before any snippet runs)
_TORCH_KNOWN = _is_known(Function._register_hook)


class BulkHooks:
    """The node hooks a recorder added, taken off by ``remove()``: inside ``adding()``, each
    registration's return goes into ``handles`` (a handle of torch's, or ``_ADDED``)."""

    __slots__ = ("_blocks", "handles")

    def __init__(self):
        # per ``adding()`` block: (its first id, the hook dict of each hook added, in order:
        # the n-th one's id is the first id + n)
        self._blocks: list = []
        self.handles: list = []  # what each registration returned

    def adding(self) -> _Adding:
        """Return the block inside which this thread's node hook registrations are noted here."""
        return _Adding(self)

    def _added(self):
        """Yield (hook dict, id) of each hook added through ``adding()``."""
        for first, dicts in self._blocks:
            for key, hooks in enumerate(dicts, first):
                yield hooks, key

    def hooks(self) -> list:
        """Return the hooks added through ``adding()`` and still on, in the order added."""
        return [hooks[key] for hooks, key in self._added() if key in hooks]

    def remove(self) -> None:
        """Take off every hook added (each at most once), all of them also where an exception
        lands meanwhile (a signal handler's, where the snippet's handlers are in place: those
        left stayed on the snippet's graph, to run in its next pass); it goes on after."""
        try:
            self._take_off()
        except BaseException:
            self._take_off()  # (the rest: what is off already is not taken off twice)
            raise

    def _take_off(self) -> None:
        for first, dicts in self._blocks:  # (``_added``, inline: thousands of hooks)
            for key, hooks in enumerate(dicts, first):
                if key in hooks:
                    del hooks[key]
        for handle in self.handles:
            if handle is not _ADDED:
                handle.remove()
        self._blocks.clear()
        self.handles.clear()


# The ids a block reserves of ``RemovableHandle``'s counter as it opens (far more than it
# uses); as it ends the counter goes back to just past the ids used, as if torch had made a
# handle for each, unless another thread's handle took an id past the block meanwhile.
_BLOCK = 1 << 40


class _Adding:
    __slots__ = ("bulk", "saved", "first", "dicts")

    def __init__(self, bulk: BulkHooks):
        self.bulk = bulk

    def __enter__(self):
        self.first = first = getattr(RemovableHandle, "next_id", None)
        if not _TORCH_KNOWN or type(first) is not int:  # (another torch: its own way)
            self.saved = None
            return self
        RemovableHandle.next_id = first + _BLOCK
        self.dicts = dicts = []
        self.bulk._blocks.append((first, dicts))
        self.saved = Function.__dict__.get("_register_hook", _MISSING)
        Function._register_hook = staticmethod(_registering(dicts, first, Function._register_hook))
        return self

    def __exit__(self, *exc_info):
        if self.saved is None:
            return
        if self.saved is _MISSING:
            del Function._register_hook
        else:
            Function._register_hook = self.saved
        if RemovableHandle.next_id == self.first + _BLOCK:
            RemovableHandle.next_id = self.first + len(self.dicts)


def _registering(dicts: list, first: int, torch_own):
    """Return the ``_register_hook`` of an ``adding()`` block whose ids start at ``first``,
    noting each hook's dict in ``dicts``: ``torch_own`` (the one it replaces) off the thread
    that opened it."""
    add_dict, next_id = dicts.append, count(first).__next__
    thread, get_ident = threading.get_ident(), threading.get_ident

    def register_hook(hooks, hook):
        if get_ident() != thread:
            return torch_own(hooks, hook)
        if hooks is None:
            hooks = OrderedDict()
        # noted before it goes in: an exception raised in between (a signal handler's)
        # leaves no hook on that ``remove()`` would not take off
        add_dict(hooks)
        hooks[next_id()] = hook
        return hooks, _ADDED
    return register_hook
