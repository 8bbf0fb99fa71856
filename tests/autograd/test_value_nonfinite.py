"""A value's mean and std where torch's are not finite: torch's own, NaN or inf.

A tensor holding a NaN or an infinity, or whose sum is past the float range, has
``t.mean()`` nan or inf; its summary shows that (min and max stay the finite
elements'), and never raises (a float64 sum past the range once made none at all).
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from gradstep.autograd import values
from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.values import settled, summary, summary_record, tensor_value, unpacked

HUGE = {torch.float64: 1.3e308, torch.float32: 3.0e38, torch.float16: 6.0e4, torch.bfloat16: 3.0e38}
TINY = {torch.float64: 5e-324, torch.float32: 1e-45, torch.float16: 6e-8, torch.bfloat16: 1e-40}


def same(shown, number) -> bool:
    """Return True when a summary's ``shown`` number (a float or strict JSON's "NaN",
    "Infinity") is torch's ``number``, NaN matching NaN."""
    if shown is None:
        return False
    shown = float(shown)
    return shown == number or (shown != shown and number != number)


def torch_mean_std(t):
    return t.mean().item(), (t.std().item() if t.numel() > 1 else None)


def random_tensor(rng: random.Random, dtype, n: int) -> torch.Tensor:
    pool = [lambda: rng.gauss(0, 3), lambda: HUGE[dtype] * rng.choice((1, -1, 0.9)),
            lambda: TINY[dtype] * rng.randint(-3, 3), lambda: math.inf, lambda: -math.inf,
            lambda: math.nan, lambda: 0.0]
    weights = rng.choice([(20, 1, 1, 1, 1, 1, 1), (1, 5, 1, 0, 0, 0, 1), (5, 2, 2, 1, 1, 1, 1)])
    return torch.tensor([rng.choices(pool, weights)[0]() for _ in range(n)], dtype=dtype)


def test_a_float64_sum_past_the_range_shows_torch_inf_not_nothing():
    t = torch.tensor([1.2e308, 1.3e308], dtype=torch.float64)
    for value in (summary(t), tensor_value(t), unpacked(summary_record(t)),
                  tensor_value(t.reshape(1, 2))):
        assert value is not None
        assert same(value["mean"], t.mean().item()) and same(value["std"], t.std().item())
        assert value["min"] == 1.2e308 and value["max"] == 1.3e308 and value["data"]
        assert value["nan"] == 0 and value["inf"] == 0
    with_nan = torch.tensor([1.2e308, math.nan, 1.3e308], dtype=torch.float64)
    value = summary(with_nan)
    assert value["mean"] == "NaN" and value["std"] == "NaN" and value["max"] == 1.3e308


def test_a_nan_or_inf_makes_the_mean_torch_own_not_the_finite_elements():
    for t in (torch.tensor([1.0, math.nan, 3.0]), torch.tensor([1.0, math.inf, 3.0]),
              torch.tensor([[1.0, -math.inf], [2.0, 3.0]]), torch.tensor([math.inf, -math.inf]),
              torch.tensor([1.0, math.nan], dtype=torch.float16), torch.full((3,), math.nan),
              torch.tensor([3e38, 3e38, -math.inf]), torch.tensor([math.nan])):
        mean, std = torch_mean_std(t)
        for value in (tensor_value(t), unpacked(summary_record(t))):
            assert same(value["mean"], mean), (t, value)
            assert value["std"] is None if std is None else same(value["std"], std), (t, value)
    value = tensor_value(torch.tensor([1.0, math.nan, 3.0]))
    assert (value["min"], value["max"], value["nan"]) == (1.0, 3.0, 1)  # the range: finite ones


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_fuzz_small_and_large_values_mean_and_std_are_torch_own(dtype, monkeypatch):
    monkeypatch.setattr(values, "_CHUNK", 256)  # the chunked path too, on 300 elements
    rng = random.Random(f"nonfinite-{dtype}")
    half = dtype in (torch.float16, torch.bfloat16)
    compared = 0
    for n in [*range(1, 65), 65, 100, 300]:
        for _ in range(3):
            base = random_tensor(rng, dtype, 2 * n)
            for t in (base[:n], base[::2], base.reshape(2, n).t()):
                finite = bool(torch.isfinite(t).all())
                mean, std = torch_mean_std(t)
                if finite and math.isfinite(mean) and (std is None or math.isfinite(std)):
                    continue  # torch's own already (test_values.py, test_value_records.py)
                record = summary_record(t)
                if type(record) is tuple:  # what a trace keeps: its rows settled together
                    record = settled([record])[0]
                shown = [tensor_value(t), unpacked(record)]
                for value in shown:
                    if half and t.numel() > values._CHUNK and not t.isnan().any():
                        # on the CPU only a float32 copy of all of it makes its own mean: none
                        assert value["mean"] is None, (t, value)
                    else:
                        assert same(value["mean"], mean), (t, value, mean)
                    assert value["std"] is None if std is None else same(value["std"], std), (t, value, std)
                    compared += 1
    assert compared > 300


def test_a_large_gradient_with_a_nan_shows_torch_mean_in_a_recorded_pass():
    g = torch.randn(100)
    g[7] = math.nan
    h = torch.randn(100)
    h[3] = math.inf
    big = torch.full((80,), 3e38)  # finite, but its float32 sum is past the range
    summaries = plain_values([g, h, big])
    for value, t in zip(summaries, (g, h, big)):
        assert same(value["mean"], t.mean().item()) and same(value["std"], t.std().item()), value
    assert summaries[0]["min"] == g[torch.isfinite(g)].min().item() and summaries[0]["nan"] == 1
    assert summaries[2]["mean"] == "Infinity" and summaries[2]["min"] == big[0].item()


class _Reductions(torch.overrides.TorchFunctionMode):
    """Counts the ``mean`` and ``std`` calls made under it."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("mean", "std"):
            self.calls += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_infinity_whose_mean_any_order_gives_asks_torch_nothing(dtype):
    # A chain of 100,000 ops holding an infinity asked torch for every value's mean and std
    # (~12 us each: 1.2 s): where no partial sum of the finite elements can pass the range,
    # the mean is the infinity (both signs: nan) and the std nan in any order of adding.
    sure = [[math.inf, 1.0, 2.0], [-math.inf, -3.0, 5.0, 0.0], [math.inf, -math.inf, 1.0],
            [math.inf, math.inf], [math.inf, HUGE[dtype] / 4, HUGE[dtype] / 4]]
    for numbers in sure:
        t = torch.tensor(numbers, dtype=dtype)
        with _Reductions() as counted:
            value = tensor_value(t)
        assert counted.calls == 0, numbers
        assert same(value["mean"], t.mean().item()) and same(value["std"], t.std().item()), value
    # finite elements past the range in some order: torch's order decides (float32: nan)
    t = torch.tensor([HUGE[dtype], HUGE[dtype], -math.inf], dtype=dtype)
    with _Reductions() as counted:
        value = tensor_value(t)
    assert counted.calls > 0
    assert same(value["mean"], t.mean().item()) and same(value["std"], t.std().item()), value
