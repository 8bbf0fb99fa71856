"""Many gradient tensors as plain data at once (what ``values.compact`` gives for each).

A recorded pass holds thousands of gradients. Summarising them one by one costs
several small reductions each; here the small ones (up to ``values.SMALL``
elements) are concatenated and read with one ``tolist()``, and the large ones
of the same size are stacked and reduced row-wise (``amin``, ``amax``, ``mean``;
each row's ``std()`` alone, or, for many short rows, ``row_stds``' numpy replay of it; where a row's min or max is a zero, the two are the
tensor's own ``aminmax``: its sign, ``-0.0`` or ``0.0``, is the one ``compact``
shows). torch's own work is in ``small_numbers``, ``stack_rows`` and ``row_stats``
(a benchmark times them: the floor of a summary that shows torch's own numbers). Anything unusual (half precision, integers,
complex, subclasses, meta, sparse, a row holding NaN or an infinity) goes through
``values.compact`` itself, so the output is always exactly the ``compact`` shape:
a nested list for a small tensor, ``{shape, dtype, device, min, max, mean, std,
nan, inf}`` for a large one.

A summary's mean and std are exactly what the snippet's own ``g.mean()`` and
``g.std()`` print: only a dense CPU gradient shorter than torch's parallel grain
becomes a row, read in memory order (contiguous, or a transpose, permute or
channels_last of a contiguous buffer: ``g.mean()`` adds its elements in that order,
in one serial pass, as its row's ``mean(1)`` does); a longer one, one with gaps or
overlaps (a step slice, an expanded gradient), a negative view or a non-CPU one is
summarised alone by those very calls.

A backward pass hands on many views of the same buffer (``view``, ``reshape``,
``squeeze`` of a gradient): dense large tensors (in memory order) with the same
memory, length and dtype are reduced once and each gets its own summary (its own shape) from
that row.
"""

from __future__ import annotations

import math

import torch

from gradstep.autograd.row_stds import serial_row_stds
from gradstep.autograd.safe_reads import dense_storage_holds, storage_holds
from gradstep.autograd.value_rows import own_range  # (where a row's min or max is a zero)
from gradstep.autograd.values import SMALL, compact, dtype_name, json_float

try:  # one C++ call: each tensor's contiguous().view(-1), concatenated
    from torch._utils import _flatten_dense_tensors as _flatten
except ImportError:  # pragma: no cover - older or newer torch
    def _flatten(tensors: list) -> torch.Tensor:
        return torch.cat([t.reshape(-1) for t in tensors])

_FAST_DTYPES = (torch.float32, torch.float64)
_CHUNK_ELEMENTS = 1 << 20  # rows reduced together: a 4 MB float32 buffer, reused
_SERIAL_ROW = 32768  # at::internal::GRAIN_SIZE: below it x.mean() and x.std() are one serial pass, as a row's is


def plain_values(tensors: list) -> list:
    """Return ``values.compact(t)`` for every tensor of ``tensors`` (None stays None)."""
    unique = dict(zip(map(id, tensors), tensors))  # the same tensor is summarised once
    unique.pop(_NONE_ID, None)
    plain: dict[int, object] = {_NONE_ID: None}
    small: dict = {}  # (dtype, device) -> [(key, tensor, numel)]
    large: dict = {}  # (shape, dtype) -> [(key, row, [(key, tensor), ...])]: row = tensor in memory order
    views: dict = {}  # (memory, length, dtype) -> [(key, tensor)]: one row for them all
    orders: dict = {}  # (shape, strides) -> the order of the memory's dimensions, or _GAPS
    tensor_type, fast_dtypes, serial_row, strided = torch.Tensor, _FAST_DTYPES, _SERIAL_ROW, torch.strided
    # All under no_grad: a gradient of a create_graph pass requires grad (a leaf's .grad
    # in its leaf's transposed layout, say), and a permute of it made with grad on is a
    # graph node, which takes one of the snippet's sequence numbers.
    with torch.no_grad():
        for key, t in unique.items():
            dtype = t.dtype
            if type(t) is not tensor_type or dtype not in fast_dtypes or t.layout is not strided:
                plain[key] = compact(t)
                continue
            if t.is_cpu:  # (not meta, and its device index is -1: one read for the two)
                device = -1
            elif t.is_meta:
                plain[key] = compact(t)
                continue
            else:
                device = t.get_device()
            n = t.numel()
            if n <= SMALL:
                if n == 0 or not storage_holds(t, n):
                    plain[key] = compact(t)  # (freed memory: ``compact`` reads none of it)
                else:
                    small.setdefault((dtype, device), []).append((key, t, n))
                continue
            # A row is batched only where its mean() and std() are the tensor's own to the
            # last bit: a dense CPU tensor shorter than torch's parallel grain, its elements
            # in memory order (the order torch's full reduction adds them in; one serial
            # reduction whatever the rows around it). Any other is summarised alone, by the
            # calls the snippet's own x.mean() makes.
            # (Memory freed or cut short: ``compact`` reads none of it.)
            if t.is_contiguous():
                order = None if dense_storage_holds(t, n) else _FREED
            else:
                order = _memory_order(t, n, orders)
            # (a negative view shares its base's memory, not its values)
            if order is _GAPS or order is _FREED or n >= serial_row or t.is_neg() or device != -1:
                plain[key] = compact(t)
                continue
            # Views of one buffer read the same elements in the same order: they share a row.
            # (A permute starts where its tensor does: the row's address is the tensor's, and
            # the row itself is made only for the first view of a buffer.)
            pointer = t.data_ptr()
            memory = (pointer, n, dtype) if pointer else None
            same = views.get(memory)
            if same is not None:
                same.append((key, t))
                continue
            same = [(key, t)]
            if memory is not None:
                views[memory] = same
            row = t if order is None else t.permute(order)
            large.setdefault((row.shape, dtype), []).append((key, row, same))
        for group in small.values():
            _in_batch(_small_group, group, plain, _small_pairs)
        for group in large.values():
            _in_batch(_large_group, group, plain, _large_pairs)
    return list(map(plain.__getitem__, map(id, tensors)))


_NONE_ID = id(None)


def _memory_order(t: torch.Tensor, n: int, orders: dict):
    """Return the order of ``t``'s dimensions in its memory (``t.permute(order)`` is then
    contiguous: a transpose, a permute), ``_GAPS`` where no order makes it contiguous
    (gaps or overlaps), or ``_FREED`` where its storage does not hold its ``n`` elements.

    ``orders`` remembers the answer for each shape and strides: it depends on nothing else.
    A layout's first tensor is asked ``storage_holds`` whole (a permute of freed memory
    raises), the next ones only for their ``n`` elements (``dense_storage_holds``)."""
    strides = t.stride()
    layout = (t.shape, strides)
    order = orders.get(layout)
    if order is None:
        if not storage_holds(t):
            return _FREED
        order = sorted(range(len(strides)), key=lambda d: -strides[d])
        if not t.permute(order).is_contiguous():
            order = _GAPS
        orders[layout] = order
    elif order is not _GAPS and not dense_storage_holds(t, n):
        return _FREED
    return order


_GAPS = object()
_FREED = object()


def _in_batch(summarise, group: list, plain: dict, pairs) -> None:
    """Run ``summarise`` on a group; if torch cannot batch it, every ``(key, tensor)``
    of ``pairs(group)`` one by one through ``compact``."""
    try:
        summarise(group, plain)
    except RuntimeError:  # e.g. nested or otherwise unusual tensors
        for key, t in pairs(group):
            plain[key] = compact(t)


def _small_pairs(group: list) -> list:
    return [(key, t) for key, t, _ in group]


def _large_pairs(group: list) -> list:
    return [pair for _, _, same in group for pair in same]


def _small_group(group: list, out: dict) -> None:
    """Fill ``out`` with the nested lists of small tensors of one dtype and device (one
    ``tolist()``); an entry is ``(key, tensor, numel)``."""
    numbers, finite = small_numbers([t for _, t, _ in group])
    if not finite:
        numbers = [json_float(x) for x in numbers]
    start = 0
    for i, t, n in group:
        end = start + n
        shape = t.shape
        out[i] = numbers[start:end] if len(shape) == 1 else _nest(numbers[start:end], list(shape))
        start = end


def small_numbers(tensors: list) -> tuple[list, bool]:
    """Return the elements of ``tensors`` (one dtype and device), each in row-major order,
    one after the other, as Python numbers (one copy on the device, one ``tolist()``), and
    whether all of them are finite."""
    flat = _flatten(tensors).cpu()
    return flat.tolist(), bool(torch.isfinite(flat).all())


def _large_group(group: list, out: dict) -> None:
    """Fill ``out`` with the summaries of large tensors of one shape and dtype, and of
    the views that share each one's row (an entry is ``(key, row, [(key, tensor), ...])``:
    the row is that list's first tensor, permuted into memory order where it was not
    contiguous).

    Rows are copied into one reused buffer a chunk at a time (a single huge stack
    would spend its time on fresh memory), then reduced row-wise by ``row_stats``.
    """
    first = group[0][1]
    shape, numel, dtype, device = tuple(first.shape), first.numel(), first.dtype, first.device
    dtype_text, device_text = dtype_name(dtype), str(device)
    rows_per_chunk = max(1, _CHUNK_ELEMENTS // numel)
    buffer = torch.empty((min(rows_per_chunk, len(group)), *shape), dtype=dtype, device=device)
    for start in range(0, len(group), rows_per_chunk):
        chunk = group[start:start + rows_per_chunk]
        rows = stack_rows([entry[1] for entry in chunk], buffer, numel)
        for (_, row, same), (low, high, avg, spread) in zip(chunk, row_stats(rows)):
            # One test for all four: a NaN or an infinity in any of them makes the sum non-finite.
            if not math.isfinite(low + high + avg + spread):
                for i, t in same:
                    out[i] = compact(t)  # NaN/Inf inside: count them exactly (and where)
                continue
            zero = low == 0.0 or high == 0.0  # -0.0 or 0.0: the sign each one's aminmax gives
            for i, t in same:  # the row's own tensor has the group's shape; any other its own
                lo, hi = own_range(t) if zero else (low, high)
                out[i] = {"shape": [*shape] if t is row else list(t.shape),
                          "dtype": dtype_text, "device": device_text,
                          "min": lo, "max": hi, "mean": avg, "std": spread,
                          "nan": 0, "inf": 0}


def stack_rows(tensors: list, buffer: torch.Tensor, numel: int) -> torch.Tensor:
    """Copy ``tensors`` (one shape) into the first rows of ``buffer``; return those rows
    as a ``(len(tensors), numel)`` view."""
    torch.stack(tensors, out=buffer[: len(tensors)])
    return buffer[: len(tensors)].view(len(tensors), numel)


def row_stats(rows: torch.Tensor) -> list:
    """Return ``[min, max, mean, std]`` of each row of a 2-D tensor, as Python floats:
    torch's own ``amin``, ``amax``, ``mean`` and each row's ``std()``: the same bits as the
    tensor's own ``std()``. Many short rows' stds come from ``serial_row_stds`` (the same
    IEEE steps as torch's loop, all rows side by side); any other block asks each row's
    ``std()`` (one call a row costs ~6 us of Python: against the row-wise ``std_mean``,
    ~3x faster for rows of 8,192 elements, about even at 1,000)."""
    means = rows.mean(1)
    spread = serial_row_stds(rows, means)
    if spread is None:
        spread = torch.stack([row.std() for row in rows.unbind()])
    return torch.stack([rows.amin(1), rows.amax(1), means, spread], dim=1).tolist()


def _nest(numbers: list, shape: list):
    """Return ``numbers`` (row-major) nested like ``tolist()`` of a tensor of ``shape``."""
    if not shape:
        return numbers[0]
    if len(shape) == 1:
        return numbers
    step = len(numbers) // shape[0] if shape[0] else 0
    return [_nest(numbers[k * step:(k + 1) * step], shape[1:]) for k in range(shape[0])]
