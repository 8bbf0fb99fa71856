"""values.summary_record / unpacked: what a run keeps per value, checked against torch
and against the general ``tensor_value`` path, and that the collector can drop it."""

from __future__ import annotations

import gc
import json

import pytest
import torch
from torch.overrides import TorchFunctionMode

from gradstep.autograd import values
from gradstep.autograd.observe import ValueStore
from gradstep.autograd.values import summary, summary_record, tensor_value, unpacked


def _cases() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    cases = []
    for dtype in (torch.float32, torch.float64, torch.float16, torch.int64, torch.complex64):
        for shape in ((), (1,), (3,), (64,), (65,), (0,), (2, 3)):
            cases.append((torch.randn(shape, generator=g) * 10).to(dtype))
    for bad in (float("nan"), float("inf"), -float("inf")):
        t = torch.randn(5, generator=g)
        t[1] = bad
        cases.append(t)
    cases.append(torch.full((3,), float("nan")))
    leaf = torch.randn(5, requires_grad=True)
    cases += [leaf, leaf * 2, (leaf * 2)[1:4], leaf.detach()[::2], torch.nn.Parameter(torch.randn(4)),
              torch.tensor(3.5, dtype=torch.float64), torch.randn(3).neg()]
    return cases


def _general(t: torch.Tensor, monkeypatch) -> dict:
    """``tensor_value`` through its general path (every tensor read below the modes)."""
    with monkeypatch.context() as patch:
        patch.setattr(values, "_small_cpu_record", lambda t: None)
        with torch._C.DisableTorchFunction(), torch._C._DisableTorchDispatch():
            return tensor_value(t)


@pytest.mark.parametrize("t", _cases(), ids=lambda t: f"{t.dtype}{list(t.shape)}")
def test_a_record_unpacks_to_what_the_general_path_gives(t, monkeypatch):
    kept = unpacked(summary_record(t))
    expected = _general(t, monkeypatch)
    # the same keys in the same order and the same numbers: the same JSON text
    assert json.dumps(kept) == json.dumps(expected)
    assert json.dumps(summary(t)) == json.dumps(expected)
    assert kept["shape"] == list(t.shape)


def test_a_small_float_record_holds_torch_numbers():
    t = torch.tensor([1.5, -2.0, 4.25], requires_grad=True) * 2
    kept = unpacked(summary_record(t))
    assert kept["data"] == t.tolist()
    assert kept["min"] == t.min().item() and kept["max"] == t.max().item()
    assert kept["mean"] == t.mean().item() and kept["std"] == t.std().item()  # torch's own
    with_nan = torch.tensor([1.0, float("nan"), 3.0])
    assert unpacked(summary_record(with_nan))["data"] == [1.0, "NaN", 3.0]


def test_the_collector_stops_tracking_small_records():
    records = [summary_record(t) for t in (torch.randn(3), torch.tensor(2.0),
                                           torch.tensor([1.0, float("inf")]))]
    assert all(type(r) is tuple for r in records)
    gc.collect()
    assert not any(gc.is_tracked(r) for r in records)
    large = summary_record(torch.randn(100))
    assert type(large) is dict  # a large tensor's summary stays the dict


def test_a_record_makes_no_graph_node():
    y = torch.ones(3, requires_grad=True) * 2
    z = torch.ones(2, 2, requires_grad=True) * 2
    before = torch._C._autograd._get_sequence_nr()
    summary_record(y)
    summary_record(z)  # the general path
    assert torch._C._autograd._get_sequence_nr() == before


def test_a_mode_the_snippet_entered_sees_none_of_the_reads():
    calls = []

    class Counting(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            calls.append(func)
            return func(*args, **(kwargs or {}))

    t = torch.randn(3)
    expected = unpacked(summary_record(t))
    with Counting():
        inside = unpacked(summary_record(t))
    assert calls == [] and inside == expected


def test_the_store_keeps_output_zero_apart_and_counts_nodes():
    store = ValueStore(limit=2)
    store.put(("op", 1, "SplitBackward0"), 1, {"b": 1})
    store.put(("op", 1, "SplitBackward0"), 0, {"a": 0})
    store.put(("op", 1, "SplitBackward0"), 0, {"a": "not kept: output 0 is known"})
    assert store.get(("op", 1, "SplitBackward0")) == {0: {"a": 0}, 1: {"b": 1}}
    assert store.has(("op", 1, "SplitBackward0"), 1) and not store.has(("op", 1, "SplitBackward0"), 2)
    store.put(("op", 2, "MulBackward0"), 0, {"c": 2})
    store.put(("op", 3, "MulBackward0"), 0, {"d": 3})  # a third node: past the limit
    store.put(("op", 1, "SplitBackward0"), 2, {"e": 4})  # nothing more, as before
    assert store.keys() == [("op", 1, "SplitBackward0"), ("op", 2, "MulBackward0")]
    assert store.get(("op", 3, "MulBackward0")) is None
    assert store.get(("op", 1, "SplitBackward0")) == {0: {"a": 0}, 1: {"b": 1}}


def test_the_store_holds_no_dict_per_node():
    store = ValueStore()
    for i in range(100):
        store.add(("op", i, "MulBackward0"), 0, torch.ones(3))
    assert len(store.keys()) == 100 and not store.others
    assert all(type(v) is tuple for v in store.first.values())


def test_see_saved_passes_over_nodes_read_to_save_no_tensor(monkeypatch):
    """A node whose saved slots were read as none (most view and pointwise nodes) is not
    looked at again; one not read is (its slots are read there)."""
    from gradstep.autograd.observe import Observer
    from gradstep.autograd.safe_reads import saved_slots

    x = torch.randn(3, requires_grad=True)
    y = x.exp()  # saves its result
    z = (y + 1).sum()  # AddBackward0 and SumBackward0 save no tensor
    nodes = [z.grad_fn, z.grad_fn.next_functions[0][0], y.grad_fn]
    looked = []
    monkeypatch.setattr(Observer, "_see_saved_of",
                        lambda self, fn, done, pending, read, found: looked.append(type(fn).__name__))
    Observer().see_saved(nodes, snippet_done=True, slots_of={fn: saved_slots(fn) for fn in nodes})
    assert looked == ["ExpBackward0"]
    looked.clear()
    Observer().see_saved(nodes, snippet_done=True)
    assert looked == ["SumBackward0", "AddBackward0", "ExpBackward0"]


def test_a_tensor_seen_again_goes_to_the_store_only_while_its_value_is_unknown(monkeypatch):
    """``Observer.see`` of a tensor whose node's output 0 is known already (``pool[a]`` of a
    wide DAG, seen at each use) makes the node's key and stops there: no ``ValueStore.add``
    call. A value not known yet, or an output past 0, still goes to ``add``; what is kept
    is as before."""
    from gradstep.autograd.observe import ITEM, OP, Observer

    observer, added = Observer(), []
    add = ValueStore.add
    monkeypatch.setattr(ValueStore, "add", lambda self, key, nr, t: added.append((key[2], nr)) or add(self, key, nr, t))
    x = torch.randn(4, requires_grad=True)
    y = observer.see(x * 2, OP)
    parts = observer.see(torch.var_mean(x), OP)  # two outputs of one node
    assert added == [("MulBackward0", 0), ("VarMeanBackward0", 0), ("VarMeanBackward0", 1)]
    pool = [y, *parts]
    for _ in range(3):  # known: no add
        observer.see(pool[0], ITEM, pool)
        observer.see(pool[1], ITEM, pool)
    observer.see(pool[2], ITEM, pool)  # output 1: add asks the store itself
    assert added[3:] == [("VarMeanBackward0", 1)]
    kept = observer.values.get(("op", y.grad_fn._sequence_nr(), "MulBackward0"))
    assert kept[0]["data"] == y.tolist()
