"""When, during a pass, a hook of the snippet's changed a saved tensor in place.

A tensor hook (``e.register_hook(lambda g: b.add_(1))``) or a leaf's post-accumulate-grad
hook that writes to a tensor a later node saved makes torch refuse that node ("... is at
version 1; expected version 0 instead"). The pass's probe as it began (``changed_before``)
and the one as torch raised (``changed_when_raised``) bound the write; the steps between
need to know when it happened. Reading every saved tensor's version at every step would
cost a read per saved tensor per step (~1.7 ms a step on ``bench/bench_backward.py``'s
1,151 saved tensors), so the versions are read only where a hook of the snippet's that
Python can see runs (``HookProbes``):

- at the pre-hook of a node carrying a tensor hook (torch runs a node's tensor hooks
  before its pre-hooks, gradstep's included): the state as that node is about to run;
- at the hook of every node that sends such a node a gradient (before the tensor hook
  ran: the state as the step after it is about to run is no earlier than that);
- before and after a leaf's ``AccumulateGrad`` that has post-accumulate-grad hooks
  (torch runs them inside the node, before its hooks);
- at the pre-hook of each root's node.

Each probe reads the version of every saved tensor of the graph that has no unpack hook
(a plain read: ``SavedTensor.data._version``; nothing is unpacked) and keeps those that
moved since the pass began. A version only grows, so a probe that finds a saved tensor
at its saved version tells it was untouched at every earlier moment, and two probes that
find the same version tell it for every moment between them. ``step_state`` reads them
(``probed``); a moment no probe bounds shows less (``changed_during``). A node hook of the
snippet's (``register_prehook``) or a custom ``Function.backward`` that writes is not seen
by Python: its write is bounded by the probes around it only.
"""

from __future__ import annotations

import torch

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.safe_reads import (
    ACCUMULATE_GRAD,
    grad_fn_of,
    is_plain,
    is_python_node,
    plain_reads,
    raw_saved_names,
    sequence_nr_of,
)
from gradstep.autograd.unseen import unseen

MOST_PROBES = 64  # probes a pass at most (a hook on every parameter: the probes past it
# are not made, and the moments they would have bounded show less)
_PLAIN = (torch.Tensor, torch.nn.Parameter)


class HookProbes:
    """Version probes around the snippet's hooks in one pass over ``id_of`` (grad_fn -> id).

    ``install(started)`` puts the probes on (after the step hooks: ``started`` is their list
    of steps begun, whose length places each probe); ``remove()`` takes them off;
    ``readings()`` gives ``[[moment, {node id: {saved name: version}}], ...]``, a moment
    being the step index a pre-hook probe ran before (``k``: the state shown after ``k``
    steps) or that index plus 0.5 for a probe after a node ran, with only the saved tensors
    whose version moved since ``install``."""

    def __init__(self, id_of: dict, pre: set, post: set):
        self.id_of = id_of
        self.pre, self.post = pre, post  # the nodes probed before / after they run
        self._watch: list = []  # (node id, saved name, raw saved tensor, version then)
        self._readings: list = []
        self._handles: list = []

    def install(self, started: list) -> None:
        self._watch = _watched(self.id_of)
        if not self._watch:
            return
        readings, watch = self._readings, self._watch

        def probe(moment: float) -> None:
            if len(readings) >= MOST_PROBES:
                return
            with unseen():
                moved = {}
                for node_id, name, raw, then in watch:
                    data = raw.data
                    if data is not None and data._version != then:
                        moved.setdefault(node_id, {})[name] = data._version
            readings.append([moment, moved])

        def pre_probe(grad_outputs):
            probe(len(started) - 1)

        def post_probe(grad_inputs, grad_outputs):
            probe(len(started) - 0.5)

        for fn in self.pre | self.post:
            node_type = type(fn)
            if fn in self.pre:
                self._handles.append(node_type.register_prehook(fn, pre_probe))
            if fn in self.post:
                self._handles.append(node_type.register_hook(fn, post_probe))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._watch = []

    def readings(self) -> list:
        return self._readings


def hook_probes(id_of: dict, roots=(), tensors=(), noted: set | None = None) -> HookProbes | None:
    """Return the probes for a pass over ``id_of`` from ``roots`` (tensors), or None where no
    hook of the snippet's that Python can see would run in it: a tensor hook on a node of
    ``noted`` (``tensor_hooks``' (class, sequence number) notes), on a leaf, or on one of
    ``tensors`` (the snippet's named values) that is no view, or a leaf's
    post-accumulate-grad hook. None also where the look-up fails (the pass is recorded as
    before)."""
    try:
        return _hook_probes(id_of, roots, tensors, noted or set())
    except Exception as exc:
        reraise_if_handlers(exc)
        return None


def _hook_probes(id_of: dict, roots, tensors, noted: set) -> HookProbes | None:
    pre, post = set(), set()
    with plain_reads():
        for fn in id_of:
            if type(fn) is ACCUMULATE_GRAD:
                variable = fn.variable
                if variable is None:
                    continue
                if variable._backward_hooks:
                    pre.add(fn)
                if getattr(variable, "_post_accumulate_grad_hooks", None):
                    pre.add(fn)
                    post.add(fn)
            elif noted and (type(fn), sequence_nr_of(fn)) in noted:
                pre.add(fn)
        for value in tensors:
            if (is_plain(value) and value.requires_grad and value._backward_hooks
                    and not value._is_view()):
                fn = grad_fn_of(value)
                if fn in id_of:
                    pre.add(fn)
    if not pre:
        return None
    for fn in id_of:  # the senders of a hooked node: a probe before its tensor hook runs
        if any(next_fn in pre for next_fn, _ in fn.next_functions):
            post.add(fn)
    for root in roots:
        fn = grad_fn_of(root) if is_plain(root) and not root._is_view() else None
        if fn in id_of:
            pre.add(fn)
    return HookProbes(id_of, pre, post)


def _watched(id_of: dict) -> list:
    """Return ``(node id, saved name, raw saved tensor, its version now)`` for every saved
    tensor of ``id_of`` torch checks the version of (no unpack hook, a plain tensor)."""
    from gradstep.autograd.saved import _display_name

    out = []
    with unseen():
        for fn, node_id in id_of.items():
            for attr in raw_saved_names(type(fn)):
                try:
                    raw = getattr(fn, attr)
                except RuntimeError:  # a custom Function's list, once released
                    continue
                name = attr.removeprefix("_raw_saved_")
                items = enumerate(raw) if isinstance(raw, (list, tuple)) else ((None, raw),)
                for i, item in items:
                    if item is None or item.unpack_hook is not None:
                        continue
                    data = item.data
                    if type(data) in _PLAIN:
                        shown = name if i is None else f"{name}[{i}]"
                        if is_python_node(fn):
                            shown = _display_name(fn, shown)
                        out.append((node_id, shown, item, data._version))
    return out
