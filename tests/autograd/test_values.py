"""values.tensor_value / to_jsonable: torch computes every expected number."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.values import compact, tensor_value, to_jsonable


def strict(data) -> str:
    return json.dumps(data, allow_nan=False)


def test_small_tensor_keeps_data_and_stats():
    t = torch.tensor([[1.0, -2.0], [3.5, 0.25]])
    v = tensor_value(t)
    assert v["shape"] == [2, 2] and v["dtype"] == "float32" and v["device"] == "cpu"
    assert v["data"] == t.tolist()
    assert v["min"] == t.min().item() and v["max"] == t.max().item()
    assert v["mean"] == pytest.approx(t.mean().item())
    assert v["std"] == pytest.approx(t.std().item())
    assert v["nan"] == 0 and v["inf"] == 0


def test_scalar_data_is_a_number():
    v = tensor_value(torch.tensor(1.5, requires_grad=True) * 2)
    assert v["shape"] == [] and v["data"] == 3.0 and v["std"] is None


@pytest.mark.parametrize("t", [
    torch.tensor(2.0), torch.tensor([2.0]), torch.ones(1, 1, dtype=torch.float64),
    torch.ones(1, dtype=torch.bfloat16), torch.ones(1, dtype=torch.int64),
    torch.ones(1, dtype=torch.complex64),
], ids=lambda t: f"{t.dtype}-{t.numel()}")
def test_std_of_one_finite_element_is_null_not_zero(t):
    # torch's own x.std() of one element is nan (and warns): 0.0 is a number torch never gave
    from gradstep.autograd.values import summary, summary_record, unpacked
    for value in (tensor_value(t), summary(t), unpacked(summary_record(t))):
        assert value["std"] is None, value
    assert tensor_value(torch.tensor([1.0, 3.0]))["std"] == pytest.approx(2 ** 0.5)


def test_large_tensor_keeps_only_a_summary():
    t = torch.randn(1000, 65)
    v = tensor_value(t)
    assert "data" not in v
    assert v["min"] == pytest.approx(t.min().item()) and v["max"] == pytest.approx(t.max().item())
    assert v["std"] == pytest.approx(t.double().std().item())


def test_nan_and_inf_are_counted_and_strict_json():
    t = torch.tensor([float("nan"), 1.0, float("inf"), -float("inf"), 3.0])
    v = tensor_value(t)
    assert v["nan"] == int(torch.isnan(t).sum()) == 1
    assert v["inf"] == int(torch.isinf(t).sum()) == 2
    finite = t[torch.isfinite(t)]
    assert v["min"] == finite.min().item() and v["max"] == finite.max().item()
    assert v["data"] == ["NaN", 1.0, "Infinity", "-Infinity", 3.0]
    strict(v)


def test_all_non_finite_has_no_range():
    v = tensor_value(torch.full((3,), float("nan")))
    assert v["min"] is None and v["nan"] == 3
    assert v["mean"] == v["std"] == "NaN"  # torch's own t.mean() and t.std()
    strict(v)


def test_meta_tensor_has_shape_and_no_data():
    t = torch.empty(3, 4, device="meta")
    assert tensor_value(t) == {"shape": [3, 4], "dtype": "float32", "device": "meta"}


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("layout", ["to_sparse", "to_sparse_csr", "to_sparse_csc"])
def test_a_sparse_tensor_of_any_layout_has_shape_and_no_data(layout):
    t = getattr(torch.tensor([[0.0, 1.0], [2.0, 0.0]]), layout)()
    expected = {"shape": [2, 2], "dtype": "float32", "device": "cpu"}
    assert tensor_value(t) == expected and compact(t) == expected
    assert plain_values([t]) == [expected]


@pytest.mark.parametrize("t", [
    torch.tensor([1, 5, -3]),
    torch.tensor([True, False, True]),
    torch.tensor([1 + 2j, 3 - 4j]),
    torch.tensor([1.5, 2.5], dtype=torch.bfloat16),
    torch.tensor([1.5, 2.5], dtype=torch.float16),
    torch.empty(0, 3),
])
def test_other_dtypes_do_not_crash_and_are_strict_json(t):
    v = tensor_value(t)
    strict(v)
    assert v["shape"] == list(t.shape)


def test_int_and_complex_values():
    v = tensor_value(torch.tensor([1, 5, -3]))
    assert (v["min"], v["max"], v["data"]) == (-3, 5, [1, 5, -3])
    c = torch.tensor([3 + 4j, 0j])
    vc = tensor_value(c)
    assert vc["data"] == [[3.0, 4.0], [0.0, 0.0]]
    assert vc["max"] == c.abs().max().item()


def test_to_jsonable_nested():
    data = to_jsonable({"a": [1.0, math.nan, (math.inf, -math.inf)], "b": torch.float64,
                        "c": torch.Size([2, 3]), "d": np.float32(2.5), "e": np.array([1, 2]),
                        "f": torch.ones(2), 3: None})
    assert data["a"] == [1.0, "NaN", ["Infinity", "-Infinity"]]
    assert data["b"] == "float64" and data["c"] == [2, 3] and data["d"] == 2.5
    assert data["e"] == [1, 2] and data["f"]["data"] == [1.0, 1.0] and data["3"] is None
    strict(data)


def test_compact_is_tolist_when_small():
    t = torch.arange(4.0)
    assert compact(t) == t.tolist()
    assert "data" not in compact(torch.zeros(100)) and compact(None) is None


def test_std_of_a_narrow_spread_far_from_zero_is_exact():
    t = 1000.0 + 0.01 * torch.randn(5000)
    v = tensor_value(t)
    assert v["std"] == pytest.approx(t.double().std().item(), rel=1e-4)
    assert v["mean"] == pytest.approx(t.double().mean().item(), rel=1e-6)


def _large_tensors():
    """Return a (64, 96) float32 tensor and large float tensors of several sizes and layouts
    (it and views of it among them), float32 rounding visible in their means."""
    g = torch.Generator().manual_seed(7)
    out = []
    for n in (65, 100, 1000, 4096, 12288, 40000, 100_000):
        out.append(torch.randn(n, generator=g) * 3 + 0.1)
    base = torch.randn(64, 96, generator=g) * 1e3 + 0.1
    out += [base, base.t(), base[:, ::3], base.double(), base.double().t(), base.view(-1)[5:5000],
            torch.tensor(0.3).expand(12, 8, 8)]  # its mean() is 0.29999998, its std() 3e-08
    return base, out


def test_a_large_summary_shows_exactly_what_x_mean_and_x_std_print():
    """The mean and std shown are the snippet's own ``x.mean()`` and ``x.std()`` to the last
    bit (torch.std_mean's mean, accumulated in double, differs in the last bit for about
    half of these)."""
    for t in _large_tensors()[1]:
        v = tensor_value(t)
        assert (v["mean"], v["std"]) == (t.mean().item(), t.std().item()), (t.shape, t.stride())
        assert (v["min"], v["max"]) == (t.min().item(), t.max().item())


def test_gradients_summarised_together_show_exactly_what_each_g_mean_prints():
    from gradstep.autograd.grad_values import plain_values

    base, tensors = _large_tensors()
    cube = torch.randn(4, 16, 32) * 7 + 0.1
    tensors += [base.view(96, 64), base.unsqueeze(0), torch.randn(64, 96), torch.randn(64, 96) * 5,
                cube.permute(2, 0, 1), cube.transpose(1, 2), cube, cube.expand(2, 4, 16, 32)]
    for v, t in zip(plain_values(tensors), tensors):
        assert (v["mean"], v["std"]) == (t.mean().item(), t.std().item()), (t.shape, t.stride())
        assert (v["min"], v["max"]) == (t.min().item(), t.max().item())


@pytest.mark.parametrize("make", [
    lambda: torch.randn(5000).bfloat16(),
    lambda: torch.randn(100, 50, dtype=torch.float16).t(),  # not contiguous
    lambda: torch.randint(-3, 9, (5001,)),
    lambda: torch.rand(5000) > 0.3,
    lambda: torch.randn(5000).index_fill_(0, torch.tensor([3, 4000]), math.nan)
                              .index_fill_(0, torch.tensor([9]), -math.inf),
], ids=["bfloat16", "float16 transposed", "int64", "bool", "float32 with NaN and inf"])
def test_a_large_summary_widens_a_chunk_at_a_time(monkeypatch, make):
    """A summary widened the whole tensor before reducing it (half precision to float32,
    ints and bools to double, a NaN's finite elements to double): a 100 MB bfloat16
    activation raised a run's peak memory by 200 MB over python's. Large tensors are read a
    chunk at a time; the numbers are the double-precision statistics of the finite elements
    (a NaN's mean and std: torch's own, nan). Half precision's mean and std are torch's
    own: ``t.std()`` reads it in place; its ``t.mean()`` would sum a float32 copy of all
    of it on the CPU, so none is shown."""
    import gradstep.autograd.values as values

    torch.manual_seed(0)
    t = make()
    monkeypatch.setattr(values, "_CHUNK", 1000)
    widened = []
    for name in ("float", "double"):
        method = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name, lambda self, *a, _m=method, **k:
                            widened.append(self.numel()) or _m(self, *a, **k))
    v = tensor_value(t)
    monkeypatch.undo()
    assert widened and max(widened) <= 1000
    flat = t.reshape(-1).double()
    finite = flat[torch.isfinite(flat)]
    assert v["nan"] == int(flat.isnan().sum()) and v["inf"] == int(flat.isinf().sum())
    assert v["min"] == finite.min().item() and v["max"] == finite.max().item()
    if v["nan"] or v["inf"]:  # the mean and std torch's own: a NaN makes them nan
        assert (v["mean"], v["std"]) == ("NaN", "NaN") and t.mean().isnan() and t.std().isnan()
        assert v["nonfinite_at"] == [[3], [9], [4000]]
        return
    if t.dtype in (torch.float16, torch.bfloat16):
        assert v["mean"] is None and v["std"] == t.std().item()
        return
    # ints and bools in double (torch has no t.mean() of theirs)
    assert v["mean"] == pytest.approx(finite.mean().item(), rel=1e-12, abs=1e-15)
    assert v["std"] == pytest.approx(finite.std().item(), rel=1e-12)


def test_a_large_half_precision_tensor_of_huge_finite_values_keeps_its_mean_and_std(monkeypatch):
    """Read in float32 a chunk at a time, the sums of values past ~1e19 overflowed: a NaN
    mean or an infinite std for a tensor with neither (the summary said nan 0, inf 0)."""
    import gradstep.autograd.values as values

    monkeypatch.setattr(values, "_CHUNK", 1000)
    for big in (1e20, 1e38):
        t = torch.full((5000,), big, dtype=torch.bfloat16)
        t[::2] = -big
        v = tensor_value(t)
        assert (v["nan"], v["inf"]) == (0, 0)
        assert v["mean"] is None  # (its own needs a float32 copy of all of it)
        assert v["std"] == t.std().item() and math.isfinite(v["std"])
        monkeypatch.setattr(values, "_CHUNK", 1 << 20)  # not chunked: its own mean
        v = tensor_value(t)
        mean = t.mean().item()  # 1e38: nan (its float32 sum passes the range), as torch prints
        assert v["mean"] == ("NaN" if math.isnan(mean) else mean) and v["std"] == t.std().item()
        monkeypatch.setattr(values, "_CHUNK", 1000)


def test_a_large_float_value_skips_the_general_checks(monkeypatch):
    """A float32 or float64 tensor with data above SMALL elements (most of a trace's values)
    is summarised without ``_stats``' checks, to the same dict as the general path."""
    from gradstep.autograd import values

    t = torch.linspace(-3, 5, 300, dtype=torch.float64).reshape(3, 100).requires_grad_()
    expected = {"shape": [3, 100], "dtype": "float64", "device": "cpu",
                **values._stats(t.detach()), }
    monkeypatch.setattr(values, "_stats", None)  # the general path would call it
    got = tensor_value(t * 1)
    assert got == expected and list(got) == list(expected)
    assert got["nan"] == 0 and got["min"] == -3.0 and got["max"] == 5.0
    spoilt = torch.ones(100)
    spoilt[7] = math.nan  # a NaN: the fast path counts it as _stats does
    assert tensor_value(spoilt)["nan"] == 1 and tensor_value(spoilt)["nonfinite_at"] == [[7]]
