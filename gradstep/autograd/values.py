"""Tensors and Python values as plain, strict-JSON data.

``tensor_value(t)`` summarises a tensor (shape, dtype, min, max, mean, std,
NaN/Inf counts, and the data itself when it is small). ``to_jsonable(x)``
turns any nested structure into lists, dicts, str, int, float and None, with
tensors as ``tensor_value`` dicts and non-finite floats written as
``gradstep.policies.strict_json`` writes them (``"NaN"``, ``"Infinity"``, ``"-Infinity"``).
"""

from __future__ import annotations

import math
from array import array
from math import isfinite
from typing import Any

import numpy
import torch

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.safe_reads import storage_holds
from gradstep.autograd.unheard import detached
from gradstep.autograd.unseen import unseen, watched
from gradstep.policies.strict_json import NOT_MINE, json_float, plain

SMALL = 64  # tensors with at most this many elements keep their data
# Parameter disables torch functions itself, so it needs no conversion.
_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)


def dtype_name(dtype: torch.dtype) -> str:
    """Return ``"float32"`` for ``torch.float32`` (the name without ``torch.``)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name


_DTYPE_NAMES: dict = {}  # filled as dtypes are met: a summary per op asks


def device_name(device: torch.device) -> str:
    """Return ``str(device)`` (``"cpu"``, ``"cuda:0"``), from a cache: a trace asks per node."""
    name = _DEVICE_NAMES.get(device)
    if name is None:
        name = _DEVICE_NAMES[device] = str(device)
    return name


_DEVICE_NAMES: dict = {}


def to_jsonable(x: Any) -> Any:
    """Return ``x`` as plain JSON data (``strict_json.plain``; tensors become
    ``tensor_value`` dicts, dtypes and devices their names)."""
    return plain(x, _torch_plain)


def _torch_plain(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return tensor_value(x)
    if isinstance(x, (torch.dtype, torch.device)):
        return str(x).removeprefix("torch.")
    return NOT_MINE


def summary(t: torch.Tensor, exact: bool = True) -> dict | None:
    """Return ``tensor_value(t)`` read below every Python mode, or None for a tensor
    subclass (its data lives in its own code, which gradstep does not run) or a
    tensor that cannot be read (``exact`` False: ``tensor_value``'s)."""
    if type(t) not in _PLAIN_TYPES:
        return None
    try:
        if not watched():
            return tensor_value(t, exact)  # no mode or profiler to step around
        with unseen(), torch._C._DisableTorchDispatch():
            return tensor_value(t, exact)
    except Exception as exc:  # an exotic tensor must not fail the snippet
        reraise_if_handlers(exc)  # a signal handler's: the snippet's
        return None


def tensor_data(t: torch.Tensor) -> Any:
    """Return the tensor's values nested like ``tolist()``, JSON-safe (small tensors only)."""
    return to_jsonable(_cpu_list(detached(_plain(t))))


def compact(t: torch.Tensor | None) -> Any:
    """Return ``tolist()`` data for a small tensor, the ``tensor_value`` summary otherwise."""
    if t is None:
        return None
    if has_data(t) and t.numel() <= SMALL:
        return tensor_data(t)
    return tensor_value(t)


def shape_of(t: torch.Tensor) -> list | None:
    """Return ``list(t.shape)``, None for a nested tensor (no one shape: torch raises)."""
    return None if getattr(t, "is_nested", False) else list(t.shape)


def has_data(t: torch.Tensor) -> bool:
    """Return False for tensors without storage to read (meta, fake, nested, any layout
    but strided: sparse COO, CSR, CSC, BSR, BSC; and one whose memory was freed, its
    storage smaller than its elements span: FSDP resizes a parameter's to 0 bytes)."""
    if t.device.type == "meta" or t.layout is not torch.strided or getattr(t, "is_nested", False):
        return False
    return storage_holds(t)


def tensor_value(t: torch.Tensor, exact: bool = True) -> dict:
    """Return ``{shape, dtype, device, min, max, mean, std, nan, inf}`` plus ``data`` when small.

    Min and max are the finite elements' (so one NaN does not hide the range); the
    mean and std of a float tensor with a NaN or an infinity, or whose sum is past the
    range, are torch's own ``t.mean()`` and ``t.std()`` (nan, inf: strict JSON's
    ``"NaN"``, ``"Infinity"``); complex tensors are summarised by magnitude. When there are NaN or
    infinite elements, ``nonfinite_at`` lists the indices of the first
    ``NONFINITE_SHOWN`` of them (``[[0, 3], [1, 0]]``). A tensor with no data
    (the meta device) gets only its shape, dtype and device. A float tensor of 2 to
    ``SMALL`` elements, all finite, has torch's own ``t.mean()`` and ``t.std()``; with
    ``exact`` False none (a trace past ``SMALL_MEANS_LIMIT``: nothing reduced). So has
    any float tensor, float16 and bfloat16 too (but for a CPU half precision tensor of
    more than ``_CHUNK`` elements: no mean, ``_large_half_mean_std``); one of no element
    has mean and std nan (``"NaN"``), and no min or max (torch raises there). Integers
    and booleans, which torch has no ``t.mean()`` of, are summarised in double.
    """
    small = _small_cpu_value(t, exact)
    if small is not None:
        return small
    return _general_value(t, exact)


def _general_value(t: torch.Tensor, exact: bool = True) -> dict:
    """Return ``tensor_value(t)`` without first trying ``_small_cpu_value``."""
    if (type(t) in _PLAIN_TYPES and t.dtype in _SMALL_CPU_DTYPES and t.layout is torch.strided
            and not t.is_nested and t.numel() > SMALL and t.device.type != "meta"
            and storage_holds(t)):
        # The usual large value (a float32 or float64 tensor with data, most of a trace's):
        # what the steps below do for it, without asking again what is known here.
        t = t.detach()
        out = {"shape": list(t.shape), "dtype": dtype_name(t.dtype), "device": device_name(t.device)}
        out.update(_float_stats(t))
        return out
    t = detached(_plain(t))  # (a nested or compressed sparse alias warns: unheard)
    out: dict = {"shape": shape_of(t), "dtype": dtype_name(t.dtype), "device": device_name(t.device)}
    if not has_data(t):
        return out
    if t.numel() <= SMALL and not t.is_complex():
        # One read of the data: min and max from it in Python cost less than torch's
        # reductions; a float tensor's mean and std are its own (``_own_mean_std``).
        data = _cpu_list(t)
        flat = _cpu_list(t.reshape(-1)) if t.dim() != 1 else data
        out.update(_list_stats(flat))
        nonfinite = out["nan"] or out["inf"]
        if not flat and t.is_floating_point():
            out["mean"], out["std"] = _EMPTY_MEAN_STD
        elif flat and out["mean"] is None and t.is_floating_point():
            # torch's own, as it prints them (nan, inf); a sum past the range alone
            # (all finite) follows ``exact`` as any other small float value's mean
            if exact or nonfinite:
                out["mean"], out["std"] = _torch_mean_std(t, flat, out["nan"])
        # (half precision too: its own ``t.mean()``, summed in float32 and rounded to 8 or
        # 11 bits, inf where that sum passes the range, not the mean of its values widened)
        elif len(flat) > 1 and not nonfinite and t.is_floating_point():
            out["mean"], out["std"] = _own_mean_std(t, flat) if exact else (None, None)
        elif len(flat) > 1 and not t.is_floating_point():
            # ints and bools (torch has no t.mean() of theirs): t.double()'s, as a large one's
            out["mean"], out["std"] = _whole_mean_std(t, flat, out)
        out["data"] = data if out["nan"] == 0 and out["inf"] == 0 else to_jsonable(data)
        return out
    out.update(_stats(t))
    if t.numel() <= SMALL:
        out["data"] = tensor_data(t)
    return out


_SMALL_CPU_DTYPES = {torch.float32: "float32", torch.float64: "float64"}
# the dtypes a record is made for: half precision's numbers are exact as Python floats too
_RECORD_CPU_DTYPES = {**_SMALL_CPU_DTYPES, torch.float16: "float16", torch.bfloat16: "bfloat16"}
_HALF_NAMES = ("float16", "bfloat16")  # whose t.std() is torch's Welford in float, not ``serial_std``


def summary_record(t: torch.Tensor) -> dict | tuple | None:
    """Return ``summary(t)`` in the form a run keeps it (``unpacked`` gives the dict).

    A run keeps a summary of every value it sees. In the case a trace meets per op
    (see ``_small_cpu_record``) that is a tuple of numbers and strings, which Python's
    collector stops tracking at its next young collection: a 100,000-node chain keeps
    ~300,000 fewer containers for every full collection to walk while the snippet runs.
    """
    if type(t) in _PLAIN_TYPES and not watched():
        # summary(t)'s own checks, done once: no mode or profiler to step around
        try:
            record = _small_cpu_record(t)
            return _general_value(t) if record is None else record
        except Exception as exc:  # an exotic tensor must not fail the snippet
            reraise_if_handlers(exc)  # a signal handler's: the snippet's
            return None
    return summary(t)


def unpacked(value: dict | tuple | None, exact: bool = True) -> dict | None:
    """Return the ``tensor_value`` dict of a ``summary_record`` (a dict stays as it is);
    a ``PENDING`` mean and std made torch's own (``settled``). With ``exact`` False (a
    trace past ``SMALL_MEANS_LIMIT``): no mean and no std where ``small_mean``."""
    if type(value) is not tuple:
        return value if exact else without_mean(value)
    dtype, low, high, mean, std, nan, inf, scalar = value[:8]
    if mean is PENDING:
        if exact:
            mean, std = settled([value])[0][3:5]
        else:
            mean = std = None
    elif not exact and std is not None and low is not None and not nan and not inf:  # (its own, made at once)
        mean = std = None
    shape, data = ([], value[8]) if scalar else ([len(value) - 8], list(value[8:]))
    return {"shape": shape, "dtype": dtype, "device": "cpu", "min": low, "max": high,
            "mean": mean, "std": std, "nan": nan, "inf": inf, "data": data}


def _small_cpu_value(t: torch.Tensor, exact: bool = True) -> dict | None:
    """Return ``tensor_value(t)`` for the common case a trace meets per op (see
    ``_small_cpu_record``), or None for anything else."""
    record = _small_cpu_record(t)
    return None if record is None else unpacked(record, exact)


def _small_cpu_record(t: torch.Tensor) -> tuple | None:
    """Return ``(dtype name, min, max, mean, std, nan, inf, is 0-dim, *data)`` of a plain
    CPU float tensor of at most ``SMALL`` elements and at most one dimension, read
    with fewer steps than ``tensor_value`` (the same reads and the same arithmetic);
    None for anything else.

    One flat tuple of numbers and strings: the collector stops tracking it the first
    time it looks at it (a tuple inside it would keep it tracked that time).
    Nothing here makes a graph node: ``tolist()`` reads the data as it is, and a step
    slice's ``t.mean()`` is of ``t.detach()`` (a node would advance the snippet's sequence
    numbers).

    None too for one whose storage holds fewer bytes than its elements span (shrunk by
    hand, ``untyped_storage().resize_(k)``: ``tolist()`` would read memory torch no longer
    owns; ``safe_reads.storage_holds``, its span worked out here for one dimension).
    """
    dtype = _RECORD_CPU_DTYPES.get(t.dtype)
    if (dtype is None or not t.is_cpu or t.layout is not torch.strided or t.is_nested
            or type(t) not in _PLAIN_TYPES):
        return None
    dims = t.dim()
    if dims > 1:
        return None
    n = t.numel()
    if n > SMALL:
        return None
    step = t.stride(0) if dims else 1
    if n and t.untyped_storage().nbytes() < (t.storage_offset() + 1 + (n - 1) * abs(step)) * t.itemsize:
        return None  # (0 bytes too: FSDP's freed parameter)
    try:
        data = t.tolist()
    except RuntimeError:  # (as any read: an exotic tensor does not fail the snippet)
        return None
    flat = data if type(data) is list else [data]
    n = len(flat)
    total = sum(flat)
    if n and isfinite(total):  # _list_stats' first case, written out: no dict to build
        if n == 1:  # t.mean() of one element is 0 + it (-0.0 reads 0.0); t.std() is nan (none shown)
            mean, std = flat[0] + 0.0, None
        elif step == 1:  # its row: t.mean() adds it as a row of its own length does
            mean = std = PENDING  # ``settled`` reduces such records in bulk
        elif dtype in _HALF_NAMES:  # a step slice or an expanded view, half precision
            mean, std = _own_mean_std(t.detach(), flat)  # detached: no graph node
        else:  # a step slice or an expanded view: torch adds it in another order
            mean = t.detach().mean().item()  # detached: no graph node (the snippet's sequence numbers)
            std = serial_std(flat, mean, dtype == "float32")
        head = (dtype, min(flat), max(flat), mean, std, 0, 0)
    else:  # a NaN, an infinity, a sum past the double range, or no element
        stats = _list_stats(flat)
        mean, std = _torch_mean_std(t, flat, stats["nan"]) if n else _EMPTY_MEAN_STD
        if stats["nan"] or stats["inf"]:
            data = to_jsonable(data)
        head = (dtype, stats["min"], stats["max"], mean, std, stats["nan"], stats["inf"])
    return (*head, False, *data) if type(data) is list else (*head, True, data)


PENDING = "pending"  # a record's mean and std until its row is reduced (``settled``)
# A trace keeps torch's own mean and std of its small float values (2 to SMALL elements,
# all finite) while it has at most this many of them; a bigger trace shows none of
# theirs (null, as a one-element std), one rule for the whole graph. The exact numbers
# cost ~2.5 us a value when read (docs/speed.md items 57 and 58): 50 ms here.
SMALL_MEANS_LIMIT = 20_000


def small_mean(value: dict | tuple | None) -> bool:
    """Return True for a summary whose mean and std fall under ``SMALL_MEANS_LIMIT``: a
    small float tensor's of 2 or more elements, all finite (``PENDING``, or its own)."""
    if type(value) is tuple:  # (an empty tensor's nan has no min: torch's in any case)
        return value[4] is not None and value[1] is not None and not value[5] and not value[6]
    return (value is not None and "data" in value and value.get("std") is not None
            and value.get("min") is not None
            and not value.get("nan") and not value.get("inf")
            and str(value.get("dtype", "")).startswith(("float", "bfloat")))


def without_mean(value: dict | None) -> dict | None:
    """Return ``value`` with no mean and no std where ``small_mean`` (a copy), else itself."""
    if value is None or "data" not in value or not small_mean(value):
        return value
    return {**value, "mean": None, "std": None}


_RECORD_DTYPES = {"float32": torch.float32, "float64": torch.float64,
                  "float16": torch.float16, "bfloat16": torch.bfloat16}
_ROWS_AT_ONCE = 16384  # rows of one length made into one tensor by ``settled``


def settled(records: list, exact: bool = True) -> list:
    """Return ``records`` (``summary_record`` tuples) with every ``PENDING`` mean and std
    filled in: torch's own ``t.mean()`` and ``t.std()`` of the tensor it was read from
    (with ``exact`` False: None, nothing reduced; a trace past ``SMALL_MEANS_LIMIT``).

    Such a record is of a contiguous float CPU tensor of 2 to ``SMALL``
    elements, all finite. Its numbers are made into a row again (the same bits), and the
    rows of one length and dtype are reduced together: ``rows.mean(1)`` adds a short row
    in the very order and precision ``t.mean()`` adds the tensor (a vectorised float32
    or float64 sum, not the exact double mean: they differ in the last bits in most
    float32 tensors). The std is ``serial_std`` from that mean, for all rows at once
    (``serial_stds``; ``rows.std(1)``, and torch's float64 ``cumsum`` of the squares, are
    not the same bits: docs/speed.md item 57; numpy's serial ``cumsum`` is: item 61).
    A float16 or bfloat16 record's row is summed as a float32 copy, as ``t.mean()`` sums
    the tensor, and rounded to its dtype; its std is each row's own ``std()`` (item 65).
    A record torch cannot read so (a mode of the snippet's refusing) shows no mean and std.
    """
    out = list(records)
    if not exact:
        return [(*r[:3], None, None, *r[5:]) if r[3] is PENDING else r for r in records]
    groups: dict = {}  # (dtype, length) -> positions
    for i, record in enumerate(records):
        if record[3] is PENDING:
            key = (record[0], len(record))
            group = groups.get(key)
            if group is None:
                groups[key] = [i]
            else:
                group.append(i)
    for (dtype, _), where in groups.items():
        single = dtype == "float32"
        for start in range(0, len(where), _ROWS_AT_ONCE):
            part = [records[i] for i in where[start:start + _ROWS_AT_ONCE]]
            rows = [record[8:] for record in part]
            try:
                means, stds = _row_means_stds(rows, _RECORD_DTYPES[dtype], single)
            except Exception as exc:  # torch could not: show less (no mean, no std)
                reraise_if_handlers(exc)  # a signal handler's: the snippet's
                means = stds = [None] * len(rows)
            for i, record, mean, std in zip(where[start:], part, means, stds):
                out[i] = (*record[:3], mean, std, *record[5:])
    return out


def settled_values(records: list) -> list:
    """Return the ``tensor_value`` dict of each of ``records`` (``summary_record``'s:
    tuples, dicts, None), every ``PENDING`` mean and std made in one ``settled`` call:
    the numbers ``unpacked`` gives one record at a time, with a torch call per length
    and dtype instead of one per record (a trace's small leaves: docs/speed.md item 61)."""
    waiting = [i for i, record in enumerate(records)
               if type(record) is tuple and record[3] is PENDING]
    out = list(records)
    for i, record in zip(waiting, settled([records[i] for i in waiting])):
        out[i] = record
    return [unpacked(record) if type(record) is tuple else record for record in out]


def _row_means_stds(rows: list, dtype: torch.dtype, single: bool) -> tuple[list, list]:
    """Return ``rows.mean(1)`` of rows of one length as Python floats and each row's
    ``serial_std`` from it (``serial_stds``), read below every Python mode (the rows are
    gradstep's own)."""
    if not watched():
        return _means_stds(rows, dtype, single)
    with unseen(), torch._C._DisableTorchDispatch(), torch.no_grad():
        return _means_stds(rows, dtype, single)


def _means_stds(rows: list, dtype: torch.dtype, single: bool) -> tuple[list, list]:
    # The rows' numbers are Python floats read from tensors of ``dtype`` (``tolist``), so
    # each is exact in double and in ``dtype``: numpy's double block, then torch's cast,
    # holds the very bits ``torch.tensor(rows, dtype=dtype)`` gives (~0.3 against ~0.85 ms
    # for a trace's 288 rows of 64: torch reads a nested list element by element)
    block = torch.from_numpy(numpy.array(rows, dtype=numpy.float64)).to(dtype)
    means = block.mean(1).tolist()
    if dtype in _WIDENED:
        # half precision: ``mean(1)`` sums each row of a float32 copy as ``t.mean()`` sums
        # the tensor's, then rounds to the dtype; its std is torch's Welford in float, no
        # double loop repeats it: each row's own ``std()`` (~4 us a row, only when settled)
        stds = torch.stack([row.std() for row in block.unbind()]).tolist()
        return [json_float(m) for m in means], [json_float(d) for d in stds]
    if len(rows) * (len(rows[0]) + 16) < _NUMPY_FROM:  # a few rows: the loop costs less
        return means, [serial_std(row, mean, single) for row, mean in zip(rows, means)]
    return means, serial_stds(block, means, single)


# rows x (length + 16) from which ``serial_stds`` costs less than ``serial_std`` a row (~10 us
# of numpy's own against ~0.5 us + ~35 ns an element a row: 7 rows of 64, 26 of 4)
_NUMPY_FROM = 512


def serial_stds(block: torch.Tensor, means: list, single: bool) -> list:
    """Return ``serial_std(row, mean, single)`` of each row of ``block`` (a 2-D contiguous
    float32 or float64 CPU tensor of rows of 2 or more elements) with its mean of
    ``means``, made by numpy for all rows at once, a chunk of rows at a time: the same
    IEEE steps in the same order as ``serial_std``'s loop (each number widened to
    double, the mean taken off, squared; ``numpy.cumsum`` adds the squares of a row one
    by one in element order, each partial sum from the last, as the loop does; over
    n - 1, ``sqrt``, rounded to float32 for float32 rows). So each is the row's own
    ``t.std()`` where ``mean`` is its ``t.mean()`` (``std_var_all_cpu`` below its grain:
    rows of at most 32,768 elements; a longer row's torch adds in parts on several threads).
    A row whose squares overflow reads inf, as the loop's and torch's do; numpy's
    warnings about it are not the snippet's and stay unheard."""
    rows, n = block.shape
    step = max(1, _STD_CHUNK // n)
    out: list = []
    with numpy.errstate(all="ignore"):
        every = block.numpy()
        for start in range(0, rows, step):
            part = every[start:start + step].astype(numpy.float64)
            part -= numpy.array(means[start:start + step], dtype=numpy.float64)[:, None]
            numpy.multiply(part, part, out=part)
            std = numpy.sqrt(numpy.cumsum(part, axis=1)[:, -1] / (n - 1))
            out += (std.astype(numpy.float32) if single else std).tolist()
    return out


_STD_CHUNK = 1 << 16  # elements widened to double at a time by ``serial_stds`` (512 KB)


def serial_std(flat, mean: float, single: bool) -> float | None:
    """Return ``t.std()`` of a CPU float tensor of the numbers ``flat`` (2 or more, finite),
    given its ``t.mean()``: as torch's ``std_var_all_cpu`` makes it below its parallel
    grain, the distances to the mean squared and added in double, one by one in element
    order (not Python's ``sum``, which adds floats with compensation from 3.12 on), over
    n - 1, the square root, rounded to float32 for a float32 tensor (``single``)."""
    total = 0.0
    for x in flat:
        d = x - mean
        total += d * d
    std = math.sqrt(total / (len(flat) - 1))
    if single:
        _FLOAT32[0] = std  # rounded as C rounds a double to float (past the range: inf)
        return _FLOAT32[0]
    return std


_FLOAT32 = array("f", [0.0])


def _own_mean_std(t: torch.Tensor, flat: list) -> tuple:
    """Return ``t.mean()`` and ``t.std()`` of a small float tensor of 2 or more elements, all
    finite (``flat``: its numbers), as Python floats: torch's own, read from ``t`` itself
    (a transpose or a step slice is added in its own order; half precision is reduced
    and rounded as torch does it). A contiguous float32 or float64 CPU tensor's std is
    ``serial_std`` (the same bits, one torch call less)."""
    if t.is_cpu and t.dtype in _SMALL_CPU_DTYPES and t.is_contiguous():
        mean = t.mean().item()
        return mean, serial_std(flat, mean, t.dtype is torch.float32)
    mean, std = torch.stack([t.mean(), t.std()]).tolist()
    return json_float(mean), json_float(std)


def _whole_mean_std(t: torch.Tensor, flat: list, stats: dict) -> tuple:
    """Return ``t.double().mean()`` and ``t.double().std()`` of a small int or bool tensor of
    2 or more elements (``flat``: its numbers, ``stats``: their ``_list_stats``). Where the
    magnitudes add up to at most 2**53 every partial sum is a whole number a double holds,
    so any order of adding gives the exact sum: the mean is ``_list_stats``' (that sum over
    n, rounded once, as torch divides it), and a contiguous tensor's std ``serial_std``
    (torch's loop, in element order): no torch call, half the time of asking torch
    (~7 us a value). Otherwise torch's own."""
    if max(-stats["min"], stats["max"]) * len(flat) <= _WHOLE_SUMS and t.is_contiguous():
        return stats["mean"], serial_std(flat, stats["mean"], False)
    return _own_mean_std(t.double(), flat)


_WHOLE_SUMS = float(1 << 53)  # whole numbers up to here are doubles, exactly


def _list_stats(flat: list) -> dict:
    """Return min/max/mean/std and NaN/Inf counts of a flat list of numbers (std with
    n - 1, as torch; in double precision). Min and max are the finite elements'; mean
    and std are None where the sum is not finite (a NaN, an infinity, or a sum past the
    double range): the caller asks torch for its own (``_torch_mean_std``)."""
    if flat and type(flat[0]) is not float:  # integers and booleans
        flat = [float(x) for x in flat]
    n = len(flat)
    total = sum(flat)
    if n and isfinite(total):  # no NaN, no infinity (either makes the sum non-finite)
        mean = total / n
        std = math.sqrt(sum([(x - mean) * (x - mean) for x in flat]) / (n - 1)) if n > 1 else None
        return {"min": min(flat), "max": max(flat), "mean": mean, "std": std, "nan": 0, "inf": 0}
    finite = [x for x in flat if isfinite(x)]
    nan = sum(1 for x in flat if x != x)
    inf = n - len(finite) - nan
    if not finite:
        return _empty_stats(nan=nan, inf=inf)
    return {"min": min(finite), "max": max(finite), "mean": None, "std": None, "nan": nan, "inf": inf}


def _torch_mean_std(t: torch.Tensor, flat: list, nan: int) -> tuple:
    """Return ``t.mean()`` and ``t.std()`` (strict-JSON floats: ``"NaN"``, ``"Infinity"``) of
    a float tensor of 1 or more elements, ``flat`` its numbers, whose sum is not finite
    (``nan`` of them NaN, or an infinity, or a sum past the range): torch's own. One
    element: itself, no std (torch's is nan, as for any one element). A NaN makes both
    NaN in any order of adding, and so does an infinity where ``_sure_infinite_mean`` gives
    its mean (no torch call); otherwise torch adds them, in its order and precision
    (float32 [3e38, 3e38, -inf] is nan there, not -inf)."""
    if len(flat) == 1:
        return json_float(flat[0] + 0.0), None  # (torch's sum starts at 0)
    if nan:
        return "NaN", "NaN"
    sure = _sure_infinite_mean(flat, t.dtype)
    if sure is not None:
        return sure, "NaN"
    t = t.detach()  # no graph node (the snippet's sequence numbers)
    mean, std = torch.stack([t.mean(), t.std()]).tolist()
    return json_float(mean), json_float(std)


_LARGEST = {d: torch.finfo(d).max for d in (torch.float32, torch.float64, torch.float16, torch.bfloat16)}


def _sure_infinite_mean(flat: list, dtype: torch.dtype) -> str | None:
    """Return ``t.mean()`` ("Infinity", "-Infinity" or "NaN") of 2 or more numbers, no NaN,
    holding an infinity, where any order of adding gives it: both infinities (nan), or
    one sign of them and finite elements whose magnitudes add up to at most half the
    dtype's largest number (no partial sum of theirs can pass the range, whatever the
    order and rounding). None where torch's order could decide (an overflow of the
    finite ones). The std of such a tensor is nan. (No torch call: ~12 us a value less,
    the 100,000-node graph of infinities' 1.2 s.)"""
    positive, negative = math.inf in flat, -math.inf in flat
    if positive and negative:
        return "NaN"
    if not (positive or negative):  # a finite sum past the range: torch's order decides
        return None
    if sum(abs(x) for x in flat if isfinite(x)) > _LARGEST.get(dtype, 0.0) / 2:
        return None
    return "Infinity" if positive else "-Infinity"


def _cpu_list(t: torch.Tensor):
    """Return ``t.tolist()`` read on the CPU, half precision widened to float32
    (plain JSON only when every element is finite and real)."""
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    return t.tolist()


def _plain(t: torch.Tensor) -> torch.Tensor:
    """Return ``t`` as a plain tensor (subclasses would re-enter their own torch functions)."""
    if type(t) not in _PLAIN_TYPES and isinstance(t, torch.Tensor):
        return t.as_subclass(torch.Tensor)
    return t


def _stats(t: torch.Tensor) -> dict:
    """Return min/max/mean/std and NaN/Inf counts of ``t`` (None where undefined).

    ``t`` is detached (``tensor_value`` does it), so no graph is built here.
    """
    if t.is_complex():
        t = t.abs()
    if t.numel() == 0:  # torch's t.mean() and t.std(): nan (an int's: torch refuses; min, max: raise)
        empty = _empty_stats(nan=0, inf=0)
        if t.is_floating_point():
            empty["mean"], empty["std"] = _EMPTY_MEAN_STD
        return empty
    if t.numel() > _CHUNK and (t.dtype in _WIDENED or not t.is_floating_point()):
        half = t.dtype in _WIDENED  # (its mean and std are torch's: no pass of squares)
        out = _chunked_stats(t, spread=not half)  # a widened copy of all of it: up to 8x the tensor's bytes
        if half:
            out["mean"], out["std"] = _large_half_mean_std(t, out["nan"])
        return out
    if not t.is_floating_point():
        t = t.double()  # ints and bools: exact enough, and mean/std need floats
    # half precision as it is: its own t.mean() and t.std() (aminmax, exact in any dtype)
    return _float_stats(t)


def _large_half_mean_std(t: torch.Tensor, nan: int) -> tuple:
    """Return torch's own ``t.mean()`` and ``t.std()`` of a float16 or bfloat16 tensor of
    more than ``_CHUNK`` elements (strict JSON), or no mean (None) where only a copy
    could make it: on the CPU ``t.mean()`` of half precision sums a float32 copy of all
    of the tensor (twice its bytes: a 100 MB bfloat16 tensor's peak +190 MB, that the
    snippet's own run never pays unless it asks), in its threads' order, which no sum
    of chunks repeats to the bit. Its ``t.std()`` reads the tensor in place (Welford in
    float, no copy): torch's own always. A NaN makes the mean nan in any order."""
    std = json_float(t.std().item())
    if nan:
        return "NaN", std
    if t.device.type == "cpu":
        return None, std
    return json_float(t.mean().item()), std


def _float_stats(t: torch.Tensor) -> dict:
    """Return ``_stats(t)`` of a non-empty, detached, real floating-point tensor that needs
    no widening: ``t`` as ``_stats`` has it once its checks are done."""
    # The fast path: four reductions and one conversion (tracing runs this per op).
    lo, hi, mean, std = _reduce(t)
    if isfinite(lo) and isfinite(hi) and isfinite(mean) and (std is None or isfinite(std)):
        return {"min": lo, "max": hi, "mean": mean, "std": std, "nan": 0, "inf": 0}
    # A NaN or an infinity somewhere (or a sum past the range): the mean and std stay
    # torch's own (nan, inf: what the snippet's t.mean() prints); min and max are the
    # finite elements' (one NaN does not hide the range), the NaN and Inf counted.
    if t.numel() > _CHUNK:
        out = _chunked_stats(t)  # the finite elements' double copy: 2x a float32 tensor
    else:
        finite = torch.isfinite(t)
        nan = int(torch.isnan(t).sum())
        inf = t.numel() - int(finite.sum()) - nan
        kept = t[finite]
        where = {"nonfinite_at": first_indices(~finite)} if nan or inf else {}
        if kept.numel() == 0:
            out = {**_empty_stats(nan=nan, inf=inf), **where}
        else:
            low, high = torch.aminmax(kept)
            out = {**_stats_dict([low.item(), high.item(), None, None], nan=nan, inf=inf), **where}
    out["mean"], out["std"] = json_float(mean), None if std is None else json_float(std)
    return out


NONFINITE_SHOWN = 8  # positions of NaN/Inf elements a summary names
_CHUNK = 1 << 20


_WIDENED = (torch.float16, torch.bfloat16)


def _chunked_stats(t: torch.Tensor, spread: bool = True) -> dict:
    """Return ``_stats(t)`` of a large tensor read ``_CHUNK`` elements at a time in double
    precision (half precision read in float32, summed in double), so that no widened copy
    of all of it is made: a summary's memory stays a few MB, as under a plain run (a 100 MB bfloat16 tensor's float copy raised the peak by
    200 MB). Two passes: the finite elements' range, count and sum, then the squares of
    their distances to the mean (``t.std()``'s unbiased estimate; not with ``spread``
    False: half precision's mean and std are torch's own, ``_large_half_mean_std``).
    Integers and booleans have no NaN to look for."""
    flat = t.reshape(-1)
    # half precision read as float32 (as ``x.float()`` has it, ~2.5x faster than double);
    # float32 on a device without float64 (MPS)
    mps = t.device.type == "mps"
    widen = torch.Tensor.float if t.dtype in _WIDENED or mps else torch.Tensor.double
    summed = None if mps else torch.float64  # float32 sums of large values overflow
    floating = t.is_floating_point()
    count, total, lo, hi, nan, at = 0, 0.0, None, None, 0, []
    for start in range(0, flat.numel(), _CHUNK):
        chunk = widen(flat[start:start + _CHUNK])
        if not floating:
            finite, kept = None, chunk.numel()
        else:
            finite = torch.isfinite(chunk)
            kept = int(finite.sum())
        if kept < chunk.numel():
            nan += int(torch.isnan(chunk).sum())
            if len(at) < NONFINITE_SHOWN:
                hits = (~finite).nonzero()[: NONFINITE_SHOWN - len(at)]
                at += [start + i for i in hits.reshape(-1).tolist()]
            chunk = chunk[finite]
        if kept:
            low, high = torch.aminmax(chunk)
            lo = low.item() if lo is None else min(lo, low.item())
            hi = high.item() if hi is None else max(hi, high.item())
            count, total = count + kept, total + chunk.sum(dtype=summed).item()
    inf = flat.numel() - count - nan
    where = {"nonfinite_at": [_unravel(i, t.shape) for i in at]} if at else {}
    if count == 0:
        return {**_empty_stats(nan=nan, inf=inf), **where}
    mean = total / count
    if not spread:
        return {**_stats_dict([lo, hi, mean, None], nan=nan, inf=inf), **where}
    squares = _squares(flat, mean, widen, summed, masked=count < flat.numel())
    if not isfinite(squares) and widen is torch.Tensor.float and not mps:
        squares = _squares(flat, mean, torch.Tensor.double, summed, masked=count < flat.numel())
    std = (squares / (count - 1)) ** 0.5 if count > 1 else None
    return {**_stats_dict([lo, hi, mean, std], nan=nan, inf=inf), **where}


def _squares(flat: torch.Tensor, mean: float, widen, summed, *, masked: bool) -> float:
    """Return the sum of the finite elements' squared distances to ``mean``, a chunk at a
    time read by ``widen`` and summed in ``summed`` (``masked``: leave out NaN and
    infinities; where pass one met none, no mask is made). Read in float32, values past ~1e19 overflow: the caller reads
    them again in double."""
    squares = 0.0
    for start in range(0, flat.numel(), _CHUNK):
        chunk = widen(flat[start:start + _CHUNK])
        if masked:
            chunk = chunk[torch.isfinite(chunk)]
        squares += (chunk - mean).square().sum(dtype=summed).item()
    return squares


def first_indices(mask: torch.Tensor, limit: int = NONFINITE_SHOWN) -> list[list[int]]:
    """Return the indices (row-major order) of the first ``limit`` True elements of ``mask``,
    each as a list like ``[row, column]``; read a chunk at a time, so a huge mask never
    turns into a huge index tensor."""
    flat, found = mask.reshape(-1), []
    for start in range(0, flat.numel(), _CHUNK):
        hits = flat[start:start + _CHUNK].nonzero()[: limit - len(found)]
        found += [start + i for i in hits.reshape(-1).tolist()]
        if len(found) >= limit:
            break
    return [_unravel(i, mask.shape) for i in found]


def _unravel(flat_index: int, shape) -> list[int]:
    index = []
    for size in reversed(shape):
        flat_index, rest = divmod(flat_index, size)
        index.append(rest)
    return index[::-1]


def _reduce(t: torch.Tensor) -> list[float]:
    """Return ``[min, max, mean, std]`` of a non-empty float tensor (std None for one
    element: undefined, ``t.std()`` is nan there and warns).

    The mean and std are ``t.mean()`` and ``t.std()``: exactly what the snippet's own
    ``x.mean()`` and ``x.std()`` print. (``torch.std_mean`` is a different kernel: its
    mean is accumulated in double and differs from ``t.mean()`` in the last bit for
    about half of float32 tensors, and on the CPU it is several times slower on long
    tensors: ~5x at 30,000 elements, about even at 1,000.)
    """
    lo, hi = torch.aminmax(t)
    if t.numel() == 1:
        return [lo.item(), hi.item(), t.item() + 0.0, None]  # t.mean(): 0 + it (-0.0 reads 0.0)
    return torch.stack([lo, hi, t.mean(), t.std()]).tolist()


def _stats_dict(stats: list[float], *, nan: int, inf: int) -> dict:
    lo, hi, mean, std = (None if x is None else json_float(x) for x in stats)
    return {"min": lo, "max": hi, "mean": mean, "std": std, "nan": nan, "inf": inf}


# torch's t.mean() and t.std() of a float tensor of no element (std warns that it has no
# degree of freedom: not asked, so no warning the snippet did not cause)
_EMPTY_MEAN_STD = ("NaN", "NaN")


def _empty_stats(*, nan: int, inf: int) -> dict:
    return {"min": None, "max": None, "mean": None, "std": None, "nan": nan, "inf": inf}
