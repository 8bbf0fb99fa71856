"""The oracle's second watching mechanism (``oracle_record``: a TorchFunctionMode),
its saved-tensor reads, and how the oracle merges what its watched runs saw.

Each mechanism is checked against torch directly: the recorder keys values by
the node torch made, at the moment torch made it; it never reads an input it did
not change (a stale view's node would be rebuilt); warnings keep the location
they have without it; its values are refused when the mode changed what the case
did; two sources that disagree are reported, not merged.
"""

from __future__ import annotations

import sys
import warnings

import torch
import torch.nn.functional as F
from case_runs import oracle_facts_of
from oracle_observe import Observer
from oracle_record import Recorder
from oracle_values import merge
from torch._C._autograd import _get_sequence_nr


def test_it_sees_an_intermediate_that_no_name_holds():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    recorder = Recorder()
    with recorder.active():
        loss = ((x * 2) ** 2).sum()
    pow_fn = loss.grad_fn.next_functions[0][0]
    mul_fn = pow_fn.next_functions[0][0]
    assert (pow_fn.name(), mul_fn.name()) == ("PowBackward0", "MulBackward0")
    assert recorder.values[(pow_fn, 0)][1]["data"] == [4.0, 16.0, 36.0]
    assert recorder.values[(mul_fn, 0)][1]["data"] == [2.0, 4.0, 6.0]
    assert recorder.values[(loss.grad_fn, 0)][1]["data"] == 56.0


def test_in_place_ops_give_each_node_its_own_value():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    recorder = Recorder()
    with recorder.active():
        a = x * 1.0
        first = a.grad_fn
        a.add_(1.0)
        a.mul_(3.0)  # the AddBackward0 node's output changes here: its value stays [2, 3]
    add_fn = a.grad_fn.next_functions[0][0]
    versions = {fn.name() + str(i): (version, value["data"])
                for i, ((fn, _), (version, value)) in enumerate(recorder.values.items())}
    assert versions == {"MulBackward00": (0, [1.0, 2.0]), "AddBackward01": (1, [2.0, 3.0]),
                        "MulBackward02": (2, [6.0, 9.0])}
    assert list(recorder.values) == [(first, 0), (add_fn, 0), (a.grad_fn, 0)]


def test_an_input_returned_unchanged_is_not_read():
    x = torch.arange(6.0, requires_grad=True)
    b = x * 1.0
    v = b[1:4]
    b.mul_(2.0)  # v is stale: reading its grad_fn would rebuild its node
    recorder = Recorder()
    before = _get_sequence_nr()
    with recorder.active():
        same = v.contiguous()  # returns v itself
    assert same is v
    assert _get_sequence_nr() == before
    assert recorder.values == {}


def test_a_view_changed_in_place_is_read_only_where_torch_rebuilt_its_node():
    x = torch.arange(6.0, requires_grad=True)
    v = (x * 1.0)[1:4]
    recorder = Recorder()
    with recorder.active():
        with torch.no_grad():
            v.mul_(2.0)  # no node made: v is stale now
        before = _get_sequence_nr()
        torch.nn.init.zeros_(v)  # a Python function changing v under no_grad inside
        assert _get_sequence_nr() == before  # v's node was not rebuilt by reading it
        v.add_(1.0)  # grad mode: torch rebases v's history during the call
    assert [(fn.name(), value["data"]) for (fn, _), (_, value) in recorder.values.items()] == [
        ("AsStridedBackward0", [1.0, 1.0, 1.0])]


def test_a_node_made_inside_one_call_is_not_seen():
    x = torch.randn(3, 4, requires_grad=True)
    w = torch.randn(2, 4, requires_grad=True)
    recorder = Recorder()
    with recorder.active():
        y = F.linear(x, w)
    t_fn = y.grad_fn.next_functions[1][0]
    assert (y.grad_fn.name(), t_fn.name()) == ("MmBackward0", "TBackward0")
    assert [fn.name() for fn, _ in recorder.values] == ["MmBackward0"]


def test_warnings_keep_the_location_they_have_without_the_mode():
    x = torch.randn(2, 3, requires_grad=True)
    y = x * 2
    recorder = Recorder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with recorder.active():
            line = sys._getframe().f_lineno + 1
            y.grad  # noqa: B018  (torch warns from C++: a non-leaf's .grad)
            F.softmax(y)  # a Python function warning with stacklevel
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line), (__file__, line + 1)]


def test_the_fallback_takes_the_mode_off_inside_modules():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, t):
            seen.append(torch._C._is_torch_function_mode_enabled())
            return t * 2

    x = torch.ones(2, requires_grad=True)
    recorder = Recorder(outside_modules=True)
    with recorder.active():
        out = Probe()(x)
        seen.append(torch._C._is_torch_function_mode_enabled())
        loss = out.pow(2).sum()
    assert seen == [False, True]
    names = sorted(fn.name() for fn, _ in recorder.values)
    assert names == ["MulBackward0", "PowBackward0", "SumBackward0"]  # the module output too
    assert torch._C._len_torch_function_stack() == 0
    assert loss.item() == 8.0


def test_saved_tensors_are_read_only_without_an_unpack_hook():
    unpacked = []
    x = torch.randn(3, 4, requires_grad=True)
    w = torch.randn(2, 4, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        hooked = (x * 2).exp()  # ExpBackward0 saves its result through the hooks
    y = F.linear(hooked, w)  # MmBackward0 saves the view w.t() (TBackward0's output) plainly
    loss = y.sum()
    id_of = {fn: i for i, fn in enumerate(_nodes(loss.grad_fn))}
    observer = Observer("<none>", saved=True)
    observer.read_saved(id_of)
    assert unpacked == []  # ExpBackward0's hooked result was left alone
    t_fn = y.grad_fn.next_functions[1][0]
    assert observer.values[(t_fn, 0)][1]["data"] == w.t().tolist()


def _nodes(root) -> list:
    found, stack = [], [root]
    while stack:
        fn = stack.pop()
        if fn is not None and fn not in found:
            found.append(fn)
            stack.extend(nxt for nxt, _ in fn.next_functions)
    return found


def test_merge_keeps_agreeing_values_and_reports_disagreements():
    one = {"shape": [2], "dtype": "float32", "nan": 0, "inf": 0, "min": 1.0, "max": 2.0,
           "mean": 1.5, "std": 0.7, "data": [1.0, 2.0]}
    other = {**one, "max": 2.5, "data": [1.0, 2.5]}
    values, sources, disagreements = merge({
        "full": {"n1": {"0": one}, "n2": {"0": one}},
        "mode": {"n1": {"0": dict(one)}, "n2": {"0": other}, "n3": {"0": other}}})
    assert values == {"n1": {"0": one}, "n2": {}, "n3": {"0": other}}
    assert sources == {"n1": {"0": ["full", "mode"]}, "n2": {}, "n3": {"0": ["mode"]}}
    assert disagreements == ["n2 output 0: full and mode disagree (max 2.0 vs 2.5)"]




def test_the_oracle_confirms_an_unnamed_intermediate_with_the_mode(tmp_path):
    facts = oracle_facts_of(tmp_path, (
        "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x * 3\n"
        "loss = y.pow(2).sum()\nloss.backward()\nloss\n"))
    assert [n["name"] for n in facts["minimal"]["graph"]["nodes"][:3]] == [
        "SumBackward0", "PowBackward0", "MulBackward0"]
    assert facts["recorded"]["level"] == "mode" and facts["notes"] == []
    assert facts["values"]["n1"]["0"]["data"] == [9.0, 36.0]  # y.pow(2): torch's value
    assert facts["value_sources"]["n1"]["0"] == ["mode"]  # the trace function cannot see it
    assert facts["value_sources"]["n2"]["0"] == ["full", "mode"]  # y: both, and they agree
    assert facts["disagreements"] == []


def test_the_oracle_refuses_mode_values_when_the_mode_changed_the_run(tmp_path):
    facts = oracle_facts_of(tmp_path, (
        "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "print('mode:', torch._C._is_torch_function_mode_enabled())\n"
        "loss = (x * 3).pow(2).sum()\nloss\n"))
    assert facts["minimal"]["output"] == "mode: False\n"
    assert facts["recorded"] is None
    assert [note.split(":")[0] for note in facts["notes"]] == [
        "level mode not used", "level mode_outside_modules not used",
        "node values come from the full run only"]
    assert "n1" not in facts["values"]  # the pow: only the refused runs saw it
    assert all(sources == ["full"] for outputs in facts["value_sources"].values()
               for sources in outputs.values())


def test_the_oracle_falls_back_to_the_mode_outside_modules(tmp_path):
    facts = oracle_facts_of(tmp_path, (
        "import torch\n\n\nclass Probe(torch.nn.Module):\n"
        "    def forward(self, t):\n"
        "        print('mode:', torch._C._is_torch_function_mode_enabled())\n"
        "        return t * 2\n\n\n"
        "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "loss = Probe()(x).pow(2).sum()\nloss\n"))
    assert facts["recorded"]["level"] == "mode_outside_modules"
    assert [note.split(":")[0] for note in facts["notes"]] == ["level mode not used"]
    assert facts["values"]["n1"]["0"]["data"] == [4.0, 16.0]
    assert facts["value_sources"]["n1"]["0"] == ["mode_outside_modules"]
