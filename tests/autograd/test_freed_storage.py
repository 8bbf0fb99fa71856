"""A leaf whose memory was freed during the pass (FSDP resizes an unsharded parameter's
storage to 0 bytes after backward, the tensor kept as the graph's leaf): reading it reads
memory torch no longer owns, a segfault with no error. gradstep's note of the leaves after
a recorded call (``pass_versions.note``: their norm) read it, and the kernel crashed at the
snippet's ``loss.backward()`` where python ran on (fidhunt3; conformance case
``fsdp_one_process``)."""

from __future__ import annotations

import torch

from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.safe_reads import storage_holds
from gradstep.autograd.session import Session
from gradstep.autograd.values import compact

FREED = """\
w = torch.ones(3, requires_grad=True)
loss = (w * 2).sum()


def free_after(p):
    with torch.no_grad():
        p.untyped_storage().resize_(0)  # as FSDP frees an unsharded parameter


w.register_post_accumulate_grad_hook(free_after)
loss.backward()
print("freed", w.untyped_storage().nbytes(), "grad", w.grad.tolist())
"""


def _plain_and_gradstep(source: str, root: str) -> tuple[dict, dict]:
    """Return the namespace of ``source`` run as python runs it, and gradstep's run of it."""
    plain = {"torch": torch}
    exec(compile(source, "<plain>", "exec"), plain)
    result = Session().run(source, root=root)
    assert result["ok"], result["error"]
    return plain, result


def test_a_leaf_freed_during_the_pass_is_not_read():
    plain, result = _plain_and_gradstep(FREED, "loss")
    assert result["output"] == f"freed 0 grad {plain['w'].grad.tolist()}\n"
    leaf = next(n for n in result["trace"]["nodes"] if n["kind"] == "leaf")
    assert leaf["label"] == "w"  # its shape, nothing of its memory
    assert leaf["value"] == {"shape": [3], "dtype": "float32", "device": "cpu"}
    (call,) = result["calls"]
    assert [s["name"] for s in call["timeline"]["steps"]] == ["SumBackward0", "MulBackward0",
                                                              "AccumulateGrad"]


def test_storage_holds_what_torch_can_read():
    t = torch.arange(12.0).reshape(3, 4)
    assert storage_holds(t) and storage_holds(t[1:, 2:]) and storage_holds(t.t())
    assert storage_holds(torch.ones(1).expand(5, 3)) and storage_holds(torch.ones(0))
    assert storage_holds(torch.ones(3, device="meta"))
    freed = torch.ones(4)
    view = freed[2:]
    freed.untyped_storage().resize_(0)
    assert not storage_holds(freed) and not storage_holds(view)
    short = torch.ones(4)
    short.untyped_storage().resize_(8)  # two of its four floats
    assert not storage_holds(short) and storage_holds(short[:2])


def test_storage_holds_given_the_count_answers_as_without_it():
    """``storage_holds(t, n)`` (a strided tensor, not meta, of ``n`` elements: the callers'
    short form, docs/speed.md item 75) answers what ``storage_holds(t)`` answers, for
    contiguous, permuted, stepped, expanded, offset, empty, freed and cut-short tensors."""
    base = torch.arange(24.0).reshape(4, 6)
    freed, short = torch.ones(6, 4), torch.ones(24)
    tensors = [base, base.t(), base[:, ::2], base[1:, 2:], base[2:], base[3:, :0],
               torch.ones(1).expand(5, 3), torch.ones(0), base.view(-1)[5:], freed, freed[2:],
               freed.t(), freed[2:, :0], short, short[:6], short[4:20].view(4, 4).t(), short[20:]]
    freed.untyped_storage().resize_(0)
    short.untyped_storage().resize_(40)  # ten of its 24 floats
    answers = [storage_holds(t) for t in tensors]
    assert [storage_holds(t, t.numel()) for t in tensors] == answers
    assert answers.count(False) == 6  # (the freed three; the cut one and two views past the cut)


# FSDP's pattern between forward and backward: the parameter's memory freed after forward
# (the graph keeps it, saved by the mul) and brought back by a hook before the node runs.
# gradstep called MulBackward0 before the pass (its Jacobian, ``jacobian.precompute``),
# reading the freed memory: the kernel crashed where python printed the gradients.
RESTORED = """\
w = torch.ones(4, requires_grad=True)
x = torch.arange(4.0, requires_grad=True)
y = (w * x).sum()
keep = w.detach().clone()
with torch.no_grad():
    w.untyped_storage().resize_(0)


def restore(g):
    w.untyped_storage().resize_(16)
    w.data.copy_(keep)  # (.data: the saved w's version stays torch's)
    return g


y.register_hook(restore)
y.backward()
print("grads", x.grad.tolist(), w.grad.tolist())
"""


def test_a_node_whose_saved_memory_is_freed_until_its_pass_is_not_called():
    plain, result = _plain_and_gradstep(RESTORED, "y")
    assert result["output"] == f"grads {plain['x'].grad.tolist()} {plain['w'].grad.tolist()}\n"
    (call,) = result["calls"]
    assert len(call["timeline"]["steps"]) == 4  # Sum, Mul, and the two leaves' AccumulateGrad


# A forward whose parameter was freed after it (FSDP's reshard, here by hand), its graph
# kept: the trace summarised the leaf's 100 elements (``value_rows``) and ``grad_stats``
# took its norm, both from freed memory (segfaults).
FREED_LARGE = """\
w = torch.ones(100, requires_grad=True)
x = torch.arange(100.0, requires_grad=True)
y = (w * x).sum()
with torch.no_grad():
    w.untyped_storage().resize_(0)
"""


def test_a_large_leaf_freed_after_forward_is_not_read():
    session = Session()
    result = session.run(FREED_LARGE, root="y")
    assert result["ok"], result["error"]
    values = {n["label"]: n["value"] for n in result["trace"]["nodes"] if n["kind"] == "leaf"}
    assert values["w"] == {"shape": [100], "dtype": "float32", "device": "cpu"}
    x = torch.arange(100.0)
    assert values["x"]["mean"] == x.mean().item() and values["x"]["max"] == 99.0
    stats = {p["label"]: p for p in session.grad_stats()["params"]}
    assert stats["w"]["weight_norm"] is None
    assert stats["x"]["weight_norm"] == torch.linalg.vector_norm(x).item()


def test_freed_gradients_are_summarised_without_their_memory():
    small, large, kept = torch.ones(3), torch.ones(100), torch.arange(100.0)
    view = large[10:]
    small.untyped_storage().resize_(0)
    large.untyped_storage().resize_(0)
    shown = plain_values([small, large, kept, view])
    assert shown[:2] == [{"shape": [3], "dtype": "float32", "device": "cpu"},
                         {"shape": [100], "dtype": "float32", "device": "cpu"}]
    assert shown[2] == compact(kept) and shown[3] == {"shape": [90], "dtype": "float32",
                                                      "device": "cpu"}


def test_partly_freed_gradients_in_every_path_of_the_summary():
    """``plain_values`` asks a dense tensor's storage for its ``n`` elements from its offset
    (``dense_storage_holds``), and a tensor with gaps (or a layout's first permuted one) the whole
    ``storage_holds``: each shows what ``compact`` shows, and one whose memory is gone or cut
    short shows no values."""
    torch.manual_seed(0)
    transposed, twin = torch.randn(30, 40), torch.randn(30, 40)
    base, small, gaps = torch.randn(200), torch.randn(2, 5), torch.randn(4, 6)
    lone, short = torch.randn(12, 9), torch.randn(11, 8)  # the first (and only) of their layout
    tensors = [twin.t(), transposed.t(),  # rows in memory order (permuted), the same layout
               base, base[50:], base[50:150], base[:150].view(10, 15).t(), small, small[:1],
               small[1:], small[:1, 1:4], small[:, :2], gaps[:2, ::2], gaps[:, ::2],
               lone.t(), short.t()]
    transposed.untyped_storage().resize_(0)
    lone.untyped_storage().resize_(0)
    short.untyped_storage().resize_(40 * 4)  # 5 of its 11 rows
    base.untyped_storage().resize_(150 * 4)  # the first 150 of its 200 floats
    small.untyped_storage().resize_(5 * 4)
    gaps.untyped_storage().resize_(12 * 4)
    shown = plain_values(tensors)
    assert shown == [compact(t) for t in tensors]
    readable = [storage_holds(t) for t in tensors]
    assert readable == [True, False, False, False, True, True, False, True, False, True, False,
                        True, False, False, False]
    assert [isinstance(v, list) or "min" in v for v in shown] == readable


SHRUNK = """\
w = torch.ones({n}, requires_grad=True)
v = w.detach()[::{step}]  # a strided view, summarised at its op
loss = (w * 2).sum()
with torch.no_grad():
    w.untyped_storage().resize_({keep})  # shrunk by hand, not emptied
print("kept", w.untyped_storage().nbytes())
"""


def test_a_small_leaf_whose_storage_was_shrunk_is_not_read_past_its_end():
    """A 1-D float leaf of 10 elements whose storage keeps 8 bytes (2 elements): its trace
    value read all 10 (``values._small_cpu_record``: ``tolist()`` reads past the storage's
    end, memory torch no longer owns). It is its shape, dtype and device, as an emptied
    one's; a view of the shrunk storage (every other element) the same."""
    for n, step, keep in ((10, 1, 8), (10, 2, 12)):
        source = SHRUNK.format(n=n, step=step, keep=keep)
        plain, result = _plain_and_gradstep(source, "loss")
        assert result["output"] == f"kept {plain['w'].untyped_storage().nbytes()}\n"
        assert not storage_holds(plain["w"])  # torch: fewer bytes than its elements span
        leaf = next(n for n in result["trace"]["nodes"] if n["kind"] == "leaf")
        assert leaf["value"] == {"shape": [n], "dtype": "float32", "device": "cpu"}
    t = torch.ones(10)
    view = t[::3]  # spans elements 0 to 9
    t.untyped_storage().resize_(36)  # 9 elements: the view's last one is past the end
    assert not storage_holds(view)
    from gradstep.autograd.values import summary_record, tensor_value

    assert tensor_value(view) == {"shape": [4], "dtype": "float32", "device": "cpu"}
    assert summary_record(view) == tensor_value(view)
    whole = torch.arange(4.0)[1:]
    assert summary_record(whole)[8:] == (1.0, 2.0, 3.0)  # one that holds: read as before
