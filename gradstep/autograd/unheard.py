"""Warnings torch gives inside gradstep's own calls: neither shown nor counted as given.

gradstep calls torch on the snippet's tensors and nodes while the snippet runs: a node
for its local Jacobian (``jacobian.call_node``), ``detach()`` for a value's summary or a
recorded step's alias. Such a call can warn where the plain run does not: a node's
backward ("indexing with dtype torch.uint8 is now deprecated"), or the constructor of
the tensor kind an alias is made of, which torch warns about once per process (a nested
tensor's "The PyTorch API of nested tensors is in prototype stage", a compressed sparse
layout's "Sparse CSR tensor support is in beta state"): under the snippet's own
``torch.set_warn_always(True)`` each of gradstep's aliases showed it again, from
``values.py`` and ``step_hooks.py``. ``unheard()`` keeps them out of the output;
``detached(t)`` and ``copied(t)`` are ``t.detach()`` and ``t.detach().clone()``, unheard
for those tensor kinds (``warns_when_made``).
"""

from __future__ import annotations

import warnings

import torch

# Layouts whose tensors torch warns about once per process when one is made (the
# alias ``detach()`` makes is one): compressed sparse (SparseCsrTensorImpl.cpp)
_WARNING_LAYOUTS = frozenset({torch.sparse_csr, torch.sparse_csc, torch.sparse_bsr,
                              torch.sparse_bsc})


def warns_when_made(t: torch.Tensor) -> bool:
    """Return True for a tensor whose kind torch warns about when one is made (nested,
    compressed sparse): an alias or a copy of it makes one."""
    return t.is_nested or t.layout in _WARNING_LAYOUTS


def detached(t: torch.Tensor) -> torch.Tensor:
    """Return ``t.detach()``, ``unheard`` where making the alias warns."""
    if warns_when_made(t):
        with unheard():
            return t.detach()
    return t.detach()


def copied(t: torch.Tensor) -> torch.Tensor:
    """Return ``t.detach().clone()``, ``unheard`` where making the copy warns."""
    if warns_when_made(t):
        with unheard():
            return t.detach().clone()
    return t.detach().clone()


class unheard:
    """Within the block, a warning torch gives is neither shown nor counted as given.

    A node's backward may warn (``x[m]`` with a uint8 mask: "indexing with dtype
    torch.uint8 is now deprecated"); called by gradstep before the snippet's own pass,
    the warning came a second time, from ``jacobian.py``. A filter that ignores
    everything goes first in ``warnings.filters``, put in place there and taken out by
    identity (never through ``catch_warnings`` or ``simplefilter``, which mark the filters
    changed: every module's "once per location" record would be forgotten, and a warning
    the snippet already showed would show again); an ignored warning leaves no record,
    not even a "once" filter's. The list is the program's own, not swapped for one of
    gradstep's: a filter a snippet thread adds meanwhile stays, and a ``catch_warnings``
    another thread enters meanwhile does not put gradstep's list back as the program's for
    good (its copy holds the entry, which matches nothing once the block is over).
    torch's warn-always switch is on meanwhile, so a ``TORCH_WARN_ONCE`` inside the call
    is not used up for the plain run's own pass. (A class, not a generator: this runs
    per node call.)
    """

    __slots__ = ("filters", "entry", "always")

    def __enter__(self):
        self.always = torch.is_warn_always_enabled()
        self.entry = ("ignore", _While(), Warning, None, 0)
        self.filters = warnings.filters
        try:  # an interrupt (the Stop button) here must not leave every warning ignored
            self.filters.insert(0, self.entry)
            if not self.always:
                torch.set_warn_always(True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info):
        self.entry[1].on = False
        for filters in (self.filters, warnings.filters):
            _remove_by_identity(filters, self.entry)
        if not self.always:
            torch.set_warn_always(False)


class _While:
    """An ignore filter's message pattern: it matches every message while ``on``."""

    __slots__ = ("on",)

    def __init__(self):
        self.on = True

    def match(self, _text) -> bool:
        return self.on


def _remove_by_identity(filters: list, entry: tuple) -> None:
    """Take ``entry`` out of ``filters``: that very tuple (an equal one the program added stays)."""
    for index, item in enumerate(filters):
        if item is entry:
            del filters[index]
            return
