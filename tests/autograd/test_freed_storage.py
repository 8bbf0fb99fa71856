"""A leaf whose memory was freed during the pass (FSDP resizes an unsharded parameter's
storage to 0 bytes after backward, the tensor kept as the graph's leaf): reading it reads
memory torch no longer owns, a segfault with no error. gradstep's note of the leaves after
a recorded call (``pass_versions.note``: their norm) read it, and the kernel crashed at the
snippet's ``loss.backward()`` where python ran on (fidhunt3; conformance case
``fsdp_one_process``)."""

from __future__ import annotations

import torch

from gradstep.autograd.safe_reads import storage_holds
from gradstep.autograd.session import Session

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


def test_a_leaf_freed_during_the_pass_is_not_read():
    plain = {"torch": torch}
    exec(compile(FREED, "<plain>", "exec"), plain)
    result = Session().run(FREED, root="loss")
    assert result["ok"], result["error"]
    assert result["output"] == f"freed 0 grad {plain['w'].grad.tolist()}\n"
    leaf = next(n for n in result["trace"]["nodes"] if n["kind"] == "leaf")
    assert leaf["label"] == "w" and leaf["value"] is None  # nothing of it to read
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
