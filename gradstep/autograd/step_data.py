"""The plain data of a recorded pass's steps (``step_hooks``): gradients summarised early
(``_Summary``), the check that every tensor kept can be read, and the step dicts built
from the hooks' events.
"""

from __future__ import annotations

from torch import Tensor

from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.held_grads import NOT_KEPT
from gradstep.autograd.safe_reads import runs_dispatch_code


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
