"""Which leaves the snippet wrote in place after its last recorded backward call.

``gradstep check`` reads each parameter's ``|weight|`` when the snippet has ended. A
training step after ``loss.backward()`` (``opt.step()``) has changed the weights by then:
the ratio ``|grad| / |weight|`` then divides the gradient by weights it was not computed
at (a ResNet-18 after an SGD step of lr=1e6: every ratio 1e-6, that is 1/lr, where the
weights of the pass give 1e4, exploding). ``note(nodes)`` keeps each plain leaf's
``_version`` (torch's in-place write counter) after a recorded call; ``written_after(leaf)``
says whether it moved since: the report says so, rather than pass the ratio off as the
pass's. Reading ``_version`` runs nothing of the snippet's and computes nothing.
"""

from __future__ import annotations

import weakref

from gradstep.autograd.safe_reads import is_leaf_node, is_plain, leaf_variable

_noted: dict[int, tuple[weakref.ref, int]] = {}  # id(leaf): (the leaf, its version then)


def forget() -> None:
    """Drop what was noted (a new run)."""
    _noted.clear()


def note(nodes) -> None:
    """Note the version of every plain leaf among ``nodes`` (grad_fns; a dict's keys do)."""
    for fn in nodes:
        if not is_leaf_node(fn):
            continue
        leaf = leaf_variable(fn)
        if leaf is not None and is_plain(leaf):
            _noted[id(leaf)] = (weakref.ref(leaf), leaf._version)


def written_after(leaf) -> bool:
    """Return True when ``leaf`` was written in place since the last call that noted it."""
    entry = _noted.get(id(leaf))
    return entry is not None and entry[0]() is leaf and leaf._version != entry[1]
