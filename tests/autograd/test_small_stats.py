"""A small tensor's mean and std are torch's own ``t.mean()`` and ``t.std()`` to the bit:
the summary a trace keeps (``summary_record``, settled in bulk by the ValueStore) and
``tensor_value``, fuzzed against torch itself (float32, float64, float16, bfloat16; 0-d,
one element, 2 to 64; contiguous, step slices, 2-D and transposed). The exact double
mean gradstep showed before differed in most float32 tensors (``mean 1.6747e-08``
where torch prints ``tensor(0.)``)."""

import random

import torch

from gradstep.autograd.observe import ValueStore
from gradstep.autograd.values import PENDING, summary, summary_record
from gradstep.ui.tensor_text import stats


def _tensors(count: int, seed: int = 0) -> list:
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        dtype = rng.choice([torch.float32, torch.float32, torch.float64, torch.float16, torch.bfloat16])
        n = rng.randint(1, 64)
        scale = 10 ** rng.uniform(-3, 3)
        base = (torch.randn(3 * n, generator=gen, dtype=torch.float64) * scale
                + rng.choice([0.0, 0.0, rng.uniform(-3, 3) * scale])).to(dtype)
        kind = rng.choice(["row", "row", "step", "2d", "t", "0d"])
        even = base[: max(2, n - n % 2)]
        t = {"row": base[:n], "step": base[::3][:n], "2d": even.view(-1, 2),
             "t": even.view(2, -1).t(), "0d": base[0]}[kind]
        out.append(t)
    return out


def _torch_numbers(t: torch.Tensor) -> tuple:
    if t.numel() == 1:
        return t.item(), None  # its mean is itself; t.std() is nan (none shown)
    return t.mean().item(), t.std().item()


def test_small_means_and_stds_are_torchs_own():
    tensors = _tensors(600)
    store = ValueStore()
    for i, t in enumerate(tensors):
        store.add(("op", i, "x"), 0, t)
    assert store.pending  # contiguous float rows wait, to be reduced together
    for i, t in enumerate(tensors):
        want = _torch_numbers(t)
        kept = store.get(("op", i, "x"))[0]
        alone = summary(t)
        assert (kept["mean"], kept["std"]) == want, (t.dtype, t.shape, t.stride())
        assert (alone["mean"], alone["std"]) == want, (t.dtype, t.shape, t.stride())
    assert not store.pending


def test_zero_centred_float32_mean_reads_as_torch_prints_it():
    t = torch.tensor([0.5, -0.25, -0.25, 0.1, -0.1, 0.3, -0.3])
    record = summary_record(t)
    assert record[3] is PENDING
    assert summary(t)["mean"] == t.mean().item()


def test_a_bare_lists_statistics_show_no_mean_torch_did_not_make():
    """A small gradient arrives as bare numbers: min and max are read from them; their
    mean would be a sum made here, not torch's t.mean(), so none is shown."""
    g = torch.tensor([0.1, 0.2, 0.3])
    text = stats(g.tolist())
    assert "min" in text and "max" in text and "mean" not in text
    assert "mean nan" in stats([1.0, float("nan")])  # torch's mean of a NaN: nan
    assert "mean 2." in stats([2.0])  # one element: itself
