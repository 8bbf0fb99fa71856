"""grad_values.plain_values gives exactly what values.compact gives, tensor by tensor."""

import json
import random

import pytest
import torch

from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.values import compact


def _close(got, want):
    if isinstance(want, dict):
        assert set(got) == set(want)
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
            else:
                assert got[key] == value, key
    else:
        assert got == want


def test_matches_compact_for_mixed_tensors():
    torch.manual_seed(0)
    shared = torch.randn(100)
    tensors = [
        torch.tensor(1.5), torch.randn(3), torch.randn(2, 3, 4), torch.randn(100), shared,
        torch.randn(10, 10).double(), torch.randn(65), None, shared, torch.zeros(0),
        torch.tensor([float("nan"), 1.0, float("inf")]), torch.randn(8).half(),
        torch.arange(5), torch.tensor([1.0, float("-inf")] + [0.0] * 70),
        torch.randn(4, 4, requires_grad=True) * 2, torch.randn(3, dtype=torch.complex64),
    ]
    got = plain_values(tensors)
    for value, t in zip(got, tensors):
        _close(value, compact(t) if t is not None else None)
    json.dumps(got, allow_nan=False)
    assert got[4] is got[8]  # the same tensor is summarised once


def test_nested_shapes():
    t = torch.arange(24.0).reshape(2, 3, 4)
    assert plain_values([t]) == [t.tolist()]
    assert plain_values([torch.ones(1, 1, 1)]) == [[[[1.0]]]]


def test_standard_deviation_is_accurate_for_constant_and_offset_rows():
    torch.manual_seed(1)
    rows = [
        torch.full((4, 32), 1 / 128),  # what mean() sends back: constant
        1000.0 + 1e-3 * torch.randn(100),  # large mean, tiny spread
        torch.randn(3, 50) * 5,
        torch.randn(200).double(),
    ]
    for summary, t in zip(plain_values(rows), rows):
        assert summary["std"] == pytest.approx(t.double().std().item(), rel=1e-3, abs=1e-9)
        assert summary["mean"] == pytest.approx(t.double().mean().item(), rel=1e-6, abs=1e-9)
        assert (summary["min"], summary["max"]) == (t.min().item(), t.max().item())


def test_views_of_one_buffer_each_get_their_own_shape():
    torch.manual_seed(2)
    base = torch.randn(4, 16, 32)
    views = [base, base.view(64, 32), base.view(-1), base.transpose(0, 1), base[:, :8]]
    got = plain_values(views)
    for value, t in zip(got, views):
        _close(value, compact(t))
    assert got[0] is not got[1]  # separate dicts: each says its own shape
    base.mul_(2)  # changed in place: its version moved, so no summary is reused
    again = base.view(64, 32)
    _close(plain_values([base, again])[1], compact(again))


def test_views_sharing_one_row_get_exactly_what_each_gets_alone():
    torch.manual_seed(3)
    base = torch.randn(4, 16, 32) * 1e3 + 0.1  # float32 rounding shows in mean and std
    views = [base, base.view(64, 32), base.view(-1), base.unsqueeze(0)]
    together = plain_values([*views, torch.randn(64, 32)])
    for value, t in zip(together, views):
        alone = plain_values([t])[0]
        assert value == alone  # the same numbers to the last bit, and the view's own shape
        assert value["shape"] == list(t.shape)


def test_a_transposed_view_of_a_buffer_already_in_a_row_makes_no_row_of_its_own(monkeypatch):
    # Only the first tensor of a buffer is permuted into a row; the views read from it
    # after are joined to it by their own address (a permute starts where its tensor does).
    torch.manual_seed(4)
    base = torch.randn(16, 8)
    tensors = [base, base.t(), base.t().unsqueeze(0), torch.randn(8, 16).t()]
    made = []
    permute = torch.Tensor.permute

    def counted(self, *dims):
        made.append(tuple(self.shape))
        return permute(self, *dims)

    monkeypatch.setattr(torch.Tensor, "permute", counted)
    got = plain_values(tensors)
    monkeypatch.undo()
    assert got == [plain_values([t])[0] for t in tensors]  # each as it is alone, its own shape
    for value, t in zip(got, tensors):
        _close(value, compact(t))
    # one permute to learn each of the three layouts' memory order, one for the last
    # tensor's row: the two views of ``base`` need none
    assert made == [(8, 16), (1, 8, 16), (16, 8), (16, 8)]


def _views_of_shared_buffers(rng: random.Random, g: torch.Generator) -> list:
    """A few float32/float64 buffers and random views of each, shuffled together: the
    views that share a row (reshapes, permutes in any order, a leading 1) beside ones at
    the same address that must not (another length, another dtype, a negative view) and
    ones that are no row at all (gaps, overlaps, zero strides, complex)."""
    out = []
    for _ in range(rng.randint(1, 4)):
        dtype = rng.choice([torch.float32, torch.float64])
        shape = rng.choice([(4, 16, 32), (64, 33), (8, 8, 9), (2, 3, 5, 7), (200,), (130, 260), (8, 8, 8), (48, 48)])
        base = torch.randn(shape, generator=g, dtype=dtype) * 10 ** rng.randint(-3, 3) + 0.1
        if rng.random() < 0.2:
            base[tuple(rng.randrange(s) for s in shape)] = rng.choice([0.0, -0.0, float("nan")])
        makers = _view_makers(base, rng)
        out += [rng.choice(makers)() for _ in range(rng.randint(2, 10))]
    rng.shuffle(out)
    return out


def _view_makers(base: torch.Tensor, rng: random.Random) -> list:
    n, d, flat = base.numel(), base.dim(), base.view(-1)
    other, wide = ((torch.float64, torch.complex64) if base.dtype == torch.float32
                   else (torch.float32, torch.complex128))
    return [
        lambda: base, lambda: base.reshape(-1), lambda: base.unsqueeze(0),
        lambda: base.permute(*rng.sample(range(d), d)),
        lambda: base.permute(*rng.sample(range(d), d)).unsqueeze(rng.randint(0, d)),
        lambda: base.transpose(0, d - 1),
        lambda: flat[rng.choice((1, 8)):],  # a storage offset
        lambda: flat[2:n - 8].view(-1, 2),
        lambda: flat[: n - rng.choice((1, 8))],  # the same address, shorter
        lambda: flat[:: rng.randint(2, 3)],  # gaps
        lambda: base[..., ::2].transpose(0, -1),
        lambda: flat.as_strided((n // 2, 2), (1, 1)),  # overlaps
        lambda: flat[: rng.randint(70, 300)].expand(3, -1),  # a zero stride
        lambda: torch._neg_view(base),
        lambda: torch._neg_view(base).permute(*rng.sample(range(d), d)),
        lambda: flat.view(other),  # the same address, another dtype
        lambda: flat.view(other)[:n] if other == torch.float32 else flat.view(other),  # and length
        lambda: torch.view_as_real(flat.view(wide)),
        lambda: flat.view(wide).conj(),
    ]


def test_views_of_shared_buffers_in_any_mix_get_exactly_what_compact_gives():
    # Fuzzed: each tensor's summary the same to the last bit as ``compact``'s of it alone
    # (torch's own t.mean() and t.std()), whichever view of a buffer came first. Each
    # round's tensors are freed before the next: their addresses come again.
    rng, g = random.Random(0), torch.Generator().manual_seed(0)
    for _ in range(20):
        tensors = _views_of_shared_buffers(rng, g)
        got = plain_values(tensors)
        assert json.dumps(got) == json.dumps([compact(t) for t in tensors])


def test_views_sharing_a_row_with_nan_each_say_where_it_is():
    base = torch.zeros(4, 32)
    base[1, 3] = float("nan")
    views = [base, base.view(2, 64), base.view(-1)]
    for value, t in zip(plain_values(views), views):
        assert value == compact(t)
    assert plain_values(views)[1]["nonfinite_at"] == [[0, 35]]


@pytest.mark.parametrize("stage", ["row_stats", "small_numbers"])
def test_a_group_torch_cannot_batch_falls_back_to_compact_for_every_tensor(monkeypatch, stage):
    from gradstep.autograd import grad_values

    def refuse(*args):
        raise RuntimeError("cannot batch")

    torch.manual_seed(3)
    base = torch.randn(4, 32)
    tensors = [base, base.view(-1), base.view(2, 64), torch.randn(4, 32), torch.randn(3),
               torch.tensor(2.0), torch.randn(2, 3)]
    monkeypatch.setattr(grad_values, stage, refuse)
    got = plain_values(tensors)
    assert got == [compact(t) for t in tensors]  # the views that shared a row too


def test_small_tensors_of_any_layout_read_in_row_major_order():
    t = torch.arange(6.0).reshape(2, 3)
    tensors = [t.t(), torch.tensor(2.5), t[:, 1], torch._neg_view(torch.arange(4.0)),
               torch.arange(3.0).double(), t.expand(2, 2, 3)]
    assert plain_values(tensors) == [x.tolist() for x in tensors]


def test_a_zero_min_or_max_has_the_sign_compact_shows():
    """amin/amax of the rows and a tensor's own aminmax may name different zeros (-0.0 or
    0.0) where both are there: a row's summary gives the sign its own does."""
    import struct

    g = torch.Generator().manual_seed(0)
    tensors = []
    for n in (65, 128, 1000, 16384):
        for dtype in (torch.float32, torch.float64):
            for _ in range(4):
                t = -torch.randn(n, generator=g, dtype=dtype).relu()
                t[t == 0] = -0.0
                t[::5] = 0.0
                tensors += [t, t.view(2, n // 2).t()] if n % 2 == 0 else [t]
    got = plain_values(tensors)
    for value, t in zip(got, tensors):
        want = compact(t)
        assert [struct.pack("<d", value[k]) for k in ("min", "max")] == [
            struct.pack("<d", want[k]) for k in ("min", "max")], (t.shape, t.dtype)
