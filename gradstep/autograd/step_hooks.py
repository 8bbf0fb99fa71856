"""Hooks on every node of a graph that record a backward pass step by step.

A node pre-hook sees the gradient arriving at a node (``grad_outputs``) just
before the engine runs it, after any tensor hooks and ``retain_grad()`` hooks
changed it; a node hook sees what the node sends on (``grad_inputs``, one per
``next_functions`` slot). Steps are appended in the order the engine calls the
pre-hooks, which is the order it runs the nodes. A node pre-hook the snippet
registers during the pass runs after gradstep's (pre-hooks run in the order they
were registered) and may change what the node receives; the node hook gets what the
node did receive, so for a node that ran, its step takes that (``_received``).

The hooks run once per node inside torch's engine, so they only keep
references; a node's name and slots are read, the step dicts built and the
values turned into plain data in one batch when the recorder exits
(``grad_values.plain_values``). Holding a reference is enough to keep a
gradient from changing: torch only adds into a gradient buffer in place, or
steals it for ``.grad``, when nobody else holds it. A leaf's ``.grad`` before
AccumulateGrad runs is copied, since AccumulateGrad adds into it.

torch's engine frees each gradient once the node that takes it ran; the hooks'
references would keep all of them until the pass ends (30 gradients of 40 MB:
+1.1 GB of peak memory where the plain pass needs +40 MB). So once what they hold
passes ``HELD_BYTES``, a hook summarises all of it then (the same ``plain_values``,
the same numbers to the last bit) and lets the tensors go (``_summarise_held``).
"""

from __future__ import annotations

import threading
from itertools import islice
from operator import attrgetter, is_, itemgetter, ne
from weakref import ReferenceType, ref

import torch
from torch import Tensor

from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.hook_ids import own_ids
from gradstep.autograd.own_pass import OwnPass, current_task
from gradstep.autograd.safe_reads import ACCUMULATE_GRAD, name_of, plain_reads, runs_dispatch_code
from gradstep.autograd.trace import NAME_PREFIX
from gradstep.autograd.unheard import copied, detached, unheard, warns_when_made
from gradstep.autograd.unseen import unseen, watched
from gradstep.policies.gc_pause import gc_paused

# The most bytes of gradients (and copies of leaves' ``.grad``) the hooks hold before they
# summarise them. A gradient handed from one node to the next is counted once when the
# hooks keep one alias of it (``_keep``), twice when they keep two, a view by its own bytes
# (not its buffer's), a sparse gradient by its dense size. 256 MB: far above what most
# passes hold in all (a pass under it runs as before: one batch of summaries at its end),
# and a summary of that much is ~0.1 s of torch's reductions, so the batches stay large;
# the pass's peak memory is at most that much above the plain run's.
HELD_BYTES = 256 << 20


class StepRecorder:
    """Installs pre-hooks and hooks on the nodes of ``id_of`` and collects the steps.

    Use as a context manager: the hooks are removed on exit, also after an
    error, and ``steps`` then holds plain data. ``labels`` maps node ids to the
    names shown for AccumulateGrad leaves.
    """

    def __init__(self, id_of: dict, labels: dict | None = None):
        self.id_of = id_of
        self.labels = labels or {}
        self.steps: list[dict] = []
        # What the hooks collect, as cheaply as possible (they run once per node):
        self._started: list[tuple] = []  # (node, grad_outputs, leaf .grad copy) in engine order
        self._finished: dict = {}  # node -> grad_inputs
        self._grad_after: dict = {}  # leaf node -> its .grad after AccumulateGrad ran
        self._leaves: set = set()  # the AccumulateGrad nodes (their hooks read .grad)
        # The hooks note each node by the node itself (``_shared_hooks``) or by its id: the
        # keys of _started, _finished, _grad_after and _leaves
        self._by_node = False
        self._copying = False  # the hooks copy the gradients (``_unseen_hooks``)
        self._kept: list = []  # (alias, its version) of each gradient the hooks keep
        # id(gradient kept) -> (weak reference to it, its alias): a hook that sees that very
        # tensor again keeps the same alias (``_keep``)
        self._sent: dict = {}
        # node (or its id) -> weak references to the gradients its pre-hook saw (``_refs``),
        # noted by a summary for the steps begun and not finished (it clears ``_sent``)
        self._pending: dict = {}
        self._held = [0]  # bytes of the gradients the hooks keep, since the last summaries
        self._held_limit = HELD_BYTES
        self._summarised = 0  # the first entry of _started not yet summarised
        self._finished_summarised = 0  # the same for _finished (in insertion order)
        self._after_summarised = 0  # the same for _grad_after
        self._summaries = False  # some of what the hooks kept is already summarised
        self._summarising = threading.Lock()  # one summary at a time (a device thread's hooks)
        self._dropped: str | None = None  # why this pass's steps are not kept (seen by a hook)
        self._handles: list = []
        self._own = OwnPass()  # which hook calls are this pass's (not a nested or other thread's)
        self._gc = gc_paused()
        self.failure: str | None = None  # set when the steps could not be turned into data
        # {group: {name: tensor}} set before exit; turned into plain data with the steps
        self.extra: dict = {}

    def __enter__(self) -> StepRecorder:
        self._gc.__enter__()
        try:
            with own_ids():  # the snippet's own hook handles are numbered as in python
                self._install()
        except BaseException:
            self.remove()
            self._gc.__exit__(None, None, None)
            raise
        return self

    def _install(self) -> None:
        """Put a pre-hook and a hook on every node."""
        started, finished, handles = self._started.append, self._finished, self._handles
        kept = self._kept.append
        grad_after, leaves = self._grad_after, self._leaves
        held = (self._held, self._held_limit, self._summarise_held, self._own, self._sent,
                self._started, self._pending, self._received)
        # the snippet's own mode or profiler is on for the whole pass, or not at all
        watching = watched()
        self._copying = watching
        if not watching and _current_node is not None:
            self._by_node = True
            self._install_shared(started, finished, kept, held)
            return
        hooks, leaf_hooks = (_unseen_hooks, _unseen_leaf_hooks) if watching else (_hooks, _leaf_hooks)
        hooks_for = hooks(started, finished, kept, held)
        for fn, node_id in self.id_of.items():
            node_type = type(fn)  # its class's methods: a custom Function's ctx may hide them
            variable = fn.variable if node_type is ACCUMULATE_GRAD else None  # (leaf_variable)
            if variable is None:
                pre, post = hooks_for(node_id)
            else:
                leaves.add(node_id)
                pre, post = leaf_hooks(started, finished, grad_after, node_id, variable, kept, held)
            handles.append(node_type.register_prehook(fn, pre))
            handles.append(node_type.register_hook(fn, post))

    def _install_shared(self, started, finished, kept, held) -> None:
        """Put the same two hooks on every node but the leaves, and two others on the leaves
        (``_shared_hooks``): no hook made per node."""
        handles, leaves = self._handles, self._leaves
        pre, post = _shared_hooks(started, finished, kept, held)
        leaf_pre, leaf_post = _shared_leaf_hooks(started, finished, self._grad_after, kept, held)
        for fn in self.id_of:
            node_type = type(fn)  # its class's methods: a custom Function's ctx may hide them
            if node_type is ACCUMULATE_GRAD and fn.variable is not None:  # (leaf_variable)
                leaves.add(fn)
                handles.append(node_type.register_prehook(fn, leaf_pre))
                handles.append(node_type.register_hook(fn, leaf_post))
            else:
                handles.append(node_type.register_prehook(fn, pre))
                handles.append(node_type.register_hook(fn, post))

    def __exit__(self, *exc_info) -> None:
        try:
            self.remove()
            try:
                self._to_plain_data()
            except Exception as exc:  # never lose the pass's own result to this
                self.failure = f"the recorded values could not be read: {exc}"
                self.steps, self.extra = [], self._plain_extra()
        finally:
            self._started, self._finished, self._grad_after, self._kept = [], {}, {}, []
            self._sent, self._pending = {}, {}
            self._gc.__exit__(None, None, None)

    def remove(self) -> None:
        """Remove every hook this recorder installed."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _plain_extra(self) -> dict:
        """Return ``extra`` as plain data on its own, for a pass whose steps are not shown
        (``_to_plain_data`` failed: a gradient changed in place during the pass, say): the
        ``.grad`` torch left is still what it is (before core7 a dropped pass showed no leaf
        grads either). {} where one of its tensors cannot be read."""
        try:
            extra = [(group, name, t) for group, named in self.extra.items()
                     for name, t in named.items()]
            tensors = [t for _, _, t in extra]
            if _unreadable(tensors):
                return {}
            plain: dict = {group: {} for group in self.extra}
            for (group, name, _), value in zip(extra, plain_values(tensors)):
                plain[group][name] = value
            return plain
        except Exception:
            return {}

    def _summarise_held(self) -> None:
        """Turn what the hooks hold into plain data now, and let go of the tensors.

        Runs inside a hook, when the held bytes passed the limit; it never raises. Each
        gradient's summary is what ``_to_plain_data`` would show for it (the same
        ``plain_values``), read while its version is still the one its hook saw: it is
        what torch had at that step, whatever a later in-place change does to it (its
        version is then no longer checked). A gradient changed
        before this, or one that is not kept (``NOT_KEPT``), drops the pass's steps here
        as at the end. Out of sight of the snippet's modes and profiler (``unseen``), under
        ``no_grad`` (no node, no sequence number), reading only the hooks' own aliases and
        copies: no gradient torch passes on, and no ``.grad``, changes or is held.
        """
        if not self._summarising.acquire(blocking=False):
            return  # another thread's hook is at it
        try:
            self._held[0] = 0
            try:
                self._note_unfinished()
            except Exception:  # (reads of the hooks' own dicts: not expected to fail)
                pass
            self._sent.clear()  # hold no alias past its summary
            if self._dropped is None:
                try:
                    with unseen(), torch.no_grad():
                        self._summarise_now()
                except Exception as exc:  # never inside the snippet's backward
                    self._dropped = f"the recorded values could not be read: {exc}"
            if self._dropped is not None:  # nothing of this pass will be shown: hold nothing
                self._started.clear()
                self._finished.clear()
                self._kept.clear()
                self._grad_after.clear()
                self._summarised = self._finished_summarised = self._after_summarised = 0
        finally:
            self._summarising.release()

    def _received(self, key, grad_outputs, copies: bool = False, moved: bool = False,
                  leaf=None) -> None:
        """Make what the node noted as ``key`` received (``grad_outputs``, as its hook got
        them) its step's ``grad_outputs``, where that is not what its pre-hook kept.

        A node hook calls this when it could not tell from the latest step begun that the
        node received, by identity, what its pre-hook saw (``_same``; the copying hooks:
        ``_same_refs``). It looks again at the node's own step (a device thread's may have
        begun meanwhile), and at the weak references a summary noted when it cleared
        ``_sent``. Where the tensors are others (a pre-hook of the snippet's registered on
        the node during the pass ran after gradstep's and handed it others), they are kept
        as the pre-hook keeps them (``_keep``, or copies for the hooks that copy); a step
        already summarised gets their summaries, read now from copies (nothing held past
        its summary). A pass whose steps are dropped is left as it is.

        Where they are the very tensors but one's version moved since the pre-hook saw it
        (``moved``, or found here for a step summarised meanwhile: ``_versions``), something
        changed it in place in between: a late pre-hook of the snippet's (``g[0].mul_(10)``:
        the node took the changed values) or the node's own backward (it took the old ones).
        Which, the hooks cannot tell, and what they kept or summarised is the old value: the
        pass's steps are dropped, as where a kept alias is found changed at the end. Only
        where the node is a leaf's AccumulateGrad (``leaf``, its variable) that had a
        ``.grad`` before it ran, sharing its memory with the gradient, is the change taken
        for the node's own (it adds into that ``.grad`` in place: a ``.grad`` that is a view
        of the gradient an earlier pass was sent), and the step kept as its pre-hook saw it.
        """
        with self._summarising:
            started = self._started
            for i in range(len(started) - 1, -1, -1):
                if started[i][0] is key:
                    break
            else:
                return  # (the pass's steps were dropped)
            if moved:
                if not _added_into(leaf, started[i][2], grad_outputs):
                    self._drop_changed()
                return
            noted = self._pending.pop(key, None)
            if copies:
                pass  # (the copying hooks asked _same_refs)
            elif _same(grad_outputs, started[i], key, self._sent):
                return  # (a change after this is the kept alias's: found at the end)
            elif noted is not None and _same_refs(grad_outputs, noted[0]):
                if (_versions(grad_outputs) != noted[1]  # (summarised before the change)
                        and not _added_into(leaf, started[i][2], grad_outputs)):
                    self._drop_changed()
                return
            before = started[i][2]
            if i >= self._summarised:
                if copies:
                    grads = _copies(grad_outputs)
                    self._held[0] += _sizes(grads)
                else:
                    grads = _keep(grad_outputs, self._kept.append, self._held, self._sent)
                started[i] = (key, grads, before)
                return
            if self._dropped is not None:
                return
            try:
                with unseen(), torch.no_grad():
                    grads = list(_copies(grad_outputs))
                    if _unreadable(grads):
                        self._dropped = "a gradient the hooks could not keep (NOT_KEPT)"
                        return
                    started[i] = (key, _summaries(grads, iter(plain_values(grads))), before)
            except Exception as exc:  # never inside the snippet's backward
                self._dropped = f"the recorded values could not be read: {exc}"

    def _drop_changed(self) -> None:
        """Drop the pass's steps: a gradient was changed in place during the pass (called
        under ``_summarising``)."""
        if self._dropped is None:
            self._dropped = _CHANGED
        self._started.clear()
        self._finished.clear()
        self._kept.clear()
        self._grad_after.clear()
        self._summarised = self._finished_summarised = self._after_summarised = 0

    def _note_unfinished(self) -> None:
        """Note weak references to what the pre-hooks of the steps begun and not finished
        kept, and their versions now (for ``_received``), before a summary clears ``_sent``:
        their node hooks can then still tell whether the nodes received those very tensors,
        unchanged since their summary."""
        if self._copying:  # (the copying hooks note their own, and keep no ``_sent``)
            return
        finished, started = self._finished, self._started
        unfinished = [entry for entry in started[self._summarised:] if entry[0] not in finished]
        if not unfinished:
            return
        ref_of = {id(alias): r for r, alias in self._sent.values()}
        for key, aliases, _ in unfinished:
            refs = tuple(None if a is None else ref_of.get(id(a)) for a in aliases)
            self._pending[key] = (refs, _versions(None if r is None else r() for r in refs))

    def _summarise_now(self) -> None:
        started, finished, kept, grad_after = self._started, self._finished, self._kept, self._grad_after
        checked = len(kept)  # (a device thread's hook may add to these meanwhile)
        end = len(started)
        sent = list(islice(finished.items(), self._finished_summarised, None))
        after = list(islice(grad_after.items(), self._after_summarised, None))
        tensors: list = []
        for i in range(self._summarised, end):
            tensors += started[i][1]
            tensors.append(started[i][2])
        for _, grads in sent:
            tensors += grads
        tensors += [grad for _, grad in after]
        if _unreadable(tensors):
            self._dropped = "a gradient the hooks could not keep (NOT_KEPT)"
            return
        values = iter(plain_values(tensors))
        if _changed(kept[:checked]):
            self._dropped = _CHANGED
            return
        for i in range(self._summarised, end):
            node_id, grads, before = started[i]
            started[i] = (node_id, _summaries(grads, values), _summary(before, next(values)))
        for node_id, grads in sent:
            finished[node_id] = _summaries(grads, values)
        for node_id, grad in after:
            grad_after[node_id] = _summary(grad, next(values))
        summarised = {id(t) for t in tensors}
        kept[:checked] = [entry for entry in kept[:checked] if id(entry[0]) not in summarised]
        self._summarised, self._finished_summarised = end, self._finished_summarised + len(sent)
        self._after_summarised += len(after)
        self._summaries = True

    def _to_plain_data(self) -> None:
        """Build the step dicts from the hooks' raw events, every tensor as plain data.

        A node whose pre-hook ran but whose hook did not raised: its step is ``error``.
        What a node sends through a ``next_functions`` slot that leads nowhere (or
        beyond its slots) is shown as None. The tensors of all steps and of ``extra``
        are summarised in one batch (``plain_values``), then sliced back into the steps.
        """
        if self._dropped is not None:
            raise ValueError(self._dropped)
        if self._own.mixed():
            raise ValueError("another pass (one a hook started inside this one, or another "
                             "thread's) ran through these nodes at the same time: which hook "
                             "calls were this pass's cannot be told")
        tensors: list = []
        events = []  # per step: (node id, name, outputs count, sent (None: unfinished), leaf label)
        id_of, by_node = self.id_of, self._by_node
        node_of = None if by_node else {node_id: fn for fn, node_id in id_of.items()}
        finished, grad_after, leaves, labels = self._finished, self._grad_after, self._leaves, self.labels
        for key, grad_outputs, before in self._started:  # (key: the node, or its id)
            if by_node:
                fn, node_id = key, id_of[key]
            else:
                fn, node_id = node_of[key], key
            tensors += grad_outputs
            sent = finished.get(key)
            if sent is not None:
                slots = fn.next_functions
                if len(sent) > len(slots) or None in map(_FIRST, slots):
                    sent = _leading(sent, [n for n, _ in slots])
                tensors += sent
            label = labels.get(node_id, node_id) if key in leaves else None
            if label is not None:  # what _step_dicts reads: a leaf's .grad before and after
                tensors += (before, None if sent is None else grad_after.get(key))
            events.append((node_id, name_of(fn).removeprefix(NAME_PREFIX), len(grad_outputs), sent, label))
        if _changed(self._kept):
            raise ValueError(_CHANGED)
        extra = [(group, name, t) for group, named in self.extra.items() for name, t in named.items()]
        tensors += [t for _, _, t in extra]
        if _unreadable(tensors):
            raise ValueError("a tensor subclass with its own __torch_dispatch__ (or a batch of "
                             "gradients, is_grads_batched) carries the gradients: gradstep "
                             "does not read them")
        values = _with_summaries(tensors) if self._summaries else plain_values(tensors)
        self.steps = _step_dicts(events, values)
        plain_extra: dict = {group: {} for group in self.extra}
        for (group, name, _), value in zip(extra, values[len(tensors) - len(extra):]):
            plain_extra[group][name] = value
        self.extra = plain_extra


_CHANGED = ("a gradient was changed in place during the pass (by a hook or a custom "
            "Function's backward): what the steps kept is not what was sent")


def _changed(kept: list) -> bool:
    """Return True when an alias of ``kept`` (``(alias, version)`` pairs) is no longer at the
    version noted (the same test as ``alias._version != version`` for each, run in C)."""
    return any(map(ne, map(_VERSION, map(_FIRST, kept)), map(_SECOND, kept)))


_FIRST, _SECOND, _VERSION = itemgetter(0), itemgetter(1), attrgetter("_version")


def _unreadable(tensors) -> bool:
    """Return True when one of ``tensors`` could not be kept or read (``NOT_KEPT``, or a
    subclass whose own dispatch code gradstep does not run)."""
    if set(map(type, tensors)) <= _READABLE_TYPES:  # (the usual case, read in C)
        return False
    return any(t is NOT_KEPT or (t is not None and type(t) is not Tensor and type(t) is not _Summary
                                 and runs_dispatch_code(t)) for t in tensors)


class _Summary:
    """A gradient's plain data, read early (``_summarise_held``), in place of the tensor."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


_READABLE_TYPES = frozenset((Tensor, _Summary, type(None)))  # never NOT_KEPT (an ``object``)


def _summary(t, value):
    return None if t is None else _Summary(value)


def _summaries(grads, values) -> tuple:
    """Return ``grads`` with each tensor replaced by its ``_Summary``, the next of ``values``."""
    return tuple(_summary(g, next(values)) for g in grads)


def _with_summaries(tensors: list) -> list:
    """Return ``plain_values(tensors)``, where some of ``tensors`` were already summarised."""
    plain = iter(plain_values([t for t in tensors if type(t) is not _Summary]))
    return [t.value if type(t) is _Summary else next(plain) for t in tensors]


def _leading(sent: tuple, goes_to: list) -> list:
    """Return ``sent`` with None for each gradient whose ``next_functions`` slot leads
    nowhere (its node is None) or that has no slot."""
    slots = len(goes_to)
    return [g if i < slots and goes_to[i] is not None else None for i, g in enumerate(sent)]


def _step_dicts(events: list, values: list) -> list[dict]:
    """Return the step dicts of ``events``, reading their tensors' plain data from ``values``
    in the order ``_to_plain_data`` queued them."""
    steps = []
    at = 0
    for index, (node_id, name, count, sent, label) in enumerate(events):
        end = at + count
        step = {"index": index, "node": node_id, "name": name,
                "grad_outputs": values[at:end], "grad_inputs": None, "error": sent is None}
        at = end
        if sent is not None:
            at = end + len(sent)
            step["grad_inputs"] = values[end:at]
        if label is not None:
            step["leaf"], step["grad_before"] = label, values[at]
            if sent is not None:
                step["grad_after"] = values[at + 1]
            at += 2
        steps.append(step)
    return steps


# The hooks return None: they never change what a node receives or sends. One call
# makes both hooks of a node (they share its cells).


# The hooks keep each gradient as a detached alias: it shares the gradient's storage (and
# version counter), not the tensor itself. A reference to the tensor would change what
# torch does next: AccumulateGrad takes an incoming gradient as ``.grad`` (``detach``) only
# when nobody else holds it, and copies it otherwise, so ``.grad`` would no longer share
# storage with what the gradient was a view of (after ``x.view(4).backward(g)``, the plain
# run's ``x.grad`` is a view of ``g``). The alias's share of the storage still keeps an
# input buffer from adding into a gradient in place (torch checks the storage's users
# too), so what a hook kept keeps its value; a version that moved all the same (a hook
# or a custom Function's backward changed a gradient in place) drops the pass's steps
# (``_to_plain_data``). While the snippet's own dispatch mode or profiler is on
# (``watched``), which would see the ``detach`` calls, the hooks keep copies made out of
# its sight instead (``_unseen_hooks``); of a tensor subclass with its own
# ``__torch_dispatch__`` they keep nothing (copying or reading its gradients would run its
# code; that pass's steps are then not shown).


# ``held`` is ``([bytes held], limit, summarise, mine, sent)``: a hook that took the bytes
# past the limit summarises what is held (``StepRecorder._summarise_held``); a hook call
# ``mine()`` (``own_pass.OwnPass``) does not take for its pass's does nothing. A leaf's
# ``.grad`` after AccumulateGrad is counted only where it is copied (``_grad_after``): the
# leaf holds it anyway. ``sent`` maps the
# id of each gradient the hooks kept to (a weak reference to it, its alias): the engine hands
# the very tensor a node sent on to the node that takes it, whose pre-hook then keeps that
# alias (``_keep``) instead of a second one, so the pair is one tensor to summarise (a pass
# of 2,687 steps hands on 2,686 such).


# ``_hooks`` and ``_unseen_hooks`` (hooks made per node, see ``_current_node`` below) return
# ``hooks_for(node_id)``, made once per pass: the hooks of a node then hold one cell of their
# own (thousands of nodes), the rest shared.


def _hooks(started, finished: dict, kept, held):
    count, limit, summarise, mine, sent, entries, _, received = held

    def hooks_for(node_id: str):
        def pre_hook(grad_outputs):
            if current_task() != mine.task and not mine():  # (see own_pass.current_task)
                return
            started((node_id, _keep(grad_outputs, kept, count, sent), None))
            if count[0] > limit:
                summarise()

        def hook(grad_inputs, grad_outputs):
            if current_task() != mine.task and not mine():
                return
            if not (entries and _same(grad_outputs, entries[-1], node_id, sent)):
                received(node_id, grad_outputs)
            finished[node_id] = _keep(grad_inputs, kept, count, sent)
            if count[0] > limit:
                summarise()
        return pre_hook, hook
    return hooks_for


# Where torch tells which node runs now (``torch._C._current_autograd_node``, torch 2.1 on:
# the node whose hooks the engine calls, on the thread that runs it, also inside a nested
# pass), every node can share the same hooks: none is made per node, and the hooks note
# the node itself (the very object ``id_of`` holds: torch keeps one Python object per node
# while it lives, a custom Function's node is its ``ctx``). Otherwise, and while the
# snippet's mode or profiler watches, each node gets hooks of its own (``hooks_for``).
_current_node = getattr(torch._C, "_current_autograd_node", None)


def _shared_hooks(started, finished: dict, kept, held):
    count, limit, summarise, mine, sent, entries, _, received = held
    node = _current_node

    def pre_hook(grad_outputs):
        if current_task() != mine.task and not mine():  # (see own_pass.current_task)
            return
        fn = node()
        started((fn, _keep(grad_outputs, kept, count, sent), None))
        if count[0] > limit:
            summarise()

    def hook(grad_inputs, grad_outputs):
        if current_task() != mine.task and not mine():
            return
        fn = node()
        last = entries[-1] if entries else _NO_STEP
        if len(grad_outputs) == 1 and last[0] is fn:  # (``_same``, inline for one gradient)
            g = grad_outputs[0]
            entry = sent.get(id(g))
            if entry is None or entry[1] is not last[1][0] or entry[0]() is not g:
                received(fn, grad_outputs)
        elif not _same(grad_outputs, last, fn, sent):
            received(fn, grad_outputs)
        finished[fn] = _keep(grad_inputs, kept, count, sent)
        if count[0] > limit:
            summarise()
    return pre_hook, hook


def _shared_leaf_hooks(started, finished: dict, grad_after: dict, kept, held):
    count, limit, summarise, mine, sent, entries, _, received = held
    node = _current_node

    def pre_hook(grad_outputs):
        if current_task() != mine.task and not mine():
            return
        fn = node()
        grads = _keep(grad_outputs, kept, count, sent)
        grad = fn.variable.grad  # (``_grad_copy``: inline for a plain strided one)
        if grad is None:
            before = None
        elif (type(grad) is Tensor and not grad.requires_grad and grad.layout is _STRIDED
              and not grad.is_nested):
            before = grad.clone()
        else:
            before = _grad_copy_of(grad)
        started((fn, grads, before))
        if before is not None:
            count[0] += _size(before)
        if count[0] > limit or _takes_it(grad_outputs, before, fn.variable):
            summarise()

    def hook(grad_inputs, grad_outputs):  # after the node ran: a reference changes nothing
        if current_task() != mine.task and not mine():
            return
        fn = node()
        last = entries[-1] if entries else _NO_STEP
        if len(grad_outputs) == 1 and last[0] is fn:  # (``_same``, inline for one gradient)
            g = grad_outputs[0]
            entry = sent.get(id(g))
            if entry is None or entry[1] is not last[1][0] or entry[0]() is not g:
                received(fn, grad_outputs, leaf=fn.variable)
        elif not _same(grad_outputs, last, fn, sent):
            received(fn, grad_outputs, leaf=fn.variable)
        finished[fn] = _held(grad_inputs)
        grad_after[fn] = _grad_after(fn.variable.grad, kept, count)
        if count[0] > limit:
            summarise()
    return pre_hook, hook


def _leaf_hooks(started, finished: dict, grad_after: dict, node_id: str, variable, kept, held):
    count, limit, summarise, mine, sent, entries, _, received = held

    def pre_hook(grad_outputs):
        if current_task() != mine.task and not mine():
            return
        grads = _keep(grad_outputs, kept, count, sent)
        before = _grad_copy(variable)
        started((node_id, grads, before))
        if before is not None:
            count[0] += _size(before)
        if count[0] > limit or _takes_it(grad_outputs, before, variable):
            summarise()

    def hook(grad_inputs, grad_outputs):  # after the node ran: a reference changes nothing
        if current_task() != mine.task and not mine():
            return
        if not (entries and _same(grad_outputs, entries[-1], node_id, sent)):
            received(node_id, grad_outputs, leaf=variable)
        finished[node_id] = _held(grad_inputs)
        grad_after[node_id] = _grad_after(variable.grad, kept, count)
        if count[0] > limit:
            summarise()
    return pre_hook, hook


def _grad_after(grad, kept, count):
    """Return what a leaf's step keeps of its ``.grad`` after AccumulateGrad ran (and its
    post-accumulate-grad hooks): the tensor itself (a reference changes nothing), noted with
    its version in ``kept``. A hook that runs later in the pass and changes that ``.grad`` in
    place (another leaf's post-accumulate-grad hook that clips or zeroes every parameter's
    gradient) then drops the pass's steps, as for a gradient the hooks kept: the step showed
    the ``.grad`` as the pass left it, not as torch had it after that step. ``NOT_KEPT`` for
    a subclass's that runs dispatch code; an inference tensor (no version counter) is copied.
    So is a view (its version is its base's: where each parameter's ``.grad`` is a view of
    one flat buffer, the next leaf's AccumulateGrad adding into its own part moves it too,
    and the pass, exact, would be dropped). A copy's bytes count in ``count[0]`` (a model
    whose ``.grad``s all lie in one buffer held a second copy of them outside ``HELD_BYTES``).
    """
    if type(grad) is not Tensor:
        return NOT_KEPT if grad is not None and runs_dispatch_code(grad) else grad
    if grad._is_view():
        return _counted_copy(grad, count)
    try:
        kept((grad, grad._version))
    except RuntimeError:  # an inference tensor (a pass run under inference_mode)
        return _counted_copy(grad, count)
    return grad


def _counted_copy(grad: Tensor, count):
    """Return ``_copy(grad)``, its bytes added to ``count[0]``."""
    copy = _copy(grad)
    count[0] += _size(copy)
    return copy


def _unseen_hooks(started, finished: dict, kept, held):
    count, limit, summarise, mine, _, _, pending, received = held

    def hooks_for(node_id: str):
        def pre_hook(grad_outputs):
            if not mine():
                return
            with unseen():  # (a version read is a ``__get__`` the snippet's mode would see)
                pending[node_id] = (_refs(grad_outputs), _versions(grad_outputs))
                copies = _copies(grad_outputs)
                started((node_id, copies, None))
                count[0] += _sizes(copies)
                if count[0] > limit:
                    summarise()

        def hook(grad_inputs, grad_outputs):
            if not mine():
                return
            with unseen():
                refs, versions = pending.pop(node_id, _NOTHING_NOTED)
                if not _same_refs(grad_outputs, refs):
                    received(node_id, grad_outputs, copies=True)
                elif _versions(grad_outputs) != versions:  # (a late pre-hook's g.mul_(10))
                    received(node_id, grad_outputs, moved=True)
                finished[node_id] = copies = _copies(grad_inputs)
                count[0] += _sizes(copies)
                if count[0] > limit:
                    summarise()
        return pre_hook, hook
    return hooks_for


def _unseen_leaf_hooks(started, finished: dict, grad_after: dict, node_id: str, variable, kept, held):
    count, limit, summarise, mine, _, _, pending, received = held
    def pre_hook(grad_outputs):
        if not mine():
            return
        with unseen():
            pending[node_id] = (_refs(grad_outputs), _versions(grad_outputs))
            copies, before = _copies(grad_outputs), _grad_copy(variable)
            started((node_id, copies, before))
            count[0] += _sizes((*copies, before))
            if count[0] > limit:
                summarise()

    def hook(grad_inputs, grad_outputs):
        if not mine():
            return
        with unseen():
            refs, versions = pending.pop(node_id, _NOTHING_NOTED)
            if not _same_refs(grad_outputs, refs):
                received(node_id, grad_outputs, copies=True)
            elif _versions(grad_outputs) != versions:
                received(node_id, grad_outputs, moved=True, leaf=variable)
            finished[node_id] = copies = _copies(grad_inputs)
            grad_after[node_id] = after = _copies((variable.grad,))[0]
            count[0] += _sizes((*copies, after))
            if count[0] > limit:
                summarise()
    return pre_hook, hook


# In place of a gradient the hooks cannot keep as it is: a subclass's that runs its own
# dispatch code, or one of the BatchedTensors torch's legacy vmap passes through the graph
# for ``autograd.grad(..., is_grads_batched=True)`` (it has no ``detach``, no storage to
# read: each is a whole batch of gradients). The pass then shows no steps.
NOT_KEPT = object()


def _keep(grads, kept, count, sent: dict) -> list:
    """Return a detached alias of each plain gradient of ``grads`` (noting it and its version
    in ``kept``, its bytes in ``count[0]``), ``NOT_KEPT`` for a subclass's own dispatch code
    (or a tensor torch cannot detach), anything else as it is.

    Where a gradient is a tensor the hooks already kept (a node hands the very tensor it
    sent on to the node that takes it; AddBackward sends on what it received), the alias is
    the one kept then. It is not noted in ``kept`` again: its first entry there is checked
    whenever a second one would be (both go with the alias's summary), and a version only
    grows, so a second entry at its version now could only fail where the first fails too.
    Each new alias is noted in ``sent`` by its gradient's id, with a weak reference to the
    gradient (which holds nothing of it).

    An alias is reused for the same object (its weak reference alive: not a new tensor at
    a reused id) that still views the same memory, shape, strides and dtype, with the same
    negative and conjugate bits (``g.data = g._neg_view()`` keeps the rest and reads every
    element negated): the alias a fresh ``detach`` would make now shows the same elements, and an in-place change of them
    moves the version that both share, as a fresh alias's would. What it does not
    cover (a sparse gradient: no strides) gets a fresh alias, as ever.
    """
    out = []
    size = 0
    for g in grads:
        if type(g) is not Tensor:
            out.append(NOT_KEPT if g is not None and runs_dispatch_code(g) else g)
            continue
        key = id(g)
        entry = sent.get(key)
        if entry is not None and entry[0]() is g:
            alias = entry[1]
            try:
                same = (g.data_ptr() == alias.data_ptr() and g.shape == alias.shape
                        and g.stride() == alias.stride() and g.dtype == alias.dtype
                        and g.is_neg() == alias.is_neg() and g.is_conj() == alias.is_conj())
            except RuntimeError:
                same = False
            if same:
                out.append(alias)
                continue
        try:  # (``detached``: inline where making the alias cannot warn)
            alias = g.detach() if g.layout is _STRIDED and not g.is_nested else detached(g)
        except RuntimeError:  # a legacy vmap BatchedTensor (is_grads_batched=True)
            out.append(NOT_KEPT)
            continue
        try:
            version = alias._version
        except RuntimeError:  # an inference tensor (a pass run under inference_mode) has no
            copy = _copy(g)  # version counter to prove an alias unchanged: a copy, as it is now
            size += _size(copy)
            sent[key] = (ref(g), copy)  # (never reused: its memory is not g's; see _same)
            out.append(copy)
            continue
        kept((alias, version))
        try:
            size += alias.nbytes
        except RuntimeError:  # (a sparse tensor: see _nbytes)
            size += _nbytes(alias)
        sent[key] = (ref(g), alias)
        out.append(alias)
    count[0] += size
    return out


_STRIDED = torch.strided

_NO_STEP = (None, (), None)  # (in place of the latest step begun, when there is none)


def _same(grads, last: tuple, key, sent: dict) -> bool:
    """Return True when ``last``, a step begun (``(key, kept, before)``), is the node's of
    ``key`` and its pre-hook kept ``grads``, these very tensors: their aliases are the ones
    ``sent`` notes for them, with a weak reference to each that tells it from a new tensor
    at a reused id. A node hook asks this of what the node received (of the latest step
    begun: an identity check per gradient); False sends it to ``StepRecorder._received``.
    """
    if last[0] is not key:
        return False
    aliases = last[1]
    if len(aliases) != len(grads):
        return False
    for g, alias in zip(grads, aliases):
        if g is None:
            if alias is not None:
                return False
            continue
        entry = sent.get(id(g))
        if entry is None or entry[1] is not alias or entry[0]() is not g:
            return False
    return True


def _refs(grads) -> tuple:
    """Return a weak reference to each of ``grads`` (None for None, or for what takes none):
    what the copying hooks' pre-hook notes of what the node is about to receive
    (``_same_refs``)."""
    try:
        return tuple(map(ref, grads))  # (the usual case, in C: no None among them)
    except TypeError:
        pass
    out = []
    for g in grads:
        try:
            out.append(None if g is None else ref(g))
        except TypeError:
            out.append(None)
    return tuple(out)


def _same_refs(grads, refs: tuple) -> bool:
    """Return True when ``grads`` are the very objects of ``refs`` (``_refs``), each still
    alive, so not a new tensor at a reused id: one identity check per gradient.

    The copying hooks' node hook asks this of what the node received, against what its
    pre-hook saw (``_same`` for the others, which a summary's cleared ``sent`` sends here);
    False for a tensor ``_refs`` could not refer to.
    """
    if len(grads) != len(refs):
        return False
    try:
        return all(map(is_, map(_DEREF, refs), grads))  # (the usual case, in C)
    except TypeError:  # a None among refs
        pass
    for g, r in zip(grads, refs):
        if (g is not None or r is not None) and (r is None or r() is not g):
            return False
    return True


_DEREF = ReferenceType.__call__
_NOTHING_NOTED = ((), ())  # (no pre-hook call noted: ``_same_refs`` of no refs fails)


def _added_into(leaf, before, grads) -> bool:
    """Return True when AccumulateGrad may itself have changed ``grads``, what it received:
    ``leaf`` (its variable, None for any other node) had a ``.grad`` before it ran
    (``before``, its copy or summary) that shares memory with one of them, so its in-place
    add into that ``.grad`` moved their version (without a ``.grad`` before, it takes the
    gradient, or a copy of it, as it is); or it had none and the leaf has
    post-accumulate-grad hooks, which AccumulateGrad runs once it took the gradient as
    ``.grad``: one that changes it in place (``p.grad.mul_(0.5)``, a clip) moved the
    gradient's version (its pre-hook summarised what it received, ``_post_hooked``). Where
    it had a ``.grad`` not sharing their memory, it adds into that one or makes a new one:
    what it received is not its ``.grad``, and its pre-hook summarised nothing."""
    if leaf is None:
        return False
    if before is None:
        return _post_hooked(leaf)
    return _shares_memory(grads, leaf.grad)


def _takes_it(grads, before, variable) -> bool:
    """Return True when the post-accumulate-grad hooks of the leaf ``variable`` may change
    ``grads`` (what its AccumulateGrad received) in place: it has such hooks, and no
    ``.grad`` (``before`` None: AccumulateGrad takes the gradient as ``.grad``) or one that
    shares their memory (it adds into that). Its pre-hook then summarises what the hooks
    hold. A leaf with another ``.grad`` is left as it is: AccumulateGrad adds into that one
    or makes a new one (review of fid15: a summary at every hooked leaf, ~0.2 ms each, made
    a pass of 24 hooked parameters 2.6 times as long)."""
    if not _post_hooked(variable):
        return False
    return before is None or _shares_memory(grads, variable.grad)


def _post_hooked(variable) -> bool:
    """Return True when the leaf ``variable`` has post-accumulate-grad hooks (read with
    torch functions disabled: a subclass's ``__torch_function__`` does not see it).

    They run inside its AccumulateGrad, after it took the gradient it received as ``.grad``
    (the very tensor, where nothing else holds it): one that changes ``.grad`` in place
    changes that gradient, which the pass's earlier steps (the node that sent it, the
    leaf's own) kept. So the pre-hook of such a leaf summarises what the hooks hold (as past
    ``HELD_BYTES``) where AccumulateGrad may take it (``_takes_it``): what torch had at those
    steps; and the change is the node's own (``_added_into``)."""
    with plain_reads():
        return bool(variable._post_accumulate_grad_hooks)


def _shares_memory(grads, grad) -> bool:
    """Return True when a plain tensor of ``grads`` lies in the memory of ``grad`` (a leaf's
    ``.grad``), or when that cannot be read (a sparse one): an in-place add into ``grad``
    may then have changed it."""
    if type(grad) is not Tensor:
        return grad is not None
    try:
        memory = grad.untyped_storage().data_ptr()
        return any(type(g) is Tensor and g.untyped_storage().data_ptr() == memory for g in grads)
    except RuntimeError:
        return True


def _versions(tensors) -> tuple:
    """Return the version of each plain tensor of ``tensors`` (None for anything else, or an
    inference tensor, which has no version counter): read off the tensor's class, no code
    of a subclass's runs."""
    out = []
    for t in tensors:
        if type(t) is Tensor:
            try:
                out.append(t._version)
            except RuntimeError:  # an inference tensor
                out.append(None)
        else:
            out.append(None)
    return tuple(out)


def _size(t) -> int:
    """Return the bytes ``t`` is counted for (0 for ``NOT_KEPT`` or a subclass's tensor)."""
    return _nbytes(t) if type(t) is Tensor else 0


def _nbytes(t: Tensor) -> int:
    """Return a tensor's bytes (a sparse one's: its dense size)."""
    try:
        return t.nbytes
    except RuntimeError:
        return t.numel() * t.element_size()


def _sizes(tensors) -> int:
    return sum(_size(t) for t in tensors if t is not None)


def _held(grads):
    """Return ``grads``, with ``NOT_KEPT`` for each tensor a subclass's dispatch code owns."""
    for g in grads:
        if g is not None and type(g) is not Tensor and runs_dispatch_code(g):
            return tuple(NOT_KEPT if g is not None and type(g) is not Tensor and runs_dispatch_code(g)
                         else g for g in grads)
    return grads


def _copies(grads) -> tuple:
    """Return copies of the tensors of ``grads`` (``_held`` for a subclass's, None as it is)."""
    return tuple(g if g is None else _copy(g) if type(g) is Tensor or not runs_dispatch_code(g)
                 else NOT_KEPT for g in grads)


def _copy(g: Tensor):
    """Return a detached copy of ``g``, or ``NOT_KEPT`` where torch cannot copy it."""
    try:
        return copied(g)
    except RuntimeError:  # a legacy vmap BatchedTensor (is_grads_batched=True) has no detach
        return NOT_KEPT


def _grad_copy(variable):
    """Return a copy of ``variable.grad`` (AccumulateGrad adds into it in place), or None."""
    return _grad_copy_of(variable.grad)


def _grad_copy_of(grad):
    """Return a copy of a leaf's ``grad``, read once already (``_grad_copy``), or None."""
    if grad is not None and type(grad) is not Tensor:
        if runs_dispatch_code(grad):
            return NOT_KEPT
        with unseen():  # a subclass's __torch_function__ sees none of these reads and copies
            return _copy_of(grad)
    return grad if grad is None else _copy_of(grad)


def _copy_of(grad: Tensor) -> Tensor:
    """Return a copy of a leaf's ``grad`` (not a subclass's that runs dispatch code).
    A plain tensor that needs no grad is copied without a graph as it is (detach()
    first only where the copy could be recorded, or for subclasses)."""
    if warns_when_made(grad):  # a nested or compressed sparse copy warns: unheard
        with unheard():
            return grad.detach().clone()
    if type(grad) is Tensor and not grad.requires_grad:
        return grad.clone()
    return grad.detach().clone()
