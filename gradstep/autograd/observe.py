"""Watch a snippet run — values, names, module scopes — without changing what torch does.

No Python mode is active while the snippet runs (any ``TorchFunctionMode`` or
``TorchDispatchMode`` changes which kernels and fast paths torch takes). What
gradstep sees instead:

- **The snippet's own expressions.** ``rewrite`` wraps the calls and operators
  of the snippet's top-level code in ``__gradstep_see__(value, kind)`` (which
  returns ``value`` unchanged) and reports each top-level assignment with
  ``__gradstep_bind__``. Both live in ``builtins`` while the snippet runs, so
  its globals hold only its own names (plus ``torch``, ``nn``, ``F``).
- **Module outputs**, through global ``nn.Module`` forward hooks (they return
  None, so nothing changes; they also note the span of autograd sequence
  numbers each module call made, which gives every node its module scope).
- **Saved tensors** (``see_saved``): a node's own saved output and the inputs it
  saved, read through ``_raw_saved_*`` and unpacked only where no hook runs and
  torch's version check guarantees the value is the one saved.

A value is kept for a node only when it is provably that node's output (the
rules are in ``Observer._see_tensor``): a tensor that was never changed in place since an
out-of-place op made it (``_version == 0``), a node's own saved output, a
tensor an op has just returned with the node it has just made, or a new view
from a view op. Anything else is left without a value: gradstep shows less
rather than something torch did not compute. Everything here swallows its own
errors: gradstep's bookkeeping never raises into the snippet.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import sys
import types

import torch
from torch._C import _get_tracing_state
from torch._C import _is_torch_function_mode_enabled as _function_modes_on
from torch._C import _len_torch_dispatch_stack as _dispatch_modes_on
from torch._C._autograd import _get_sequence_nr, _profiler_enabled
from torch.compiler import is_compiling
from torch.nn.modules import module as nn_module

from gradstep.autograd import values as _values
from gradstep.autograd.compile_sight import hooks_out_of_compiles
from gradstep.autograd.formulas import input_slots
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.hook_ids import own_ids
from gradstep.autograd.lines import LineIndex
from gradstep.autograd.names import Bindings
from gradstep.autograd.own_frames import frames_out
from gradstep.autograd.safe_reads import (
    ACCUMULATE_GRAD,
    fresh_grad_fn,
    is_leaf_node,
    is_plain,
    iter_saved_slots,
    name_of,
    sequence_nr_of,
    unpack,
)
from gradstep.autograd.scopes import ScopeIndex
from gradstep.autograd.trace import node_key
from gradstep.autograd.unseen import unseen, watched
from gradstep.autograd.value_rows import summaries
from gradstep.autograd.values import (
    PENDING,
    settled,
    small_mean,
    summary,
    summary_record,
    unpacked,
)

SEE = "__gradstep_see__"
BIND = "__gradstep_bind__"
LAST = "__gradstep_last__"
RECEIVER = "__gradstep_receiver__"

# What produced a value, as the rewrite knows it from the snippet's text:
OP = 0  # an operator or a call of a torch function or tensor method: its node is new
VIEW = 1  # a call of a view op (``t()``, ``view``, ``transpose``): a new view
SEEN = 2  # anything else (a user function, a module): maybe an old tensor
ITEM = 3  # ``name[index]``: new (a view or not) when ``name`` holds a tensor, else SEEN
# ``x`` bound by ``x += v`` (``__gradstep_bind__``), which changed it in place: as OP; a
# view's node is read only when grad mode is on (torch's in-place op on ``x`` itself then
# brought the view's node up to date: ``rebase_history``); under ``no_grad`` the node is
# stale and reading it would rebuild it now, with an earlier sequence number than the
# plain run gives it where it next uses the view (another engine order). (``x[i] = v``
# changes the view ``x[i]``, not ``x``: seen again as OP, see
# ``snippet_rewrite.changed_in_place``.)
CHANGED = 4
# ``recv.select(...)``, ``recv.T``, ``recv.mul(...)``: a method call or attribute named like a
# view op (``METHOD_VIEW``) or another torch op (``METHOD_OP``), whose receiver
# ``__gradstep_receiver__(recv, site)`` noted: VIEW or OP when it is torch's (a tensor, one
# of torch's modules or op namespaces, the Tensor class: ``_is_torchs``), else SEEN: a user
# object's or module's function of that name may return an old tensor (an old view, whose
# node reading would rebuild; one changed in place). Only that answer is kept, never the
# receiver.
METHOD_VIEW = 5
METHOD_OP = 6
_METHOD_KINDS = {METHOD_VIEW: VIEW, METHOD_OP: OP}

MAX_VALUES = 500_000  # nodes with values kept per run (a long top-level loop makes new nodes)


class ValueStore:
    """The first proven value of each node output: ``get(node_key)`` -> ``{output_nr: value}``.

    Values are kept as ``values.summary_record`` makes them (most as tuples the
    collector stops tracking, so the snippet's garbage collections do not walk them
    over and over); ``get`` hands out the value dicts. Output 0, by far the most
    common, is kept in one flat dict (``first``: node key -> value), any other output
    in ``others`` (node key -> ``{output_nr: value}``): a dict per node would stay
    tracked (CPython untracks dicts only in full collections), and a 100,000-node run's
    dicts would call for full collections of the whole heap while the snippet runs.
    ``limit`` caps the nodes kept.
    """

    def __init__(self, limit: int = MAX_VALUES):
        self.first: dict = {}
        self.others: dict = {}
        self.nodes = 0  # the keys of first and others, each counted once
        self.limit = limit
        self.pending: list = []  # (key, output_nr) of records whose mean and std wait (settle)
        self.small = 0  # values kept with a small float tensor's mean and std (``exact_means``)
        self.small_limit = _values.SMALL_MEANS_LIMIT
        self.exact = True  # small <= small_limit: their means and stds are handed out

    def keys(self) -> list:
        """Return the keys of the nodes with a value (output 0's first)."""
        return [*self.first, *(key for key in self.others if key not in self.first)]

    def has(self, key: tuple, output_nr: int) -> bool:
        if output_nr == 0:
            return key in self.first
        outputs = self.others.get(key)
        return outputs is not None and output_nr in outputs

    def add(self, key: tuple, output_nr: int, tensor: torch.Tensor) -> None:
        """Summarise ``tensor`` as output ``output_nr`` of node ``key`` unless one is known."""
        if (key in self.first if output_nr == 0 else self.has(key, output_nr)) or self.nodes >= self.limit:
            return
        value = summary_record(tensor)
        if value is not None:
            self._keep(key, output_nr, value)

    def add_all(self, found: list) -> None:
        """``add`` each ``(key, output_nr, tensor)`` of ``found`` in turn (the same values kept),
        the summaries of those it keeps made together first (``value_rows.summaries``: many
        large values' reductions in a few calls, the same bits). For a caller between whose
        reads and this call no other code ran: the tensors are as they were when found."""
        first, has = self.first, self.has
        chosen, asked = [], set()  # the first of each output not known yet: the one add keeps
        for i, (key, output_nr, _) in enumerate(found):
            if (key in first if output_nr == 0 else has(key, output_nr)) or (key, output_nr) in asked:
                continue
            asked.add((key, output_nr))
            chosen.append(i)
        made = dict(zip(chosen, summaries([found[i][2] for i in chosen], summary_record)))
        for i, (key, output_nr, tensor) in enumerate(found):
            if (key in first if output_nr == 0 else has(key, output_nr)) or self.nodes >= self.limit:
                continue
            value = made[i] if i in made else summary_record(tensor)  # (a first one read as None)
            if value is not None:
                self._keep(key, output_nr, value)

    def put(self, key: tuple, output_nr: int, value: dict) -> None:
        """Keep an already made summary as output ``output_nr`` of node ``key``."""
        if not self.has(key, output_nr) and self.nodes < self.limit and value is not None:
            self._keep(key, output_nr, value)

    def _keep(self, key: tuple, output_nr: int, value) -> None:
        if key not in self.first and key not in self.others:
            self.nodes += 1
        # (``small_mean`` written out for a record: an empty tensor's nan has no min)
        if ((value[4] is not None and value[1] is not None and not value[5] and not value[6])
                if type(value) is tuple else small_mean(value)):
            self.small += 1
            if self.small <= self.small_limit:
                if type(value) is tuple and value[3] is PENDING:
                    self.pending.append((key, output_nr))
            elif self.exact:  # none of them will be reduced: the trace is over the limit
                self.exact, self.pending = False, []
        if output_nr == 0:
            self.first[key] = value
        else:
            self.others.setdefault(key, {})[output_nr] = value

    def settle(self) -> None:
        """Fill in the means and stds the records kept so far wait for, all at once
        (``values.settled``: rows of one length and dtype reduced together by torch)."""
        pending, self.pending = self.pending, []
        records = [self.first[key] if nr == 0 else self.others[key][nr] for key, nr in pending]
        for (key, nr), record in zip(pending, settled(records)):
            if nr == 0:
                self.first[key] = record
            else:
                self.others[key][nr] = record

    def exact_means(self) -> bool:
        """Return True while the small float values kept number at most
        ``values.SMALL_MEANS_LIMIT``: their means and stds are then torch's own; past it
        ``get`` hands out none of them (one rule for the whole trace, not per value)."""
        return self.exact

    def get(self, key: tuple) -> dict | None:
        """Return ``{output_nr: value dict}`` recorded for node ``key`` (output 0 first), or None."""
        if self.pending:
            self.settle()
        value = self.first.get(key)
        others = self.others.get(key)
        if others is None:
            return None if value is None else {0: unpacked(value, self.exact)}
        outputs = {} if value is None else {0: unpacked(value, self.exact)}
        for output_nr, other in others.items():
            outputs[output_nr] = unpacked(other, self.exact)
        return outputs


class Observer:
    """Collects values, names and module scopes while a snippet runs.

    Attributes:
        values: the ValueStore.
        bindings: the snippet's top-level names (``names.Bindings``).
        scopes: the ScopeIndex of module calls.
        lines: the LineIndex (which snippet line made each node).
    """

    def __init__(self):
        self.values = ValueStore()
        self.bindings = Bindings()
        self.scopes = ScopeIndex()
        self.lines = LineIndex()
        self.last_value: list = []
        self._mark = _get_sequence_nr()  # the counter when the last value was seen
        self._receivers: dict = {}  # rewrite site -> whether its receiver is torch's (METHOD_*)
        self._method_call = SEEN  # what the last METHOD_* value was taken as (for its bind)

    # ------------------------------------------------------------- the snippet's own code

    def see(self, value, kind: int = SEEN, container=None):
        """``__gradstep_see__``: note ``value`` if it is a tensor output; return it unchanged.

        For ``name[index]`` (``ITEM``) ``container`` is what ``name`` holds: indexing a
        tensor makes a new tensor, indexing a tuple or list returns an old one.
        The snippet line running it is noted too (``lines``): only when a node was made
        since the last note (else ``note`` changes nothing): a call after none reads no frame.
        """
        counter, counters = _get_sequence_nr(), self.lines.counters  # LineIndex.note, inline
        if not counters or counter > counters[-1]:
            self.lines.note(counter, sys._getframe(1).f_lineno)
        if _function_modes_on() or _dispatch_modes_on() or _profiler_enabled():  # unseen.watched()
            try:
                with unseen():  # the snippet's own mode or profiler: gradstep's reads are not its
                    self._see(value, kind, container)
            except Exception as exc:
                reraise_if_handlers(exc)  # a signal handler's: the snippet's (see there)
            return value
        of = type(value)
        if of is not _TENSOR and of is not _PARAMETER:  # _see, inline: a call per value less
            if kind in _METHOD_KINDS:
                kind = self._method_kind(kind, container)
            if (((of is tuple or of is list) and kind != ITEM and len(value) <= _MAX_ITEMS)
                    or of.__module__ == "torch.return_types"):
                self._see_each(value, kind)
            return value
        # one tensor, by far the most common value: _see and _see_each in one step
        if kind == ITEM:
            kind = VIEW if type(container) in _TENSOR_TYPES else SEEN
        elif kind in _METHOD_KINDS:
            kind = self._method_kind(kind, container)
        try:
            if value.requires_grad:
                self._see_tensor(value, kind)
        except Exception as exc:
            reraise_if_handlers(exc)
        self._mark = _get_sequence_nr()
        return value

    def receiver(self, value, site: int):
        """``__gradstep_receiver__``: note whether a method call's receiver is torch's (see
        ``METHOD_VIEW``); return it unchanged."""
        self._receivers[site] = _is_torchs(value)
        return value

    def _method_kind(self, kind: int, site) -> int:
        """Return VIEW or OP (``kind``'s) when the receiver noted at ``site`` was torch's,
        else SEEN."""
        kind = _METHOD_KINDS[kind] if self._receivers.pop(site, False) else SEEN
        self._method_call = kind
        return kind

    def _see(self, value, kind: int = SEEN, container=None):
        if kind in _METHOD_KINDS:
            kind = self._method_kind(kind, container)
        of = type(value)
        if of is torch.Tensor or of is torch.nn.Parameter:
            if kind == ITEM:
                kind = VIEW if type(container) in _TENSOR_TYPES else SEEN
            self._see_each((value,), kind)
        elif (of is tuple or of is list) and kind != ITEM and len(value) <= _MAX_ITEMS:
            self._see_each(value, kind)  # torch.split(...), the outputs of a model
        elif of.__module__ == "torch.return_types":  # x.max(dim)
            self._see_each(value, kind)
        return value

    def _see_each(self, values, kind: int) -> None:
        try:
            for t in values:
                if type(t) in _TENSOR_TYPES and t.requires_grad:
                    self._see_tensor(t, kind)
        except Exception as exc:
            reraise_if_handlers(exc)
        self._mark = _get_sequence_nr()

    def bind(self, names: dict, kind: int = SEEN) -> None:
        """``__gradstep_bind__``: the snippet assigned these top-level names."""
        counter, counters = _get_sequence_nr(), self.lines.counters  # as in see
        if not counters or counter > counters[-1]:
            self.lines.note(counter, sys._getframe(1).f_lineno)
        try:
            if _function_modes_on() or _dispatch_modes_on() or _profiler_enabled():  # watched()
                with unseen():
                    self._bind(names, kind)
            else:
                self._bind(names, kind)
        except Exception as exc:
            reraise_if_handlers(exc)
        self._mark = _get_sequence_nr()

    def _bind(self, names: dict, kind: int) -> None:
        if kind in _METHOD_KINDS:  # as the value was taken, just before
            kind, self._method_call = self._method_call, SEEN
        try:
            for name, value in names.items():
                if type(value) not in _TENSOR_TYPES:
                    if type(value) in _SEQUENCES:
                        self._bind_items(name, value)
                    continue
                fn = self._see_tensor(value, kind) if value.requires_grad else None
                self.bindings.bind_tensor(name, value, fn)
        except Exception as exc:
            reraise_if_handlers(exc)

    def _bind_items(self, name: str, items) -> None:
        """Name the plain leaves a bound list or tuple holds (``ps = [torch.ones(2,
        requires_grad=True)]``: ``ps[0]``, until a plain name is bound to one before a pass),
        up to ``_ITEMS_NAMED`` of them; parameters keep their module's names, ops and views
        are not read (reading a view's node may rebuild it), and a tensor without grad is
        left unnamed (a data list rebound in a loop would cost a label per item)."""
        bind, labelled = self.bindings.bind_tensor, self.bindings.leaf_labels
        for i, item in enumerate(items[:_ITEMS_NAMED]):
            if type(item) is not _TENSOR or not item.requires_grad:
                continue
            entry = labelled.get(id(item))  # labelled already: an item's name changes nothing
            if (entry is None or entry[0]() is not item) and not (item._is_view() or item.grad_fn is not None):
                bind(f"{name}[{i}]", item, None, True)

    def last(self, value) -> None:
        """``__gradstep_last__``: the value of the snippet's final expression (the root)."""
        self.lines.note(_get_sequence_nr(), sys._getframe(1).f_lineno)
        try:
            with unseen():
                self._see(value, SEEN)
        except Exception as exc:
            reraise_if_handlers(exc)
        self.last_value.append(value)

    def _see_tensor(self, t: torch.Tensor, kind: int):
        """Record ``t`` as its node's output when provable; return its node when it could be
        read safely (or None).

        Reading ``t.grad_fn`` changes nothing, except for a view: an older view's node
        may be rebuilt when read, so a view's node is read only when a view op has just
        made the view (``VIEW``; a new view's node is up to date), or an in-place op with
        grad mode on has just changed it (``CHANGED``, see there).

        ``t``, as it is now, is provably its node's output when it is a new view, when
        it was never changed in place (``_version == 0``: its value is what the op that
        made it computed), or when an op of the snippet's own expression (``OP``,
        ``VIEW``) made its node during that very expression (the node's sequence number
        is past the mark).
        """
        if t._is_view():
            fresh = kind == VIEW or (kind == CHANGED and torch.is_grad_enabled())
            fn = fresh_grad_fn(t) if fresh else None
            proven = fresh
        else:
            fn = t.grad_fn
            proven = fn is not None and (
                t._version == 0 or (kind != SEEN and sequence_nr_of(fn) >= self._mark))
        if proven and fn is not None:
            node_type = type(fn)  # node_key, inline (a call per value less)
            key = (("leaf", id(fn.variable)) if node_type is ACCUMULATE_GRAD
                   else ("op", node_type._sequence_nr(fn), node_type.name(fn)))
            output_nr = t.output_nr
            if output_nr or key not in self.values.first:  # ValueStore.add's first check:
                self.values.add(key, output_nr, t)  # most values seen are known already
        return fn

    # ------------------------------------------------------------- modules

    # torch.compile traces these hooks into the module's graph: they return at once there
    # (their reads would break the graph), and record nothing for a compiled module.

    def _enter_module(self, module, _inputs) -> None:
        if is_compiling() or _get_tracing_state() is not None:  # torch.jit.trace: see _leave_module
            return
        try:
            self.scopes.enter(module, _get_sequence_nr())
        except Exception as exc:
            reraise_if_handlers(exc)

    def _leave_module(self, module, _inputs, output) -> None:
        # Under torch.jit.trace every torch call is recorded into the traced graph: a value
        # summary's reductions and tolist() would land in it (and fail its sanity check)
        if is_compiling() or _get_tracing_state() is not None:
            return
        try:
            self.scopes.leave(module, _get_sequence_nr())
            if torch.is_grad_enabled():
                if watched():
                    with unseen():
                        self._see_outputs(output)
                else:
                    self._see_outputs(output)
        except Exception as exc:
            reraise_if_handlers(exc)

    def _see_outputs(self, output) -> None:
        for t in _tensors_in(output):
            self._see(t, SEEN)

    # ------------------------------------------------------------- saved tensors

    def see_saved(self, nodes, *, snippet_done: bool = False, slots_of: dict | None = None) -> list:
        """Record the values the nodes' saved tensors prove (before a pass frees them).

        A saved view is unpacked only once the snippet is done: unpacking reads
        the view's node, which torch rebuilds when the view went stale — harmless
        then, but not while the snippet may still use that view. Before a pass,
        the saved views are read instead (their data, nothing unpacked) and
        returned as pending values ``(consumer, producer, output_nr, value)``:
        ``commit`` keeps those whose consumer the pass ran, since torch's own
        unpacking then proved them unchanged since they were saved.
        ``slots_of`` maps nodes to their ``safe_reads.saved_slots`` when the caller
        read them already (a node missing there is read here).
        """
        pending: list = []
        found: list = []  # (node key, output_nr, tensor): summarised together at the end
        slots_of = slots_of or {}
        for fn in nodes:
            read = slots_of.get(fn)
            if (read is not None and not read) or is_leaf_node(fn):  # read: no saved tensor
                continue
            try:
                self._see_saved_of(fn, snippet_done, pending, read, found)
            except Exception as exc:
                reraise_if_handlers(exc)
                continue
        try:
            self.values.add_all(found)
        except Exception as exc:
            reraise_if_handlers(exc)
        return pending

    def commit(self, pending: list, ran) -> None:
        """Keep the pending values of the consumers in ``ran`` (nodes whose step finished)."""
        for consumer, producer, output_nr, value in pending:
            if consumer in ran:
                self.values.put(node_key(producer), output_nr, value)

    def _see_saved_of(self, fn, snippet_done: bool, pending: list, read, found: list) -> None:
        slots = None
        for slot in iter_saved_slots(fn) if read is None else read:
            if slot.state != "alive" or slot.data is None:
                continue
            view = slot.data._is_view()
            if view and not snippet_done:
                slots = _input_slots(fn) if slots is None else slots
                _pend_view(fn, slot, slots, pending)
                continue
            tensor = unpack(fn, slot, views=snippet_done)
            if tensor is None or not is_plain(tensor):
                continue
            producer = tensor.grad_fn  # a plain read: torch's version check just passed
            if producer is None:
                continue
            # Its own output as saved, a view as torch saw it when it saved it (a view's
            # node is rebuilt whenever it went stale), or an input never changed since
            # the op that made it.
            if producer is fn or view or tensor._version == 0:
                found.append((node_key(producer), tensor.output_nr, tensor))

    # ------------------------------------------------------------- installing

    @contextlib.contextmanager
    def active(self):
        """Install the module hooks and the rewrite's builtins while the block runs."""
        added = {SEE: self.see, BIND: self.bind, LAST: self.last, RECEIVER: self.receiver}
        for name, func in added.items():
            setattr(builtins, name, func)
        try:
            with self.module_hooks():
                yield self
        finally:
            for name in added:  # code the snippet left behind (a hook) still finds them
                if getattr(builtins, name, None) is added[name]:
                    setattr(builtins, name, _LEFT_BEHIND[name])

    @contextlib.contextmanager
    def module_hooks(self):
        """Note module outputs and the spans of module calls while the block runs."""
        with own_ids():  # the snippet's own handles are numbered as in python
            pre = nn_module.register_module_forward_pre_hook(self._enter_module)
            post = nn_module.register_module_forward_hook(self._leave_module, always_call=True)
        asks = nn_module._has_any_global_hook
        answer = nn_module._has_any_global_hook = _global_hooks_but(asks, {pre.id, post.id})
        exports = _exports_without_hooks({pre.id, post.id})
        try:
            # dynamo reads the hook dicts itself while it compiles (compile_sight)
            with hooks_out_of_compiles(functools.partial(_hooks_set_aside, {pre.id, post.id})):
                yield self
        finally:
            pre.remove()
            post.remove()
            if nn_module._has_any_global_hook is answer:
                nn_module._has_any_global_hook = asks
            for owner, name, original, wrapper in exports:
                if getattr(owner, name, None) is wrapper:
                    setattr(owner, name, original)
            self.scopes.close(_get_sequence_nr())


def _global_hooks_but(asks, ours: set):
    """Return torch's ``_has_any_global_hook`` answering as if the hooks ``ours`` were not
    there: ``torch.compile(module)`` asks it on every call, and warns of "global hooks on
    modules" where a plain run has none."""

    def has_any_global_hook():
        return (
            nn_module._global_backward_pre_hooks
            or nn_module._global_backward_hooks
            or nn_module._global_forward_hooks_with_kwargs
            or any(key not in ours for key in nn_module._global_forward_pre_hooks)
            or any(key not in ours for key in nn_module._global_forward_hooks)
            or any(key not in ours for key in nn_module._global_forward_hooks_always_called)
        )

    has_any_global_hook.__wrapped__ = asks
    has_any_global_hook.__name__ = has_any_global_hook.__qualname__ = asks.__name__
    has_any_global_hook.__module__ = asks.__module__
    return has_any_global_hook


_HOOK_DICTS = ("_global_forward_pre_hooks", "_global_forward_hooks",
               "_global_forward_hooks_always_called")


@contextlib.contextmanager
def _hooks_set_aside(ours: set):
    """Take the global module hooks ``ours`` out of torch's dicts while the block runs, then
    put them back where they were (other hooks registered meanwhile stay, after them)."""
    taken = []
    for name in _HOOK_DICTS:
        hooks = getattr(nn_module, name)
        if any(key in hooks for key in ours):
            order = {key: i for i, key in enumerate(hooks)}
            taken.append((hooks, order, {key: hooks.pop(key) for key in ours if key in hooks}))
    try:
        yield
    finally:
        for hooks, order, mine in taken:
            now = {**mine, **hooks}
            hooks.clear()
            hooks.update(sorted(now.items(), key=lambda item: order.get(item[0], len(order))))


def _exports_without_hooks(ours: set) -> list:
    """Wrap torch's export entry points so that they run without the global hooks ``ours``;
    return ``(owner, name, original, wrapper)`` of each wrapped one.

    Strict ``torch.export.export`` (dynamo's graph capture) reads the global hook dicts
    themselves (``len(_global_forward_hooks) == 0``, not ``_has_any_global_hook``), and with
    a hook there it traces the module's ``__call__`` and fails ("Attempted to inline
    function marked as skipped"), as it does in a plain run with a hook of the user's.
    While an export runs gradstep's hooks are out: the module outputs inside it are not
    observed. ``torch.export.export`` is wrapped, and torch's strict capture
    (``torch.export._trace._export_to_torch_ir``) when it is loaded (importing it loads
    dynamo: seconds): a reference to ``export`` taken before the hooks, in a process that
    never exported, still meets them (the Python API only: a snippet imports after).
    """
    targets = [(sys.modules.get("torch.export"), "export"),
               (sys.modules.get("torch.export._trace"), "_export_to_torch_ir")]
    wrapped = []
    for owner, name in targets:
        original = getattr(owner, name, None)
        if original is None:  # not loaded, or another torch
            continue
        wrapper = _without_hooks(original, ours)
        setattr(owner, name, wrapper)
        wrapped.append((owner, name, original, wrapper))
    return wrapped


def _without_hooks(original, ours: set):
    @functools.wraps(original)
    def without_gradstep_hooks(*args, **kwargs):
        with frames_out, _hooks_set_aside(ours):  # torch's error, as the plain run's has it
            return original(*args, **kwargs)

    return without_gradstep_hooks


def _see_nothing(value, kind=SEEN, container=None):
    return value


_LEFT_BEHIND = {SEE: _see_nothing, BIND: lambda names, kind=SEEN: None, LAST: lambda value: None,
                RECEIVER: lambda value, site: value}


_TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)
_TENSOR, _PARAMETER = _TENSOR_TYPES  # read per see: one global each, not two lookups
_SEQUENCES = (list, tuple)  # their leaves are named after them (``Observer._bind_items``)
_ITEMS_NAMED = 1024  # the first items of each (a bound list of numbers is not walked whole)


def _is_torchs(value) -> bool:
    """Return True when ``value``, a method call's receiver, is torch's: a tensor, the
    Tensor class (``torch.Tensor.select(x, 0)``), one of torch's modules (``torch``,
    ``F``) or op namespaces (``torch.ops.aten``, ``torch.ops.aten.add``); not a user
    object or module whose function has a torch op's name. Told by ``type(value)``:
    ``isinstance`` would also read ``value.__class__``, which a proxy object's own
    ``__getattribute__`` answers (the snippet's code, run once more)."""
    of = type(value)
    try:
        if issubclass(of, torch.Tensor):
            return True
        if issubclass(of, types.ModuleType):
            return (getattr(value, "__name__", "") or "").split(".")[0] == "torch"
        if issubclass(of, type):
            return issubclass(value, torch.Tensor)
        return of.__module__ == "torch._ops"
    except Exception as exc:  # a receiver's odd __class__ or __name__: not taken for torch's
        reraise_if_handlers(exc)
        return False
_MAX_ITEMS = 256  # a longer list is data, not the outputs of an op


def _input_slots(fn) -> dict:
    """Return ``{saved input name: slot}`` for a node (empty when unknown)."""
    try:
        return input_slots(name_of(fn), len(fn.next_functions)) or {}
    except Exception as exc:
        reraise_if_handlers(exc)
        return {}


def _pend_view(fn, slot, slots: dict, pending: list) -> None:
    """Note the value of a saved view input for its producer, to keep if the pass runs ``fn``.

    The view's data is read as it is (nothing unpacked, its node not read); the
    producer is the node in the slot of the argument the view was saved as.
    """
    name, _, index = slot.name.partition("[")
    where = slots.get(name)
    if isinstance(where, list):
        where = where[int(index.rstrip("]"))] if index and int(index.rstrip("]")) < len(where) else None
    if not isinstance(where, int) or where >= len(fn.next_functions):
        return
    producer, output_nr = fn.next_functions[where]
    if producer is None or is_leaf_node(producer) or not is_plain(slot.data):
        return
    value = summary(slot.data)
    if value is not None:
        pending.append((fn, producer, output_nr, value))


def _tensors_in(output) -> list:
    """Return the tensors of a module's output: a tensor, a tuple/list, or a dict's values.

    A container is read through the base class's own methods: a subclass's ``values``
    or ``__iter__`` is the user's code (it may count its calls, or be a one-shot). Types
    are told by ``type()``, which runs no ``__class__`` of a proxy's (see ``_is_torchs``).
    """
    of = type(output)
    if issubclass(of, torch.Tensor):
        return [output]
    if issubclass(of, dict):
        output = list(dict.values(output))
    elif issubclass(of, tuple):
        output = list(tuple.__iter__(output))
    elif issubclass(of, list):
        output = list(list.__iter__(output))
    else:
        return []
    return [t for t in output if issubclass(type(t), torch.Tensor)]


# View ops that always return a new view object (never their input itself).
VIEW_OPS = frozenset({
    "view", "view_as", "reshape", "reshape_as", "t", "transpose", "swapaxes", "swapdims",
    "permute", "movedim", "moveaxis", "select", "narrow", "unsqueeze", "squeeze", "expand",
    "expand_as", "as_strided", "diagonal", "unfold", "chunk", "split", "tensor_split",
    "unbind", "split_with_sizes", "hsplit", "vsplit", "dsplit", "view_as_real",
    "view_as_complex", "unflatten", "adjoint", "mT", "mH", "T", "H",
})


def torch_op_names() -> frozenset:
    """Return the names of torch functions and tensor methods (a call of one makes a new node)."""
    names = set(dir(torch.Tensor)) | set(dir(torch)) | set(dir(torch.nn.functional))
    names |= set(dir(torch.linalg)) | set(dir(torch.special)) | set(dir(torch.fft))
    return frozenset(n for n in names if not n.startswith("__") or n.startswith("__i"))
