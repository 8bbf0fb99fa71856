"""value_rows.summaries: many large values reduced together, to the bits of each one's own
summary (torch computes every expected number)."""

from __future__ import annotations

import math
import struct

import pytest
import torch

from gradstep.autograd import values
from gradstep.autograd.value_rows import summaries
from gradstep.autograd.values import summary, summary_record


def _bits(value):
    """A summary with its floats as their bytes (-0.0 and 0.0 differ, NaN equals NaN)."""
    if isinstance(value, dict):
        return {k: _bits(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_bits(v) for v in value)
    return struct.pack("<d", value) if isinstance(value, float) else value


def _tensors():
    g = torch.Generator().manual_seed(3)
    out = []
    for n in (65, 100, 127, 1000, 4095, 4096, 12288, 32767, 32768, 40000):
        for scale, shift in ((1.0, 0.0), (1e3, 0.1), (1e-3, -700.0)):
            out += [torch.randn(n, generator=g) * scale + shift for _ in range(2)]
    base = torch.randn(64, 96, generator=g) * 1e3 + 0.1
    cube = torch.randn(4, 16, 32, generator=g)
    out += [base, base.t(), base[:, ::3], base.double(), base.double().t(), base.view(-1)[5:5000],
            base.clone(), base.t().clone(), cube.permute(2, 0, 1), cube.transpose(1, 2), cube,
            cube.clone().transpose(0, 1), cube.expand(2, 4, 16, 32), torch.tensor(0.3).expand(12, 8, 8),
            torch.nn.Parameter(torch.randn(64, 96, generator=g)), torch.zeros(192), torch.zeros(192)]
    relu = torch.randn(8, 64, 128, generator=g).relu()  # min 0.0
    out += list(relu) + list(-relu)  # max 0.0 (-0.0 where relu gave 0.0)
    signed = torch.randn(6, 200, generator=g).relu()
    signed[signed == 0] = -0.0
    signed[:, ::7] = 0.0  # 0.0 and -0.0 both: amin and aminmax may name either
    out += list(signed) + list(-signed)
    odd = torch.randn(6, 500, generator=g)
    odd[0, 3], odd[1, 7], odd[2, 9], odd[3, 0] = math.nan, math.inf, -math.inf, 3e38
    odd[3, 1] = 3e38  # the float32 sum overflows
    out += list(odd) + [torch.randn(100, generator=g).half(), torch.arange(300), torch.randn(64),
                        torch.randn(3, 3), torch.randn(300, generator=g).neg()._neg_view(), torch.randn(0)]
    return out


def test_rows_give_the_bits_of_each_summary_alone():
    tensors = _tensors()
    together = summaries(tensors, summary)
    assert _bits(together) == _bits([summary(t) for t in tensors])
    assert _bits(summaries(tensors, summary_record)) == _bits([summary_record(t) for t in tensors])
    for value, t in zip(together, tensors):  # and so torch's own numbers, to the bit
        if value and t.numel() > 64 and t.dtype in (torch.float32, torch.float64) and all(
                map(math.isfinite, [value["min"], value["max"], t.mean().item(), t.std().item()])):
            lo, hi = torch.aminmax(t.detach())
            assert _bits([value["min"], value["max"], value["mean"], value["std"]]) == _bits(
                [lo.item(), hi.item(), t.mean().item(), t.std().item()])


def test_the_usual_large_values_are_reduced_as_rows(monkeypatch):
    """None of the usual ones goes through the one-at-a-time reductions (values._reduce)."""
    alone = []
    reduce = values._reduce
    monkeypatch.setattr(values, "_reduce", lambda t: alone.append(t.shape) or reduce(t))
    base = torch.randn(64, 96)
    tensors = [torch.randn(4096) for _ in range(5)] + [base, base.t(), torch.randn(96, 64).t()]
    assert summaries(tensors, summary) == [summary(t) for t in tensors]
    assert len(alone) == len(tensors)  # the summaries alone: once each
    alone.clear()
    summaries(tensors, summary)
    assert alone == []


def test_a_snippets_mode_sees_none_of_the_rows():
    from torch.overrides import TorchFunctionMode

    seen = []

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    tensors = [torch.randn(100) for _ in range(3)]
    with Mode():
        got = summaries(tensors, summary)
    assert seen == [] and got == [summary(t) for t in tensors]


def test_rows_of_transposes_that_require_grad_make_no_graph_node():
    """A transposed value's row is a permute: made with grad on, it is a graph node, which
    takes one of the snippet's sequence numbers (torch numbers the nodes a thread makes)."""
    from torch._C._autograd import _get_sequence_nr

    weight = torch.randn(64, 96, requires_grad=True)
    tensors = [weight.t(), (weight * 2).t(), weight.t() + 0.0]
    expected = [summary(t) for t in tensors]
    before = _get_sequence_nr()
    got = summaries(tensors, summary)
    assert _get_sequence_nr() == before
    assert _bits(got) == _bits(expected)


def test_a_trace_makes_no_graph_node():
    """The trace of a model whose saved tensors are transposes (Linear saves its weight's
    ``t()``) takes none of the snippet's sequence numbers, as a plain run makes none."""
    from torch._C._autograd import _get_sequence_nr

    from gradstep.autograd.runner import run_snippet
    from gradstep.autograd.session import _trace_with_calls

    source = ("torch.manual_seed(0)\nmodel = nn.Sequential(*[nn.Sequential(nn.Linear(96, 80), "
              "nn.Tanh(), nn.Linear(80, 96)) for _ in range(2)])\nx = torch.randn(8, 96)\n"
              "loss = model(x).square().mean()\n")
    result = run_snippet(source)
    before = _get_sequence_nr()
    trace = _trace_with_calls(result, json_edges=True)
    assert _get_sequence_nr() == before
    assert len(trace.node_of) > 10


def test_a_transpose_of_freed_memory_is_summarised_alone_without_its_values():
    """A permute of a tensor whose storage was freed (FSDP's reshard) raises: its storage is
    asked before its row is made, whether its layout is known already or met first (a
    trace's transposed weights, one of them freed, lost every saved value: review of
    trace7). Each shows what its own summary shows."""
    torch.manual_seed(0)
    kept = [torch.randn(23, 29).t() for _ in range(3)]
    freed, lone, short = torch.randn(23, 29), torch.randn(31, 19), torch.randn(37, 17)
    whole, shorter = torch.randn(37, 17), torch.randn(37, 17)
    tensors = [kept[0], freed.t(), kept[1], lone.t(), short.t(), whole.t(), shorter.t(), kept[2]]
    freed.untyped_storage().resize_(0)
    lone.untyped_storage().resize_(0)  # the first (and only) of its layout
    short.untyped_storage().resize_(17 * 4 * 10)  # 10 of its 37 rows
    shorter.untyped_storage().resize_(17 * 4 * 36)  # 36 of 37 rows, its layout known by then
    try:
        got = summaries(tensors, summary)
    except RuntimeError as exc:  # (a report of the frames would print freed tensors: a segfault)
        pytest.fail(f"summaries raised: {exc}", pytrace=False)
    assert _bits(got) == _bits([summary(t) for t in tensors])
    assert ["min" in value for value in got] == [True, False, True, False, False, True, False, True]


def test_see_saved_and_the_leaves_summarise_their_values_together(monkeypatch):
    """The values saved tensors prove and the leaves' are made as rows: none alone."""
    from gradstep.autograd.session import Session

    source = ("torch.manual_seed(0)\nmodel = nn.Sequential(*[nn.Sequential(nn.Linear(96, 96), nn.Tanh()) "
              "for _ in range(3)])\nx = torch.randn(8, 96)\nloss = model(x).square().mean()\n")
    expected = Session().run(source)["trace"]
    alone = []
    reduce = values._reduce
    monkeypatch.setattr(values, "_reduce", lambda t: alone.append(tuple(t.shape)) or reduce(t))
    got = Session().run(source)["trace"]
    # seen while the snippet runs: the module outputs (8, 96); after it: none alone
    assert alone and set(alone) == {(8, 96)}
    for node in got["nodes"]:
        node.pop("seq")
    for node in expected["nodes"]:
        node.pop("seq")
    assert _bits(got) == _bits(expected)


def test_add_all_keeps_the_first_value_found_of_each_output(monkeypatch):
    from gradstep.autograd import observe
    from gradstep.autograd.observe import ValueStore

    first, second, third = torch.randn(100), torch.randn(100) + 5, torch.randn(100) - 5
    store = ValueStore()
    store.add(("op", 1, "A"), 0, third)  # known already: kept
    store.add_all([(("op", 1, "A"), 0, first), (("op", 2, "B"), 0, first), (("op", 2, "B"), 0, second),
                   (("op", 2, "B"), 1, third)])
    assert store.get(("op", 1, "A")) == {0: summary(third)}
    assert store.get(("op", 2, "B")) == {0: summary(first), 1: summary(third)}
    # a first value that cannot be read leaves the output to the next one, as add does
    made = observe.summaries
    monkeypatch.setattr(observe, "summaries", lambda ts, one: [None, *made(ts[1:], one)])
    store = ValueStore()
    store.add_all([(("op", 3, "C"), 0, first), (("op", 3, "C"), 0, second)])
    assert store.get(("op", 3, "C")) == {0: summary(second)}
    assert store.nodes == 1


@pytest.mark.parametrize("threads", [1, 2])
def test_rows_under_each_thread_count(threads):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        tensors = [torch.randn(n) * 3 + 0.1 for n in (65, 4096, 12288, 32767) for _ in range(3)]
        assert _bits(summaries(tensors, summary)) == _bits([summary(t) for t in tensors])
    finally:
        torch.set_num_threads(before)
