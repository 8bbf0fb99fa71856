"""Many large float values summarised at once, to the bits of their own summaries.

A trace summarises ~1,000 values once its snippet is done (the values saved tensors
prove, the leaves): one by one, each is ``aminmax``, ``mean``, ``std``, ``stack`` and
``tolist``, five calls into torch for a few thousand elements. ``summaries`` reduces
the usual ones (plain float32 or float64 CPU tensors of 65 to 32,767 elements, read in
memory order) as rows of one 2-D tensor per length and dtype, with the same bits as
those calls give each tensor alone:

- ``mean``: ``rows.mean(1)``: below torch's parallel grain a row is added in the same
  serial pass, in memory order, as ``t.mean()`` adds the tensor (``grad_values`` does
  the same for a recorded pass's gradients);
- ``std``: each tensor's own ``t.std()`` (on the CPU a serial loop in double over the
  elements, which no row-wise call of torch's repeats to the bit), stacked;
- ``min`` and ``max``: ``amin(1)`` and ``amax(1)``, exact, but for the sign of a zero
  (``-0.0`` against ``0.0``: the two kernels compare in different orders), so where
  the min or the max is a zero, the two are the tensor's own ``aminmax``.

A row with a NaN, an infinity or an overflowing sum is summarised alone too (its NaN
and infinity counts and positions are read exactly there), as is anything else: the
per-tensor function the caller hands in (``values.summary``, ``summary_record``).
Nothing here runs between a caller's reads and the snippet: the values are those of
tensors as they are now, as the per-tensor summaries would have read them.
"""

from __future__ import annotations

import math

import torch

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.safe_reads import dense_storage_holds, storage_holds
from gradstep.autograd.unseen import watched
from gradstep.autograd.values import SMALL, dtype_name

_DTYPES = (torch.float32, torch.float64)
_SERIAL_ROW = 32768  # at::internal::GRAIN_SIZE: below it t.mean() and t.std() are one serial pass
_CHUNK_ELEMENTS = 1 << 16  # rows reduced together: a 256 KB float32 buffer (512 KB float64)
_MIN_ROWS = 2  # a length met once is summarised alone: a batch of one saves nothing


def summaries(tensors: list, one) -> list:
    """Return ``one(t)`` for every tensor of ``tensors`` (``values.summary`` or
    ``summary_record``), the usual large float ones reduced together (the same dicts)."""
    out = [None] * len(tensors)
    if watched():  # a snippet's mode or profiler: each alone, as ``one`` steps around it
        groups, alone = {}, list(range(len(tensors)))
    else:
        with torch.no_grad():  # a transpose's row is a permute of gradstep's own: no graph node
            groups, alone = _rows_of(tensors)
    buffers: dict = {}  # dtype -> one flat buffer that every group of it is copied into in turn
    for (n, dtype), group in groups.items():
        if len(group) < _MIN_ROWS:
            alone.append(group[0][0])
            continue
        size = min(max(1, _CHUNK_ELEMENTS // n), len(group)) * n
        buffers[dtype] = max(buffers.get(dtype, 0), size)
    for dtype, size in buffers.items():
        buffers[dtype] = torch.empty(size, dtype=dtype)
    for (n, dtype), group in groups.items():
        if len(group) < _MIN_ROWS:
            continue
        try:
            with torch.no_grad():
                _fill(group, n, buffers[dtype], out, alone)
        except Exception as exc:  # torch could not batch them: each alone, as before
            reraise_if_handlers(exc)
            alone.extend(i for i, _, _ in group if out[i] is None)
    for i in alone:
        out[i] = one(tensors[i])
    return out


def _rows_of(tensors: list) -> tuple[dict, list]:
    """Return ``{(numel, dtype): [(position, tensor, row)]}`` of the tensors that can be
    reduced as rows (``row``: the tensor in memory order) and the positions of the others
    (``alone``). Called under ``torch.no_grad()``: a permute made with grad on is a graph
    node, which would take one of the snippet's sequence numbers."""
    groups: dict = {}
    alone: list = []
    tensor_type, dtypes, strided, small, serial = torch.Tensor, _DTYPES, torch.strided, SMALL, _SERIAL_ROW
    for i, t in enumerate(tensors):
        row = None
        if ((type(t) is tensor_type or type(t) is torch.nn.Parameter) and t.dtype in dtypes
                and t.layout is strided and not t.is_nested and t.is_cpu):
            n = t.numel()
            # (a negative view: its base's memory; freed memory is not read: ``one`` says so)
            # (the storage asked before the permute: one of freed memory raises)
            if small < n < serial and not t.is_neg():
                if t.is_contiguous():
                    row = t if dense_storage_holds(t, n) else None
                else:
                    layout = (t.shape, t.stride())
                    order = _ORDERS.get(layout, _UNKNOWN)
                    if order is _UNKNOWN:  # a layout not met yet: its span worked out
                        row = _in_memory_order(t, layout) if storage_holds(t, n) else None
                    elif order is not None and dense_storage_holds(t, n):
                        # a permute of contiguous memory spans its ``n`` elements (sizes 1
                        # aside, which span nothing): ``storage_holds``' answer, three reads
                        row = t.permute(order)
        if row is None:
            alone.append(i)
            continue
        groups.setdefault((n, t.dtype), []).append((i, t, row))
    return groups, alone


def _in_memory_order(t: torch.Tensor, layout: tuple) -> torch.Tensor | None:
    """Return ``t`` permuted into the order of its memory when that is contiguous (a
    transpose, a permute), else None (gaps, overlaps, or a dimension of stride 0), for a
    ``layout`` (``(t.shape, t.stride())``) not in ``_ORDERS`` yet.

    Whether it is depends on the shape and strides alone: the answer is kept for them."""
    strides = layout[1]
    order = sorted(range(len(strides)), key=lambda d: -strides[d])
    if not t.permute(order).is_contiguous():
        order = None
    if len(_ORDERS) < 4096:
        _ORDERS[layout] = order
    return None if order is None else t.permute(order)


_ORDERS: dict = {}  # (shape, strides) -> the permutation that makes them contiguous, or None
_UNKNOWN = object()


def _fill(group: list, n: int, flat: torch.Tensor, out: list, alone: list) -> None:
    """Summarise a group of rows of ``n`` elements and one dtype into ``out``, a chunk of
    rows at a time copied into ``flat`` (the rows that must be summarised alone go to
    ``alone``)."""
    dtype = group[0][1].dtype
    per_chunk = max(1, _CHUNK_ELEMENTS // n)
    buffer = flat[:min(per_chunk, len(group)) * n].view(-1, n)
    dtype_text = dtype_name(dtype)
    for start in range(0, len(group), per_chunk):
        chunk = group[start:start + per_chunk]
        stats = row_stats([t for _, t, _ in chunk], [row for _, _, row in chunk], buffer, n)
        for (i, t, _), (low, high, avg, std) in zip(chunk, stats):
            if not math.isfinite(low + high + avg + std):  # a NaN or an infinity in any of them
                alone.append(i)
                continue
            if low == 0.0 or high == 0.0:  # -0.0 or 0.0: the sign aminmax gives, as alone
                low, high = own_range(t)
            out[i] = {"shape": list(t.shape), "dtype": dtype_text, "device": "cpu",
                      "min": low, "max": high, "mean": avg, "std": std, "nan": 0, "inf": 0}


def row_stats(tensors: list, rows: list, buffer: torch.Tensor, n: int) -> list:
    """Return ``[min, max, mean, std]`` of each tensor as Python floats: its row (the
    tensor in memory order) copied into ``buffer``, ``amin``, ``amax`` and ``mean`` of the
    rows, and each tensor's own ``std()``. torch's own work for the summaries (a
    benchmark times it, as it times ``values._reduce``)."""
    block = buffer[:len(rows)]
    torch.stack([row.reshape(n) for row in rows], out=block)
    spread = torch.stack([t.std() for t in tensors])
    return torch.stack([block.amin(1), block.amax(1), block.mean(1), spread], 1).tolist()


def own_range(t: torch.Tensor) -> list:
    """Return ``[min, max]`` of ``t`` from its own ``aminmax``, as Python floats: where a
    row's min or max is a zero, its sign (``-0.0`` or ``0.0``) is the one the tensor's own
    summary shows (``amin`` and ``amax`` of rows compare in another order than ``aminmax``).
    The trace's rows here and a recorded pass's gradient rows (``grad_values``) both use it."""
    return torch.stack(torch.aminmax(t)).tolist()
