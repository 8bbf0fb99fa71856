"""A small tensor's mean and std are torch's own ``t.mean()`` and ``t.std()`` to the bit:
the summary a trace keeps (``summary_record``, settled in bulk by the ValueStore) and
``tensor_value``, fuzzed against torch itself (float32, float64, float16 and bfloat16: half
precision's too, summed in float32 and rounded to its 8 or 11 bits, no longer the statistics
of its values widened; 0-d, one element, 2 to 64; contiguous, step slices, 2-D and transposed). The exact double
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
        return t.mean().item(), None  # t.std() is nan (none shown)
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


_CAP_SNIPPET = """
import torch
w = torch.tensor([0.5, -0.25, -0.25, 0.1, -0.1, 0.3, -0.3], requires_grad=True)
h = (w * 3).tanh()
s = h[::2] * 2
loss = (s.exp() + 1).sum()
"""


def _small_values(trace: dict) -> list:
    return [node["value"] for node in trace["nodes"]
            if isinstance(node.get("value"), dict) and isinstance(node["value"].get("data"), list)
            and len(node["value"]["data"]) > 1]


def _kept_stores(monkeypatch, limit: int) -> list:
    from gradstep.autograd import values

    monkeypatch.setattr(values, "SMALL_MEANS_LIMIT", limit)
    tensors = [t for t in _tensors(60, seed=3) if t.numel() > 1 and t.dtype in (torch.float32, torch.float64)
               and t.dim() == 1]
    store = ValueStore()
    for i, t in enumerate(tensors):
        store.add(("op", i, "x"), 0, t)
    store.put(("op", -1, "y"), 0, summary(tensors[0]))  # a dict made apart (a saved view's)
    return tensors, store


def test_a_trace_within_the_limit_shows_torchs_own_means(monkeypatch):
    tensors, store = _kept_stores(monkeypatch, 10_000)
    assert store.exact_means()
    for i, t in enumerate(tensors):
        kept = store.get(("op", i, "x"))[0]
        assert (kept["mean"], kept["std"]) == (t.mean().item(), t.std().item())
    assert store.get(("op", -1, "y"))[0]["mean"] == tensors[0].mean().item()


def test_a_trace_past_the_limit_shows_no_small_mean_at_all(monkeypatch):
    """One rule for the whole trace: past ``SMALL_MEANS_LIMIT`` small float values, none of
    them has a mean or a std (null), step slices and dicts made apart included; the data,
    min and max stay torch's."""
    tensors, store = _kept_stores(monkeypatch, 5)
    assert len(tensors) > 6 and not store.exact_means() and not store.pending
    for i, t in enumerate(tensors):
        kept = store.get(("op", i, "x"))[0]
        assert kept["mean"] is None and kept["std"] is None, (t.shape, t.stride())
        assert kept["data"] == t.tolist() and kept["min"] == t.min().item() and kept["max"] == t.max().item()
    assert store.get(("op", -1, "y"))[0]["mean"] is None


def test_the_cap_is_one_rule_for_the_whole_graph(monkeypatch):
    from gradstep.autograd import values
    from gradstep.autograd.session import Session

    trace = Session().run(_CAP_SNIPPET, filename="cap.py")["trace"]
    small = _small_values(trace)
    assert len(small) >= 4 and all(v["mean"] is not None and v["std"] is not None for v in small)
    leaf = next(node["value"] for node in trace["nodes"] if node["kind"] == "leaf")
    w = torch.tensor(leaf["data"])
    assert (leaf["mean"], leaf["std"]) == (w.mean().item(), w.std().item())
    monkeypatch.setattr(values, "SMALL_MEANS_LIMIT", 2)
    capped = Session().run(_CAP_SNIPPET, filename="cap.py")["trace"]
    small = _small_values(capped)  # the leaf's too
    assert len(small) >= 5 and all(v["mean"] is None and v["std"] is None for v in small)
    assert [v["data"] for v in small] == [v["data"] for v in _small_values(trace)]


_SEQUENCE_SNIPPET = """
import torch
a = torch.tensor([0.5, -0.25, 0.125, 2.0, 1.5, -3.0], requires_grad=True) * 1
b = a[::2]
c = b * 2
d = c + 1
print(d.grad_fn._sequence_nr() - a.grad_fn._sequence_nr())
"""


def test_a_step_slices_mean_makes_no_node_of_the_snippets():
    """A step slice's mean is asked of torch when its value is seen, while the snippet runs:
    a ``t.mean()`` of the snippet's tensor under grad mode made a MeanBackward0 node and
    advanced the sequence numbers of every node after it (4 where python prints 3)."""
    import contextlib
    import io

    from torch._C._autograd import _get_sequence_nr

    from gradstep.autograd.session import Session

    t = (torch.tensor([0.5, -0.25, 0.125, 2.0, 1.5, -3.0], requires_grad=True) * 1)[::2]
    before = _get_sequence_nr()
    record = summary_record(t)
    assert _get_sequence_nr() == before
    assert record[3:5] == (t.mean().item(), t.std().item())
    plain = io.StringIO()
    with contextlib.redirect_stdout(plain):
        exec(compile(_SEQUENCE_SNIPPET, "plain.py", "exec"), {"__name__": "__main__"})
    result = Session().run(_SEQUENCE_SNIPPET, filename="sequence.py")
    assert result["ok"], result["error"]
    assert result["output"] == plain.getvalue()
