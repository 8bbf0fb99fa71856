"""Many gradient tensors as plain data at once (what ``values.compact`` gives for each).

A recorded pass holds thousands of gradients. Summarising them one by one costs
several small reductions each; here the small ones (up to ``values.SMALL``
elements) are concatenated and read with one ``tolist()``, and the large ones
of the same size are stacked and reduced row-wise (``aminmax``, ``std_mean``).
Anything unusual (half precision, integers, complex, subclasses, meta, sparse,
a row holding NaN or an infinity) goes through ``values.compact`` itself, so
the output is always exactly the ``compact`` shape: a nested list for a small
tensor, ``{shape, dtype, device, min, max, mean, std, nan, inf}`` for a large one.

A backward pass hands on many views of one buffer (``view``, ``reshape``,
``squeeze`` of a gradient): contiguous large tensors with the same memory, length
and dtype are reduced once and each gets its own summary (its own shape) from
that row. The numbers are the same as reducing each: the same elements in the
same order, and a row shorter than torch's parallel grain is reduced serially
in element order whatever the rows around it.
"""

from __future__ import annotations

import math

import torch

from gradstep.autograd.values import SMALL, compact, dtype_name, json_float

_FAST_DTYPES = (torch.float32, torch.float64)
_CHUNK_ELEMENTS = 1 << 20  # rows reduced together: a 4 MB float32 buffer, reused
_SERIAL_ROW = 32768  # at::internal::GRAIN_SIZE: a shorter row is one serial reduction


def plain_values(tensors: list) -> list:
    """Return ``values.compact(t)`` for every tensor of ``tensors`` (None stays None)."""
    unique = {id(t): t for t in tensors if t is not None}  # the same tensor is summarised once
    plain: dict[int, object] = {}
    small: dict = {}
    large: dict = {}
    views: dict = {}  # (memory, length, dtype, device) -> [(key, tensor)]: one row for them all
    for key, t in unique.items():
        dtype = t.dtype
        if type(t) is not torch.Tensor or dtype not in _FAST_DTYPES or t.is_sparse or t.is_meta:
            plain[key] = compact(t)
            continue
        n = t.numel()
        if n == 0:
            plain[key] = compact(t)
        elif n <= SMALL:
            small.setdefault(dtype, []).append((key, t, [(key, t)]))
        else:
            device = t.get_device()
            memory = _memory_key(t, n, dtype, device)
            same = views.get(memory) if memory is not None else None
            if same is not None:
                same.append((key, t))
                continue
            same = [(key, t)]
            if memory is not None:
                views[memory] = same
            large.setdefault((t.shape, dtype, device), []).append((key, t, same))
    with torch.no_grad():
        for group in small.values():
            _in_batch(_small_group, group, plain)
        for group in large.values():
            _in_batch(_large_group, group, plain)
    return [None if t is None else plain[id(t)] for t in tensors]


def _memory_key(t: torch.Tensor, n: int, dtype, device: int):
    """Return what makes two tensors read the same elements in the same order, or None
    when ``t`` is not a plain contiguous buffer (its summary is then its own)."""
    if n >= _SERIAL_ROW or t.is_neg() or not t.is_contiguous():
        return None
    pointer = t.data_ptr()
    return None if pointer == 0 else (pointer, n, dtype, device)


def _in_batch(summarise, group: list, plain: dict) -> None:
    """Run ``summarise`` on a group; one by one through ``compact`` if torch cannot batch it."""
    try:
        summarise(group, plain)
    except RuntimeError:  # e.g. nested or otherwise unusual tensors
        for _, _, same in group:
            for key, t in same:
                plain[key] = compact(t)


def _small_group(group: list, out: dict) -> None:
    """Fill ``out`` with the nested lists of small tensors of one dtype (one ``tolist()``)."""
    flat = torch.cat([t.reshape(-1).cpu() for _, t, _ in group])
    numbers = flat.tolist()
    if not bool(torch.isfinite(flat).all()):
        numbers = [json_float(x) for x in numbers]
    start = 0
    for i, t, _ in group:
        end = start + t.numel()
        out[i] = _nest(numbers[start:end], list(t.shape))
        start = end


def _large_group(group: list, out: dict) -> None:
    """Fill ``out`` with the summaries of large tensors of one shape and dtype, and of
    the views that share each one's row (an entry is ``(key, tensor, [(key, view), ...])``,
    the tensor itself first in that list).

    Rows are copied into one reused buffer a chunk at a time (a single huge stack
    would spend its time on fresh memory), then reduced row-wise: min, max and
    ``torch.std_mean`` (torch's own mean and standard deviation; a sum of squares
    would lose precision in float32).
    """
    first = group[0][1]
    shape, numel, dtype, device = tuple(first.shape), first.numel(), first.dtype, first.device
    dtype_text, device_text = dtype_name(dtype), str(device)
    rows_per_chunk = max(1, _CHUNK_ELEMENTS // numel)
    buffer = torch.empty((min(rows_per_chunk, len(group)), *shape), dtype=dtype, device=device)
    for start in range(0, len(group), rows_per_chunk):
        chunk = group[start:start + rows_per_chunk]
        torch.stack([entry[1] for entry in chunk], out=buffer[: len(chunk)])
        rows = buffer[: len(chunk)].view(len(chunk), numel)
        std, mean = torch.std_mean(rows, dim=1)
        stats = torch.stack([rows.amin(1), rows.amax(1), mean, std], dim=1).tolist()
        for (_, _, same), (low, high, avg, spread) in zip(chunk, stats):
            # One test for all four: a NaN or an infinity in any of them makes the sum non-finite.
            finite = math.isfinite(low + high + avg + spread)
            for i, t in same:
                if not finite:
                    out[i] = compact(t)  # NaN/Inf inside: count them exactly (and where)
                    continue
                out[i] = {"shape": list(t.shape), "dtype": dtype_text, "device": device_text,
                          "min": low, "max": high, "mean": avg, "std": spread,
                          "nan": 0, "inf": 0}


def _nest(numbers: list, shape: list):
    """Return ``numbers`` (row-major) nested like ``tolist()`` of a tensor of ``shape``."""
    if not shape:
        return numbers[0]
    if len(shape) == 1:
        return numbers
    step = len(numbers) // shape[0] if shape[0] else 0
    return [_nest(numbers[k * step:(k + 1) * step], shape[1:]) for k in range(shape[0])]
