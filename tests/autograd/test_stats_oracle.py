"""Every number a value summary shows is torch's own, to the bit, in every path.

Property-style: many dtypes (float16, bfloat16, float32, float64, complex64, int64,
bool), shapes (0, 1, 2, 31, 64, 65, 300, 32,769 elements, 2-D, 4-D, channels_last,
transposed, step slices, expanded, negative views, empty 2-D) and contents (normal,
huge, subnormal, +inf, -inf, NaN, mixed) through each way gradstep summarises a tensor:
``tensor_value``, ``summary``, ``compact``, a trace's records settled in bulk, a recorded
pass's gradients (``grad_values.plain_values``) and the trace's batched rows
(``value_rows.summaries``). The oracle is torch's own call on the same tensor:
``t.mean()``, ``t.std()`` (None for one element, where torch's is nan and gradstep shows
none), ``t.min()`` and ``t.max()`` (the sign of a zero too) of an all-finite tensor, the
finite elements' range otherwise (as documented: one NaN does not hide it), NaN and inf
counts; complex by magnitude (``t.abs()``); ints and bools, which torch has no
``t.mean()`` of, ``t.double()``'s.
"""

from __future__ import annotations

import json
import math
import random
import warnings

import pytest
import torch

from gradstep.autograd import values
from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.value_rows import summaries
from gradstep.autograd.values import (
    compact,
    settled_values,
    summary,
    summary_record,
    tensor_data,
    tensor_value,
)
from gradstep.policies.strict_json import plain

FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
HALF = (torch.float16, torch.bfloat16)
NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def number(x):
    return NONFINITE.get(x, x) if isinstance(x, str) else x


def same_bits(shown, want) -> bool:
    """``shown`` (a summary's number) is ``want`` (torch's): NaN as NaN, zeros by sign."""
    if shown is None or want is None:
        return shown is want
    shown = float(number(shown))
    if shown != shown or want != want:
        return shown != shown and want != want
    return shown == want and math.copysign(1.0, shown) == math.copysign(1.0, want)


def std_of(t: torch.Tensor) -> torch.Tensor:
    """``t.std()``, without its warning for no element (nan: no degree of freedom)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return t.std()


def torch_summary(t: torch.Tensor, chunk: int) -> dict:
    """What torch itself says of ``t`` (see the module docstring)."""
    s = t.abs() if t.is_complex() else t
    n = s.numel()
    if s.is_floating_point():
        mean = s.mean().item()
        std = None if n == 1 else std_of(s).item()  # (of no element: nan)
        nan, inf = int(s.isnan().sum()), int(s.isinf().sum())
        if s.dtype in HALF and s.is_cpu and n > chunk and not nan:
            mean = None  # documented: only a float32 copy of all of it makes it
    else:
        wide = s.double()
        mean = wide.mean().item() if n else None
        std = wide.std().item() if n > 1 else None
        nan = inf = 0
    low = high = None
    if s.is_floating_point() and n and not nan and not inf:
        low, high = s.min().item(), s.max().item()  # torch's own, to the sign of a zero
    elif n:
        finite = s[s.isfinite()] if s.is_floating_point() else s.double()
        if finite.numel():
            low, high = finite.min().item(), finite.max().item()
    return {"mean": mean, "std": std, "min": None if low is None else float(low),
            "max": None if high is None else float(high), "nan": nan, "inf": inf}


def differences(where: str, t: torch.Tensor, shown, chunk: int) -> list:
    if not isinstance(shown, dict):  # a small tensor's data: its own numbers
        return [] if shown == tensor_data(t) else [(where, t.dtype, tuple(t.shape), "data")]
    want = torch_summary(t, chunk)
    json.dumps(plain(shown), allow_nan=False)  # strict JSON once written
    keys = ("mean", "std", "min", "max")
    if not (t.is_floating_point() or t.is_complex()) and t.numel() > chunk:
        # ints and bools past the chunk: in double a chunk at a time (torch has no mean of
        # theirs, and t.double() would copy all of it): to the last bits only
        keys = ("min", "max")
        out = [(where, t.dtype, tuple(t.shape), key, shown.get(key), want[key])
               for key in ("mean", "std") if shown.get(key) != pytest.approx(want[key], rel=1e-12)]
    else:
        out = []
    out += [(where, t.dtype, tuple(t.shape), key, shown.get(key), want[key])
            for key in keys if not same_bits(shown.get(key), want[key])]
    out += [(where, t.dtype, tuple(t.shape), key, shown.get(key), want[key])
            for key in ("nan", "inf") if shown.get(key) != want[key]]
    if "nonfinite_at" in shown:  # the first 8 NaN or infinite elements, row-major
        s = t.abs() if t.is_complex() else t
        at = (~s.isfinite()).nonzero()[: values.NONFINITE_SHOWN].tolist()
        if shown["nonfinite_at"] != at:
            out.append((where, t.dtype, tuple(t.shape), "nonfinite_at", shown["nonfinite_at"], at))
    return out


def _numbers(rng: random.Random, kind: str, n: int, dtype) -> list:
    info = torch.finfo(dtype if dtype.is_floating_point else torch.float32)
    if kind == "normal":
        return [rng.gauss(0, 3) for _ in range(n)]
    if kind == "huge":  # float32 and half sums past the range; both signs
        return [info.max * rng.choice((0.9, 1.0, -0.9, 0.5)) for _ in range(n)]
    if kind == "hugepos":
        return [info.max * rng.choice((0.9, 0.6, 0.5)) for _ in range(n)]
    if kind == "tiny":  # subnormal, ±0
        return [info.tiny * rng.choice((0.5, 0.25, -0.5, 1.0, 0.0, -0.0)) for _ in range(n)]
    pool = {"inf": [math.inf], "-inf": [-math.inf], "nan": [math.nan],
            "mixed": [math.inf, -math.inf, math.nan, 0.0, -0.0, 1.0]}[kind]
    out = [rng.gauss(0, 3) for _ in range(n)]
    for _ in range(max(1, n // 10)):
        if n:
            out[rng.randrange(n)] = rng.choice(pool)
    return out


SIZES = {"0": (0,), "1": (1,), "2": (2,), "31": (31,), "64": (64,), "65": (65,),
         "300": (300,), "grain": (32769,), "2d": (7, 13), "2d0": (3, 0), "4d": (2, 3, 4, 5),
         "chunked": (1100,)}
VIEWS = ("transposed", "transposed small", "step", "expanded", "channels_last", "negative")


def make(rng: random.Random, dtype, shape_kind: str, kind: str) -> torch.Tensor:
    shape = SIZES.get(shape_kind) or {"transposed": (9, 11), "transposed small": (3, 5),
                                      "channels_last": (120,)}.get(shape_kind, (40,))
    n = math.prod(shape)
    if dtype in (torch.int64, torch.bool):
        base = torch.tensor([rng.randint(-5, 5) for _ in range(n)]).to(dtype)
    elif dtype.is_complex:
        real = torch.tensor(_numbers(rng, kind, n, torch.float32))
        base = torch.complex(real, torch.tensor(_numbers(rng, "normal", n, torch.float32)))
    else:
        base = torch.tensor(_numbers(rng, kind, n, dtype), dtype=dtype)
    base = base.reshape(shape)
    if shape_kind == "transposed":  # 90 x 11 transposed: a batched row
        return base.repeat(10, 1).t()
    if shape_kind == "transposed small":
        return base.t()
    if shape_kind == "step":
        return base.repeat(3)[::2]
    if shape_kind == "expanded":  # stride 0
        return base[:1].expand(200)
    if shape_kind == "channels_last":
        return base.reshape(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    if shape_kind == "negative" and dtype != torch.bool:
        return base.repeat(3)._neg_view()
    return base


def all_tensors(seed: int) -> list:
    rng = random.Random(seed)
    kinds = ("normal", "huge", "hugepos", "tiny", "inf", "-inf", "nan", "mixed")
    out = []
    for dtype in (*FLOATS, torch.complex64, torch.int64, torch.bool):
        for shape_kind in (*SIZES, *VIEWS):
            for kind in kinds if dtype.is_floating_point or dtype.is_complex else ("normal",):
                if dtype.is_complex and kind in ("huge", "hugepos", "tiny"):
                    continue
                out.append(make(rng, dtype, shape_kind, kind))
    return out


CHUNK = 1024  # values._CHUNK in these tests: the 1,100-element tensors take the chunked path


@pytest.mark.parametrize("seed", [0, 1])
def test_every_summary_path_shows_torchs_own_numbers(seed, monkeypatch):
    monkeypatch.setattr(values, "_CHUNK", CHUNK)
    tensors = all_tensors(seed)
    bad = []
    for t in tensors:
        bad += differences("tensor_value", t, tensor_value(t), CHUNK)
        bad += differences("summary", t, summary(t), CHUNK)
        bad += differences("compact", t, compact(t), CHUNK)
    records = settled_values([summary_record(t) for t in tensors])
    batched = {"record": records, "plain_values": plain_values(tensors),
               "summaries": summaries(tensors, summary),
               "summaries of records": settled_values(summaries(tensors, summary_record))}
    for where, shown in batched.items():
        for t, value in zip(tensors, shown):
            bad += differences(where, t, value, CHUNK)
    assert len(tensors) > 700
    assert not bad, bad[:10]


def test_half_precision_is_its_own_mean_and_std_not_its_values_widened():
    """A bfloat16 tensor whose float32 sum passes the range: ``t.mean()`` is inf (a finite,
    widened mean was shown); a float16 tensor's std past 65504: inf; others in the
    dtype's bits (``t.std()`` 0.8828 where the widened 0.88112 was shown)."""
    cases = [torch.full((3,), 3e38, dtype=torch.bfloat16),
             torch.full((100,), 3e38, dtype=torch.bfloat16),
             torch.tensor([6e4, -6e4], dtype=torch.float16),
             torch.tensor([0.3, 1.55], dtype=torch.bfloat16),
             torch.linspace(-2, 7, 5000, dtype=torch.float16).reshape(50, 100).t()]
    for t in cases:
        mean, std = t.mean().item(), t.std().item()
        for shown in (tensor_value(t), summary(t), plain_values([t])[0],
                      settled_values([summary_record(t)])[0]):
            if not isinstance(shown, dict):
                continue  # data: its own numbers (the test above)
            assert same_bits(shown["mean"], mean) and same_bits(shown["std"], std), (t, shown)
    assert tensor_value(cases[0])["mean"] == "Infinity"
    assert tensor_value(cases[2])["std"] == "Infinity"


def test_a_large_cpu_half_tensor_shows_torchs_std_and_no_mean_it_would_copy_for(monkeypatch):
    monkeypatch.setattr(values, "_CHUNK", 1000)
    t = torch.linspace(-3, 5, 5000, dtype=torch.bfloat16)
    shown = tensor_value(t)
    assert shown["mean"] is None and shown["std"] == t.std().item()
    assert (shown["min"], shown["max"]) == (t.min().item(), t.max().item())
    t[7] = math.nan
    shown = tensor_value(t)
    assert shown["mean"] == "NaN" and shown["std"] == "NaN" and shown["nan"] == 1


@pytest.mark.parametrize("t", [torch.empty(0), torch.empty(2, 0, dtype=torch.float64),
                               torch.empty(0, dtype=torch.bfloat16),
                               torch.empty(0, dtype=torch.complex64)])
def test_an_empty_float_tensor_shows_torchs_nan_mean_and_std_and_no_range(t):
    real = t.abs() if t.is_complex() else t
    assert real.mean().isnan() and std_of(real).isnan()
    with pytest.raises(RuntimeError):
        real.min()  # torch refuses: no min or max shown
    for shown in (tensor_value(t), summary(t), settled_values([summary_record(t)])[0]):
        assert (shown["mean"], shown["std"]) == ("NaN", "NaN")
        assert shown["min"] is None and shown["max"] is None


def test_an_empty_integer_tensor_shows_no_mean_torch_refuses_one():
    t = torch.empty(0, dtype=torch.int64)
    with pytest.raises(RuntimeError):
        t.mean()
    shown = tensor_value(t)
    assert shown["mean"] is None and shown["std"] is None and shown["min"] is None


def test_one_negative_zero_has_torchs_positive_zero_mean():
    for dtype in FLOATS:
        t = torch.tensor([-0.0], dtype=dtype)
        want = t.mean().item()
        assert math.copysign(1.0, want) == 1.0
        for shown in (tensor_value(t), tensor_value(t.reshape(1, 1)),
                      settled_values([summary_record(t)])[0]):
            assert same_bits(shown["mean"], want), (dtype, shown)


def test_small_integers_past_2_to_53_show_torchs_double_mean_and_std():
    """A small int tensor's mean and std are ``t.double()``'s: made in Python where every
    partial sum is a whole double (magnitudes adding up to at most 2**53), asked of torch
    past that (its order of adding rounds there: ``-2487510005559813.`` where the sum in
    element order gives ``...813.5``), and for a transpose (added in memory order)."""
    rng = random.Random(5)
    tensors = []
    for high in (6, 2**40, 2**47, 2**52, 2**62):
        for n in (2, 3, 31, 64):
            t = torch.tensor([rng.randrange(-high, high) for _ in range(n)])
            tensors += [t, t.to(torch.int32) if high < 2**31 else t, t.flip(0)]
            if n % 2 == 0:
                tensors.append(t.reshape(2, n // 2).t())
    tensors.append(torch.tensor([2**53 + 1, 2**53 + 3, -(2**53) - 1]))
    bad = []
    for t in tensors:
        wide = t.double()
        for shown in (tensor_value(t), summary(t)):
            if not (same_bits(shown["mean"], wide.mean().item())
                    and same_bits(shown["std"], wide.std().item())):
                bad.append((t, shown["mean"], wide.mean().item(), shown["std"], wide.std().item()))
    assert not bad, bad[:3]
