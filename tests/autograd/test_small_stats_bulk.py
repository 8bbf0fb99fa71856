"""Small values' means and stds made for many at once (docs/speed.md item 61), still torch's
own ``t.mean()`` and ``t.std()`` to the bit: a trace's small leaves settled in one call
(``values.settled_values``), and the stds of many rows made by numpy in the order
torch's serial loop adds them (``values.serial_stds``)."""

import random
import warnings

import numpy
import torch

from gradstep.autograd import values
from gradstep.autograd.trace import trace_graph
from gradstep.autograd.values import serial_std, serial_stds


def test_serial_stds_are_each_rows_own_std():
    rng = random.Random(5)
    gen = torch.Generator().manual_seed(5)
    rows = 0
    for _ in range(150):
        dtype = rng.choice([torch.float32, torch.float64])
        n = rng.choice([2, 3, 7, 16, 33, 64, rng.randint(2, 64), rng.randint(65, 4096)])
        scale = 10 ** rng.uniform(-20, 20)
        block = (torch.randn(rng.randint(1, 9), n, generator=gen, dtype=torch.float64) * scale
                 + rng.choice([0.0, rng.uniform(-5, 5) * scale])).to(dtype)
        means = block.mean(1).tolist()
        assert means == [row.mean().item() for row in block]
        got = serial_stds(block, means, dtype is torch.float32)
        assert got == [row.std().item() for row in block], (dtype, tuple(block.shape))
        assert got == [serial_std(row, mean, dtype is torch.float32)
                       for row, mean in zip(block.tolist(), means)]
        rows += len(got)
    assert rows > 500


def test_serial_stds_overflow_as_torch_and_warn_nothing():
    block = torch.tensor([[1e200, -1e200, 3.0], [1.0, 2.0, 4.0]], dtype=torch.float64)
    means = block.mean(1).tolist()
    old = numpy.seterr(all="raise")  # a snippet's own numpy settings: not gradstep's to trip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = serial_stds(block, means, False)
            got32 = serial_stds(torch.tensor([[3e38, -3e38]]), [0.0], True)
    finally:
        numpy.seterr(**old)
    assert got == [row.std().item() for row in block] and got[0] == float("inf")
    assert got32 == [float("inf")]


def test_the_small_leaves_means_are_made_together(monkeypatch):
    """A trace's small float leaves (biases, norms' weights) are settled in one call, not
    one ``settled`` (and its torch calls) per leaf; the numbers stay each leaf's own."""
    gen = torch.Generator().manual_seed(0)
    leaves = [torch.nn.Parameter(torch.randn(8, generator=gen) * 3 + 1) for _ in range(6)]
    leaves.append(torch.nn.Parameter(torch.randn(5, generator=gen, dtype=torch.float64)))
    loss = sum((p * p).sum() for p in leaves[:6]) + leaves[6].sum()
    calls = []
    settled = values.settled
    monkeypatch.setattr(values, "settled", lambda records, *a: calls.append(len(records))
                        or settled(records, *a))
    graph = trace_graph([loss]).graph
    assert calls == [7]
    shown = {node["value"]["data"][0]: node["value"] for _, node in graph.nodes(data=True)
             if node["kind"] == "leaf"}
    for p in leaves:
        value = shown[p[0].item()]
        assert (value["mean"], value["std"]) == (p.mean().item(), p.std().item())
        assert value["data"] == p.tolist()


def test_settled_rows_hold_the_tensors_own_bits():
    """``settled`` makes its rows from the records' Python floats through numpy's double
    block (not ``torch.tensor`` of the nested list): each row is still its tensor's bits, so
    its mean and std are the tensor's own, in all four float dtypes, with a -0.0, a
    subnormal and numbers near the dtype's range among them."""
    rng = random.Random(11)
    gen = torch.Generator().manual_seed(11)
    tiny = {torch.float32: 1e-45, torch.float64: 5e-324, torch.float16: 6e-8, torch.bfloat16: 1e-40}
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        top = {torch.float16: 3e3, torch.bfloat16: 1e30, torch.float32: 1e30}.get(dtype, 1e100)
        tensors = []
        for _ in range(12):
            t = (torch.randn(rng.choice([2, 5, 64]), generator=gen, dtype=torch.float64)
                 * rng.choice([1e-3, 1.0, top])).to(dtype)
            t[0] = -0.0
            t[-1] = tiny[dtype]
            tensors.append(t)
        records = [values.summary_record(t) for t in tensors]
        assert all(r[3] is values.PENDING for r in records)  # all go through the bulk rows
        for t, record in zip(tensors, values.settled(records)):
            assert record[8:] == tuple(t.tolist())
            assert record[3] == values.json_float(t.mean().item()), dtype
            assert record[4] == values.json_float(t.std().item()), dtype
