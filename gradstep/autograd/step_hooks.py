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
(``grad_values.plain_values``; under ``torch.distributed``, as the pass ends:
``_queue_summary``). Holding a reference is enough to keep a
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

import torch

from gradstep.autograd.bulk_hooks import BulkHooks
from gradstep.autograd.grad_marks import GradMarks
from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.held_grads import (
    _FIRST,
    _changed,
    _copies,
    _keep,
    _same,
    _same_refs,
    _sizes,
    _versions,
)
from gradstep.autograd.hook_ids import own_ids
from gradstep.autograd.leaf_steps import _added_into
from gradstep.autograd.node_hooks import (
    _current_node,
    _hooks,
    _leaf_hooks,
    _shared_hooks,
    _shared_leaf_hooks,
    _unseen_hooks,
    _unseen_leaf_hooks,
)
from gradstep.autograd.own_pass import OwnPass
from gradstep.autograd.safe_reads import ACCUMULATE_GRAD
from gradstep.autograd.step_data import (
    _leading,
    _step_dicts,
    _summaries,
    _summary,
    _unreadable,
    _with_summaries,
)
from gradstep.autograd.trace import NAME_PREFIX
from gradstep.autograd.unseen import unseen, watched
from gradstep.policies.gc_pause import gc_paused

# The most bytes of gradients (and copies of leaves' ``.grad``) the hooks hold before they
# summarise them. A gradient handed from one node to the next is counted once when the
# hooks keep one alias of it (``_keep``), twice when they keep two, a view by its own bytes
# (not its buffer's), a sparse gradient by its dense size. 256 MB: far above what most
# passes hold in all (a pass under it runs as before: one batch of summaries at its end),
# and a summary of that much is ~0.1 s of torch's reductions, so the batches stay large;
# the pass's peak memory is at most that much above the plain run's, plus the ``.grad`` bits
# noted as it began (``grad_marks.NOTED_BYTES``, 64 MB).
HELD_BYTES = 256 << 20


class StepRecorder:
    """Installs pre-hooks and hooks on the nodes of ``id_of`` and collects the steps.

    Use as a context manager: the hooks are removed on exit, also after an
    error, and ``steps`` then holds plain data. ``labels`` maps node ids to the
    names shown for AccumulateGrad leaves.
    """

    def __init__(self, id_of: dict, labels: dict | None = None, copy: bool = False):
        self.id_of = id_of
        # copy every gradient at each step, as under the snippet's mode (``tensor_hooks``: a
        # tensor hook of the snippet's may change in place the gradient a step sent)
        self.copy = copy
        self.labels = labels or {}
        self.steps: list[dict] = []
        # What the hooks collect, as cheaply as possible (they run once per node):
        self._started: list[tuple] = []  # (node, grad_outputs, leaf .grad copy) in engine order
        self._finished: dict = {}  # node -> grad_inputs
        self._grad_after: dict = {}  # leaf node -> its .grad after AccumulateGrad ran
        self._leaves: set = set()  # the AccumulateGrad nodes (their hooks read .grad)
        # each leaf's .grad as the pass began, checked as its AccumulateGrad starts
        self.grad_marks = GradMarks()
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
        self._hooks = BulkHooks()  # the hooks put on the nodes
        # which hook calls are this pass's (not a nested or other thread's); the first one
        # queues the summary of what the hooks hold for the pass's end (``_queue_summary``)
        self._own = OwnPass(self._queue_summary)
        self._gc = gc_paused()
        self.failure: str | None = None  # set when the steps could not be turned into data
        # {group: {name: tensor}} set before exit; turned into plain data with the steps
        self.extra: dict = {}

    def __enter__(self) -> StepRecorder:
        self._gc.__enter__()
        try:
            # (the snippet's own hook handles are numbered as in python)
            with own_ids(), self._hooks.adding():
                self._install()
            with unseen():  # (a mode of the snippet's would see the reads)
                self.grad_marks.begin()
        except BaseException:
            self.abandon()
            raise
        return self

    def abandon(self) -> None:
        """Take off what ``__enter__`` put on, for a pass that will not run under it: its
        hooks, and its pause of the collector (left open, the collector stayed off for the
        rest of the snippet)."""
        self.remove()
        self.grad_marks.drop()
        self._own.on_start = None  # (see __exit__)
        self._gc.__exit__(None, None, None)

    def _install(self) -> None:
        """Put a pre-hook and a hook on every node."""
        started, finished, add = self._started.append, self._finished, self._hooks.handles.append
        kept = self._kept.append
        grad_after, leaves = self._grad_after, self._leaves
        held = (self._held, self._held_limit, self._summarise_held, self._own, self._sent,
                self._started, self._pending, self._received)
        # the snippet's own mode or profiler is on for the whole pass, or not at all
        watching = self.copy or watched()
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
                self.grad_marks.add(node_id, variable)
                pre, post = leaf_hooks(started, finished, grad_after, node_id, variable, kept, held,
                                       self.grad_marks)
            add(node_type.register_prehook(fn, pre))
            add(node_type.register_hook(fn, post))

    def _install_shared(self, started, finished, kept, held) -> None:
        """Put the same two hooks on every node but the leaves, and two others on the leaves
        (``_shared_hooks``): no hook made per node."""
        add, leaves = self._hooks.handles.append, self._leaves
        pre, post = _shared_hooks(started, finished, kept, held)
        marks = self.grad_marks
        leaf_pre, leaf_post = _shared_leaf_hooks(started, finished, self._grad_after, kept, held,
                                                 marks)
        for fn, node_id in self.id_of.items():
            node_type = type(fn)  # its class's methods: a custom Function's ctx may hide them
            if node_type is ACCUMULATE_GRAD and fn.variable is not None:  # (leaf_variable)
                leaves.add(fn)
                marks.add(node_id, fn.variable)
                add(node_type.register_prehook(fn, leaf_pre))
                add(node_type.register_hook(fn, leaf_post))
            else:
                add(node_type.register_prehook(fn, pre))
                add(node_type.register_hook(fn, post))

    def __exit__(self, *exc_info) -> None:
        try:
            self.remove()
            try:
                self._to_plain_data()
            except Exception as exc:  # never lose the pass's own result to this
                reraise_if_handlers(exc)
                self.failure = f"the recorded values could not be read: {exc}"
                self.steps, self.extra = [], self._plain_extra()
        finally:
            self._started, self._finished, self._grad_after, self._kept = [], {}, {}, []
            self._sent, self._pending = {}, {}
            self.grad_marks.drop()  # (run_recorded's finish checked them; a bare with: not)
            self._own.on_start = None  # (its bound method held this recorder: a cycle that
            # kept the graph's nodes, id_of, alive past the plain run's free)
            self._gc.__exit__(None, None, None)

    def remove(self) -> None:
        """Remove every hook this recorder installed."""
        self._hooks.remove()

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
        except Exception as exc:
            reraise_if_handlers(exc)
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
            except Exception as exc:  # (reads of the hooks' own dicts: not expected to fail)
                reraise_if_handlers(exc)
            self._sent.clear()  # hold no alias past its summary
            if self._dropped is None:
                try:
                    with unseen(), torch.no_grad():
                        self._summarise_now()
                except Exception as exc:  # never inside the snippet's backward
                    reraise_if_handlers(exc)
                    self._dropped = f"the recorded values could not be read: {exc}"
            if self._dropped is not None:  # nothing of this pass will be shown: hold nothing
                self._started.clear()
                self._finished.clear()
                self._kept.clear()
                self._grad_after.clear()
                self._summarised = self._finished_summarised = self._after_summarised = 0
        finally:
            self._summarising.release()

    def _queue_summary(self) -> None:
        """Have torch's engine summarise what the hooks hold as the pass ends, before the
        callbacks queued after this one (called by the pass's first hook call).

        torch runs a pass's queued callbacks once its last node ran, before ``backward()``
        returns, in the order they were queued. One queued later can change in place a
        gradient a step kept: DDP's reducer, whose callback (queued at the last
        parameter's AccumulateGrad) copies each bucket back into its parameter's ``.grad``,
        the very gradient AccumulateGrad took. The pass then showed no steps ("a gradient
        was changed in place during the pass"). The summary reads what each step kept as
        torch had it when the last node ran; a change made before it still drops the steps.
        The callback only reads (``_summarise_held``, which never raises); the callbacks
        after it run as in the plain run.

        Queued only while a ``torch.distributed`` process group is on (DDP, FSDP: what
        queues such callbacks in training): the summary then comes in two batches, the
        steps' and at exit the leaves' ``.grad``, and two batches stack fewer rows than
        one (``bench/bench_backward.py``'s pass: 174.5 against 163.4 ms CPU, docs/speed.md
        item 69). A callback of the snippet's own
        that changes a kept gradient without a process group still drops the steps.
        """
        if not _distributed_on():
            return
        try:
            _queue_callback(self._summarise_held)
        except Exception as exc:  # (not inside a pass's engine call: summarised at exit, as before)
            reraise_if_handlers(exc)

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
                reraise_if_handlers(exc)
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
            # (``name_of``, inline: the name as the node's class answers it)
            events.append((node_id, type(fn).name(fn).removeprefix(NAME_PREFIX), len(grad_outputs),
                           sent, label))
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


_queue_callback = torch.autograd.Variable._execution_engine.queue_callback


def _distributed_on() -> bool:
    """Return True when a ``torch.distributed`` process group is initialised."""
    dist = torch.distributed
    return dist.is_available() and dist.is_initialized()


_CHANGED = ("a gradient was changed in place during the pass (by a hook or a custom "
            "Function's backward): what the steps kept is not what was sent")
