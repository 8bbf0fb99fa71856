"""Many rows' std at once (``row_stds.serial_row_stds``) gives each row's own ``row.std()``
to the bit; the recorded pass's ``row_stats`` and ``plain_values`` show each tensor's own
``t.mean()`` and ``t.std()`` over lengths around torch's grain and vector widths."""

import math
import random
import struct
from fractions import Fraction

import numpy
import pytest
import torch

from gradstep.autograd import grad_values, row_stds
from gradstep.autograd.grad_values import plain_values, row_stats
from gradstep.autograd.row_stds import BATCHED_LENGTH, BATCHED_ROWS, serial_row_stds
from gradstep.autograd.values import compact

_LENGTHS = sorted({2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129,
                   255, 256, 257, 511, 1000, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 4095,
                   BATCHED_LENGTH})


def _bits(x: float, dtype) -> int:
    """The bits of a float as the dtype holds it (``tolist`` widened a float32 exactly)."""
    if dtype == torch.float32:
        return struct.unpack("<I", struct.pack("<f", x))[0]
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _same(got: float, want: float, dtype) -> bool:
    """Equal bits where torch's is finite; the same kind of non-finite otherwise."""
    if math.isnan(want):
        return math.isnan(got)
    return _bits(got, dtype) == _bits(want, dtype)


def _rows(kind: str, count: int, n: int, dtype, rng: torch.Generator) -> torch.Tensor:
    base = torch.randn(count, n, generator=rng, dtype=torch.float64)
    if kind == "offset":  # a large mean, small spread: cancellation in the subtraction
        base = 1e4 + base * 1e-3
    elif kind == "tiny":
        base = base * 1e-30
    elif kind == "huge":  # float32: squares past float32's range, inside double's
        base = base * (1e30 if dtype == torch.float32 else 1e150)
    elif kind == "overflow":  # float64: squares past double's range: inf, as torch's
        base = base * 1e200
    elif kind == "repeated":  # few distinct values, constant rows among them
        base = torch.randint(0, 3, (count, n), generator=rng).to(torch.float64) * 0.1
        base[0] = 0.7
    elif kind == "subnormal" and dtype == torch.float32:
        base = base * 1e-41
    elif kind == "subnormal":
        base = base * 1e-310
    rows = base.to(dtype)
    if kind == "nonfinite":
        rows[0, n // 2] = float("nan")
        rows[1, 0] = float("inf")
        rows[2, n - 1] = float("-inf")
        rows[3, 0], rows[3, n - 1] = float("inf"), float("-inf")
    return rows.contiguous()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_serial_row_stds_are_each_rows_own_std_to_the_bit(dtype):
    rng = torch.Generator().manual_seed(14)
    kinds = ["normal", "offset", "tiny", "huge", "repeated", "subnormal", "nonfinite"]
    if dtype == torch.float64:
        kinds.append("overflow")
    checked = 0
    for n in _LENGTHS + [random.Random(n).randint(2, BATCHED_LENGTH) for n in range(8)]:
        for kind in kinds:
            count = BATCHED_ROWS + (n % 7)
            rows = _rows(kind, count, n, dtype, rng)
            got = serial_row_stds(rows, rows.mean(1))
            assert got is not None and got.dtype == dtype
            want = [row.std().item() for row in rows.unbind()]
            for row, g, w in zip(rows, got.tolist(), want):
                assert _same(g, w, dtype), (n, kind, g, w, row[:4])
                checked += 1
    assert checked > 2000


@pytest.mark.parametrize("rows", [
    torch.randn(BATCHED_ROWS - 1, 100),  # too few rows: the per-row calls cost less
    torch.randn(8, BATCHED_LENGTH + 1),  # too long: numpy's passes cost more
    torch.randn(8, 1),  # one element: torch's own nan, asked of torch
    torch.randn(8, 100).half(), torch.randn(8, 100).bfloat16(),  # another std kernel
    torch.randn(100, 8).t(),  # not contiguous
])
def test_serial_row_stds_leaves_other_blocks_to_torch(rows):
    assert serial_row_stds(rows, rows.float().mean(1).to(rows.dtype)) is None


@pytest.mark.parametrize("n", [2, 65, 96, 2048, BATCHED_LENGTH, BATCHED_LENGTH + 1, 8191,
                               32767, 32768, 100_000])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_row_stats_gives_each_rows_own_numbers(n, dtype):
    """Either path: the batch where it applies, each row's ``std()`` past it (at and past
    torch's grain too, where no batch would be its own)."""
    count = 5 if n < 32768 else 2
    rows = torch.randn(count, n, generator=torch.Generator().manual_seed(n), dtype=dtype)
    rows[-1] = rows[-1] * 1e3 + 7.0
    for row, (low, high, avg, spread) in zip(rows, row_stats(rows)):
        assert _same(spread, row.std().item(), dtype)
        assert low == row.amin().item() and high == row.amax().item()
        if n < 32768:  # below the grain, rows.mean(1) is each row's own mean
            assert _same(avg, row.mean().item(), dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_plain_values_show_each_gradients_own_mean_and_std(dtype):
    """Groups of many large tensors of one shape (the batch's case) beside the ones that
    are not batched (half precision, past the batch's length or torch's grain, a NaN).
    Half precision is summarised alone, widened (docs/limits.md): ``compact``'s own."""
    rng = torch.Generator().manual_seed(7)
    tensors = []
    for n in (65, 96, 1024, 2048, 4096, 4097, 6144, 40_000):
        for k in range(BATCHED_ROWS + 2):
            tensors.append((torch.randn(n, generator=rng, dtype=torch.float64) * (k + 1) + k)
                           .to(dtype))
    tensors.append(torch.randn(32, 64, generator=rng).t().contiguous().t().to(dtype))
    nan_row = torch.randn(2048, generator=rng).to(dtype)
    nan_row[5] = float("nan")
    tensors.append(nan_row)
    got = plain_values(tensors)
    if dtype in (torch.float16, torch.bfloat16):
        assert got == [compact(t) for t in tensors]
        return
    for value, t in zip(got, tensors):
        if math.isnan(t.sum().item()):
            assert value == compact(t) and value["nan"] == 1
            continue
        assert value["mean"] == t.mean().item() and value["std"] == t.std().item()
        assert value["min"] == t.min().item() and value["max"] == t.max().item()
        assert value["shape"] == list(t.shape)


def test_numpy_set_to_raise_meets_nothing(monkeypatch):
    """A snippet's ``numpy.seterr(all="raise")`` is not asked about gradstep's own overflow."""
    rows = torch.full((BATCHED_ROWS, 64), 1e200, dtype=torch.float64)
    rows[:, 0] = -1e200
    old = numpy.seterr(all="raise")
    try:
        got = serial_row_stds(rows, rows.mean(1))
    finally:
        numpy.seterr(**old)
    assert got.tolist() == [row.std().item() for row in rows]


def test_the_recorded_pass_batches_its_rows(monkeypatch):
    """``row_stats`` asks no row's ``std()`` where the batch applies (the same numbers)."""
    calls = []
    real = grad_values.serial_row_stds
    monkeypatch.setattr(grad_values, "serial_row_stds",
                        lambda rows, means: calls.append(rows.shape) or real(rows, means))
    tensors = [torch.randn(2048) for _ in range(6)]
    got = plain_values(tensors)
    assert calls == [torch.Size([6, 2048])]
    assert [v["std"] for v in got] == [t.std().item() for t in tensors]


def _past_float32(kind: str) -> torch.Tensor:
    """Float32 rows whose std (in double) rounds to inf, or to a subnormal or zero."""
    if kind == "overflow":  # +-3.3e38 in turns: 3.3e38 * sqrt(10 / 9) is past float32's max
        signs = torch.tensor([1.0, -1.0]).repeat(BATCHED_ROWS, 5)
        return (signs * 3.3e38 * torch.linspace(0.99, 1.0, BATCHED_ROWS)[:, None]).float()
    return (torch.randn(BATCHED_ROWS, 300, generator=torch.Generator().manual_seed(3),
                        dtype=torch.float64) * 1e-42).float()


@pytest.mark.parametrize("setting", ["raise", "warn"])
@pytest.mark.parametrize("kind", ["overflow", "underflow"])
def test_rounding_to_float32_meets_no_numpy_setting(setting, kind):
    """Rounding a std to float32 can overflow (to inf) or underflow, as torch's own cast
    does silently: numpy is not asked about it either, whatever the snippet set (``warn``
    is an error here: pytest's ``filterwarnings``), and its setting is as it was."""
    rows = _past_float32(kind)
    want = [row.std().item() for row in rows]
    assert all(w == math.inf for w in want) if kind == "overflow" else 0 < max(want) < 1e-38
    old = numpy.seterr(all=setting)
    try:
        got = serial_row_stds(rows, rows.mean(1))
        assert numpy.geterr() == {key: setting for key in old}
    finally:
        numpy.seterr(**old)
    assert got.tolist() == want


def _serial_std(row: list, mean: float, fused: bool) -> float:
    """torch's loop in Python: each square rounded then added, or fused into its add (one
    rounding, as an FMA: exact in fractions, then rounded once)."""
    total = 0.0
    for x in row:
        dx = x - mean
        total = float(Fraction(dx) * Fraction(dx) + Fraction(total)) if fused else total + dx * dx
    return math.sqrt(total / (len(row) - 1))


def test_the_probe_tells_a_fused_or_reordered_sum_from_the_replay():
    """``torch_adds_so``'s block: the replay is the Python loop's serial sum to the bit, and
    a sum with fused squares (a torch built for ARM may fuse) or in another order
    (``rows.std(1)``: Welford's) differs from it on some row: such a torch is told."""
    probe = row_stds.probe_rows()
    replay = row_stds._replay(probe, probe.mean(1)).tolist()
    means = probe.mean(1).tolist()
    rows = probe.tolist()
    assert replay == [_serial_std(r, m, fused=False) for r, m in zip(rows, means)]
    assert replay != [_serial_std(r, m, fused=True) for r, m in zip(rows, means)]
    assert replay != probe.std(1).tolist()
    assert row_stds.torch_adds_so()  # this torch (the fuzz of docs/speed.md item 66)


def test_a_torch_that_adds_otherwise_has_every_block_left_to_it(monkeypatch):
    monkeypatch.setattr(row_stds, "_TORCH_ADDS_SO", [False])
    rows = torch.randn(8, 2048)
    assert serial_row_stds(rows, rows.mean(1)) is None
    assert [spread for *_, spread in row_stats(rows)] == [row.std().item() for row in rows]
