"""Many rows' ``std()`` at once, to the bits of each row's own ``row.std()``.

On the CPU, a float32 or float64 tensor's ``t.std()`` of fewer than 32,768 elements
(torch's parallel grain) is ``std_var_all_cpu``: the tensor's ``t.mean()`` widened to
double, then each element widened to double, the mean taken off, squared, and added to
a double sum one by one in memory order (one serial pass, from 0.0), the sum divided by
n - 1, ``sqrt``, rounded to float32 for a float32 tensor. No row-wise call of torch's
repeats that order (``rows.std(1)`` is Welford's, item 38 of docs/speed.md), and a
Python call a row costs ~5.5 us of dispatch around ~1.2 ns an element.

``serial_row_stds`` takes the same IEEE steps for many rows at once: the rows
transposed (torch's blocked transpose copy), so that element j of every row lies side
by side; numpy widens, subtracts each row's mean and squares in place; and
``numpy.add.reduce`` over axis 0 adds the squares of each column (each row) one row of
the transposed block at a time, in element order (numpy's pairwise summation is only
along a contiguous reduced axis; here the reduced axis is the outer one): the serial
sum, done for all rows side by side. Each number is the one torch's loop makes,
where the mean given is the row's own ``t.mean()`` (``grad_values`` hands in
``rows.mean(1)``, which is that below the grain). That is torch's source and this
build's behaviour (x86-64, torch 2.13), not a promise of torch's: a build may fuse each
square into its add (C++ allows the contraction; a CPU with FMA in its base set, as ARM's,
makes it likely), or a release of torch may add otherwise, or one of numpy reduce the
outer axis in another order (its docs promise no order). So ``torch_adds_so`` asks the
running torch and numpy once, on a fixed block, and where they differ every block is
left to torch.

It is faster only where the per-row dispatch outweighs numpy's passes over the
elements: rows of at most ``BATCHED_LENGTH`` elements and at least ``BATCHED_ROWS`` of
them (measured alone, one torch thread: 144 float32 rows of 2,048, ~3.3 against ~7.5 us
a row; 48 of 4,096, ~7.7 against ~9.2; 170 of 6,144, ~17 against ~11.5, and on a
recorded pass's rows 1.6x the per-row calls: slower, so left to torch). Any
other block, and any dtype but float32 and float64, returns None and the caller asks
each row's ``std()``.
"""

from __future__ import annotations

import numpy
import torch

BATCHED_LENGTH = 4096  # longest row reduced here (numpy's passes cost more past it)
BATCHED_ROWS = 4  # fewest rows (below it the per-row calls cost less than the batch's)
_SERIAL_GRAIN = 32768  # at::internal::GRAIN_SIZE: from it a tensor's std() adds in parts


def serial_row_stds(rows: torch.Tensor, means: torch.Tensor):
    """Return each row's own ``std()`` (a 1-D tensor of the rows' dtype) of a contiguous
    2-D float32 or float64 CPU tensor ``rows``, given ``means``, each row's own
    ``mean()`` (the same dtype); or None where this block is not one to batch (too few
    rows, too long, another dtype or device, fewer than 2 elements a row, a torch whose
    std() is not the serial sum replayed here: ``torch_adds_so``), for the
    caller to ask each row's ``std()``. A row holding NaN or an infinity reads NaN or
    an infinity, as torch's; its bits are not promised (callers summarise such a row
    alone anyway). numpy's warnings (an overflow, a float32 std rounded to inf or
    below its range) are not the snippet's: unheard, whatever ``numpy.seterr`` says."""
    count, n = rows.shape
    if (count < BATCHED_ROWS or not 2 <= n <= BATCHED_LENGTH or n >= _SERIAL_GRAIN
            or rows.dtype not in _DTYPES or not rows.is_cpu or not rows.is_contiguous()
            or type(rows) is not torch.Tensor or not torch_adds_so()):
        return None
    return _replay(rows, means)


def _replay(rows: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """The stds of ``serial_row_stds``, its checks done."""
    n = rows.shape[1]
    columns = rows.t().contiguous().numpy()  # (n, count): element j of every row side by side
    with numpy.errstate(all="ignore"):
        squares = numpy.subtract(columns, means.numpy().astype(numpy.float64))  # in double
        numpy.multiply(squares, squares, out=squares)
        # Each column added row after row, in element order, from its first square (torch
        # adds that to 0.0, which gives it back: a square is never -0.0).
        std = numpy.sqrt(numpy.add.reduce(squares, axis=0) / (n - 1))
        if rows.dtype == torch.float32:  # may overflow to inf or underflow, as torch's cast
            std = std.astype(numpy.float32)
    return torch.from_numpy(std)


def torch_adds_so() -> bool:
    """Whether this torch's own ``t.std()`` is the replay's serial double sum, asked once
    of a fixed block (float64 rows of 515 elements, each row's own ``std()`` against the
    replay, to the bit). A torch built to fuse each square into its add (one rounding
    instead of two: compilers for ARM may, as clang's default contraction does) or one
    that adds in another order differs on it, and then every block is left to torch."""
    if not _TORCH_ADDS_SO:
        probe = probe_rows()
        want = torch.stack([row.std() for row in probe.unbind()])
        _TORCH_ADDS_SO.append(torch.equal(_replay(probe, probe.mean(1)), want))
    return _TORCH_ADDS_SO[0]


def probe_rows() -> torch.Tensor:
    """``torch_adds_so``'s block (its own generator: the snippet's random state untouched)."""
    return torch.randn(BATCHED_ROWS, 515, generator=torch.Generator().manual_seed(65),
                       dtype=torch.float64, device="cpu") * 1e3 + 1e3


_DTYPES = (torch.float32, torch.float64)
_TORCH_ADDS_SO: list = []  # [bool], once torch_adds_so has asked
