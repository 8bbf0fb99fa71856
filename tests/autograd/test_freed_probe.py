"""The freed-buffer probe after a pass reuses what the probe before it found held: a slot
seen holding its tensor and now empty is freed, told without unpacking it (torch would raise
its "second time" error to say so), and the answer is the full probe's."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gradstep.autograd import safe_reads
from gradstep.autograd.backward import record_backward
from gradstep.autograd.frame_names import graph_ids
from gradstep.autograd.leaves_and_freed import freed_node_ids, id_number


class Saving(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x, None)
        return x * 3

    @staticmethod
    def backward(ctx, grad):
        x, _ = ctx.saved_tensors
        return grad * 3 + x * 0


def _graph():
    """A loss whose nodes save tensors (alive), save Nones (batch_norm without weight or
    running stats), save through a pack hook, save in a custom Function, or save nothing."""
    x = torch.randn(4, 3, requires_grad=True)
    w = torch.randn(3, requires_grad=True)
    h = F.batch_norm(x * w, None, None, training=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
        h = h.sin()
    return (Saving.apply(h).exp() + 1).sum()


def _counting_unpacks(monkeypatch) -> list:
    calls = []
    original = safe_reads._freed_or_unsaved

    def counted(node, attr, index):
        state = original(node, attr, index)
        calls.append((type(node).__name__, attr, state))
        return state
    monkeypatch.setattr(safe_reads, "_freed_or_unsaved", counted)
    return calls


def test_the_probe_after_a_pass_tells_freed_slots_without_unpacking(monkeypatch):
    loss = _graph()
    id_of = graph_ids([loss])
    held: dict = {}
    assert freed_node_ids(id_of, held) == []
    assert held  # the nodes whose first saved tensor was found held
    loss.backward()
    calls = _counting_unpacks(monkeypatch)
    freed = freed_node_ids(id_of, held)
    # no node seen holding its tensor was unpacked to learn it (a pack hook's node was
    # seen holding none: it is probed as before)
    assert [c[0] for c in calls if c[2] == "freed"] == ["SinBackward0"]
    assert freed == freed_node_ids(id_of)  # the full probe (unpacking) says the same
    assert len([c for c in calls if c[2] == "freed"]) > 1  # ... which had to unpack to say so
    names = {id_of[fn]: type(fn).__name__ for fn in id_of}
    assert {names[n] for n in freed} >= {"MulBackward0", "NativeBatchNormBackward0",
                                         "ExpBackward0", "SavingBackward"}


def test_the_held_probe_agrees_after_a_pass_that_retains_the_graph():
    loss = _graph()
    id_of = graph_ids([loss])
    held: dict = {}
    freed_node_ids(id_of, held)
    loss.backward(retain_graph=True)
    assert freed_node_ids(id_of, held) == freed_node_ids(id_of) == []


def test_a_recorded_pass_reports_the_freed_nodes_without_unpacking_them(monkeypatch):
    loss = _graph()
    id_of = graph_ids([loss])
    calls = _counting_unpacks(monkeypatch)
    record = record_backward(loss, id_of)
    assert record["error"] is None and record["freed_nodes"]
    assert [c[0] for c in calls if c[2] == "freed"] == ["SinBackward0"]
    assert record["freed_nodes"] == freed_node_ids(id_of)
    assert {s["node"] for s in record["steps"] if s["freed"]} == set(record["freed_nodes"])


def test_the_snippets_own_backward_call_reports_freed_nodes_without_unpacking_them(monkeypatch):
    from gradstep.autograd import calls as calls_module
    from gradstep.autograd.session import Session

    unpacks = _counting_unpacks(monkeypatch)
    in_record = []  # what was unpacked while the call's record was made (its freed probe)
    pass_record = calls_module.pass_record

    def recording(**kwargs):
        start = len(unpacks)
        try:
            return pass_record(**kwargs)
        finally:
            in_record.extend(unpacks[start:])
    monkeypatch.setattr(calls_module, "pass_record", recording)
    result = Session().run("x = torch.randn(3, requires_grad=True)\n"
                           "y = (x * x).exp().sum()\n"
                           "y.backward()\n", filename="<snippet>")
    (call,) = result["calls"]
    timeline = call["timeline"]
    assert timeline["error"] is None and len(timeline["freed_nodes"]) == 2  # mul, exp
    assert {s["name"] for s in timeline["steps"] if s["freed"]} == {"MulBackward0", "ExpBackward0"}
    assert not [c for c in in_record if c[2] == "freed"]


def test_a_slot_that_holds_its_tensor_is_read_without_the_slot_walk(monkeypatch):
    """Both probes answer for a node whose first saved slot holds its tensor (before the
    pass) or was seen holding it (after) from that slot alone, as the full probe does."""
    from gradstep.autograd import leaves_and_freed

    loss = _graph()
    id_of = graph_ids([loss])
    expected_before, expected_held = _walked(id_of)
    walked = []
    original = leaves_and_freed.iter_saved_slots

    def counted(node, held=None):
        walked.append(type(node).__name__)
        return original(node, held)
    monkeypatch.setattr(leaves_and_freed, "iter_saved_slots", counted)
    held: dict = {}
    assert freed_node_ids(id_of, held) == expected_before == []
    assert held == expected_held  # the slots the walk notes
    # walked: the custom Function (a list of slots), the pack hook's node, batch_norm's
    # (its first slot in name order holds a tensor: not walked)
    assert "MulBackward0" not in walked and "ExpBackward0" not in walked
    assert "NativeBatchNormBackward0" not in walked
    assert {"SavingBackward", "SinBackward0"} <= set(walked)
    assert all(where[1] is None for where in held.values())
    loss.backward(retain_graph=True)  # held still: not freed, read from the slot alone
    walked.clear()
    assert freed_node_ids(id_of, held) == _walked(id_of)[0] == []
    assert "MulBackward0" not in walked and "ExpBackward0" not in walked
    loss.backward()
    walked.clear()
    freed = freed_node_ids(id_of, held)
    assert "MulBackward0" not in walked and "ExpBackward0" not in walked
    assert freed == _walked(id_of)[0] != []  # the full walk (unpacking) says the same


def _walked(id_of: dict) -> tuple[list, dict]:
    """The full slot walk's answer (``is_freed`` on 3348413, no shortcut): the freed node
    ids, and the slot ``held`` notes for each node (its first slot read holding data)."""
    freed, held = [], {}
    for fn, node_id in id_of.items():
        for slot in safe_reads.iter_saved_slots(fn):
            if slot.state != "unsaved":
                if slot.data is not None and not safe_reads.is_python_node(fn):
                    held[fn] = (slot.attr, slot.index)
                if slot.state == "freed":
                    freed.append(node_id)
                break
    return sorted(freed, key=id_number), held
