"""Deep values (opt-in): the output of every torch call, wherever it is made.

By default gradstep sees only the snippet's own expressions, module outputs and
saved tensors (``observe``), because any Python mode changes what torch does:
while a ``TorchFunctionMode`` is active, ``torch.overrides.has_torch_function``
is true for every tensor, so ``nn.MultiheadAttention`` and ``nn.TransformerEncoder``
refuse their inference fast path. With ``--deep-values`` (the window's "Deep
values" toggle) this ``TorchFunctionMode`` also records the output of each torch
call made inside library code (a model's forward), so more nodes get a value —
at the price of that change, which the user is told about.

The same rule as ``observe`` decides what is a node's output, by identity,
never by sequence-number matching: a new view returned by the call, a tensor
never changed in place, or a tensor whose node this very call made. Nodes made
inside one torch call (the reshapes of a 3-D ``F.linear``) get no value.
"""

from __future__ import annotations

import contextlib

import torch
from torch._C._autograd import _get_sequence_nr
from torch.overrides import TorchFunctionMode

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.safe_reads import fresh_grad_fn, is_plain, sequence_nr_of
from gradstep.autograd.trace import node_key


class Recorder(TorchFunctionMode):
    """Feeds the outputs of every torch call into an ``observe.Observer``'s values."""

    def __init__(self, observer):
        super().__init__()
        self.values = observer.values

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") == "__get__":  # property reads: nothing computed
            return func(*args, **(kwargs or {}))
        before = _get_sequence_nr()
        out = func(*args, **(kwargs or {}))
        if torch.is_grad_enabled():
            try:
                self._record(args[0] if out is None and args else out, args, before)
            except Exception as exc:  # the snippet must never see gradstep fail
                reraise_if_handlers(exc)
        return out

    def _record(self, out, args, before: int) -> None:
        items = out if isinstance(out, (tuple, list)) else (out,)
        for t in items:
            if is_plain(t) and t.requires_grad:
                fn = _own_node(t, args, before)
                if fn is not None:
                    self.values.add(node_key(fn), t.output_nr, t)

    @contextlib.contextmanager
    def active(self):
        """Record while the block runs; the mode is removed even if it raises."""
        with self:
            yield self


def _own_node(t: torch.Tensor, args, before: int):
    """Return ``t``'s node when ``t`` is provably the output of that node, else None."""
    new_object = not any(t is a for a in args)
    if t._is_view():
        return fresh_grad_fn(t) if new_object else None
    fn = t.grad_fn
    if fn is None:
        return None
    if t._version == 0 or sequence_nr_of(fn) >= before:
        return fn
    return None
