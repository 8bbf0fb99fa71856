"""A leaf written *during* the snippet's backward call (an optimizer step in a
``register_post_accumulate_grad_hook``, ``p.data`` in a hook): the value gradstep shows is
the leaf's at the end of the snippet, which the pass's forward did not use, and the trace
says so (``written_after`` with ``during``), checked against the same snippet run plainly."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

from gradstep.autograd.session import Session
from gradstep.drawing.style import written_text

# ``before``/``began``: the value and version torch had as the call began; the forward used them
HOOKED = """\
p = nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
q = nn.Parameter(torch.tensor([0.5, -1.0]))
opt = torch.optim.SGD([p], lr=0.1)
{hook}
loss = (p * p).sum() + (q * q).sum()
before, began = p.detach().clone(), p._version
loss.backward()
print(p._version, p.tolist(), p.grad, q._version)
"""
HOOKS = {
    "optimizer": "p.register_post_accumulate_grad_hook(lambda t: opt.step())",
    "data": ("def hook(t):\n    t.data.add_(-0.1 * t.grad)\n"
             "p.register_post_accumulate_grad_hook(hook)"),
    "zero_grad": ("def hook(t):\n    opt.step()\n    opt.zero_grad()\n"
                  "p.register_post_accumulate_grad_hook(hook)"),
}


def _plain(source: str) -> tuple[dict, str]:
    env = {"torch": torch, "nn": torch.nn}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<plain>", "exec"), env)
    return env, out.getvalue()


def _leaves(trace: dict) -> dict:
    return {node["label"]: node for node in trace["nodes"] if node["kind"] == "leaf"}


@pytest.mark.parametrize("how", sorted(HOOKS))
def test_a_leaf_a_hook_wrote_during_the_call_says_so(how):
    source = HOOKED.format(hook=HOOKS[how])
    plain, printed = _plain(source)
    assert plain["p"].tolist() != plain["before"].tolist()  # torch: written during the call
    result = Session().run(source)
    assert result["ok"], result["error"]
    assert result["output"] == printed  # the snippet did what it does under python
    leaves = _leaves(result["trace"])
    p = leaves["p"]
    assert p["value"]["data"] == plain["p"].tolist()  # the value shown: torch's, at the end
    assert p["written_after"] == {"pass_version": plain["began"],
                                  "version": plain["p"]._version, "during": True}
    assert "written_after" not in leaves["q"]  # no hook wrote it
    pill = written_text(p)
    assert pill.startswith("written during the pass")
    if plain["p"]._version != plain["began"]:
        assert pill.endswith(f"v{plain['p']._version}")


def test_a_hook_that_writes_nothing_no_field():
    source = HOOKED.format(hook="p.register_post_accumulate_grad_hook(lambda t: None)")
    plain, _ = _plain(source)
    assert plain["p"]._version == plain["began"]
    result = Session().run(source)
    assert not any("written_after" in node for node in result["trace"]["nodes"])


def test_a_step_after_the_call_is_not_during():
    """The write after the call (the usual opt.step()) keeps ``written_after`` without
    ``during``: the version the call ended at."""
    source = HOOKED.format(hook="") + "opt.step()\n"
    plain, _ = _plain(source)
    p = _leaves(Session().run(source)["trace"])["p"]
    assert p["written_after"] == {"pass_version": plain["began"], "version": plain["p"]._version}


def test_a_forward_after_the_hook_step_used_the_value_shown_no_field():
    """The drawn graph is a forward built after the call: it used the stepped value, the
    value shown."""
    source = HOOKED.format(hook=HOOKS["optimizer"]) + "loss = (p * p).sum() + (q * q).sum()\n"
    plain, _ = _plain(source)
    result = Session().run(source)
    p = _leaves(result["trace"])["p"]
    assert p["value"]["data"] == plain["p"].tolist()
    assert "written_after" not in p


def test_an_inference_tensor_leaf_the_call_runs_as_under_python():
    """An inference tensor keeps no version counter (reading ``_version`` raises): the notes
    as the call begins and after it leave it out rather than fail the snippet's call."""
    source = ("with torch.inference_mode():\n"
              "    w = torch.ones(3, requires_grad=True)\n"
              "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
              "loss = (x * 2 + w).sum()\n"
              "loss.backward()\n"
              "print(w.is_inference(), x.grad, w.grad)\n")
    _, printed = _plain(source)
    result = Session().run(source)
    assert result["ok"], result["error"]
    assert result["output"] == printed
    assert not any("written_after" in node for node in result["trace"]["nodes"])


def test_the_leaves_norms_are_torch_s_vector_norm_of_each():
    """``_norms`` takes the CPU leaves' norms in one ``_foreach_norm``: each is the very
    tensor ``vector_norm`` gives for that leaf alone (dtype, bits, NaN, inf), and a leaf with
    no norm to take (integers, meta, memory freed or cut short) has None in its place."""
    from gradstep.autograd.pass_versions import _norms

    torch.manual_seed(0)
    freed, cut, stepped = torch.ones(4), torch.ones(6), torch.ones(8)
    leaves = [torch.randn(3, 4), torch.randn(5, dtype=torch.float64), torch.randn(4, 5).t(),
              torch.randn(2, 2, dtype=torch.complex64), torch.randn(7).half(),
              torch.randn(6).bfloat16(), torch.empty(0), torch.arange(3), torch.ones(2, device="meta"),
              freed, torch.tensor([float("nan"), 1.0]), torch.tensor([float("inf"), 1.0]),
              torch.randn(50_000), cut, torch.randn(3, 4)[1:], stepped[::2],
              torch.tensor(2.5, dtype=torch.float64), torch.randn(300, 200).t()[5:]]
    freed.untyped_storage().resize_(0)
    cut.untyped_storage().resize_(8)  # two of its six floats
    stepped.untyped_storage().resize_(20)  # 5 floats: its 4 elements span 7
    norms = _norms(leaves)
    none = {7, 8, 9, 13, 15}
    assert [i for i, n in enumerate(norms) if n is None] == sorted(none)
    for i, (leaf, norm) in enumerate(zip(leaves, norms)):
        if i not in none:
            own = torch.linalg.vector_norm(leaf)
            assert norm.dtype == own.dtype and norm.shape == own.shape
            assert torch.equal(norm, own) or (norm.isnan() and own.isnan())


PAIR = """\
p = nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
opt = torch.optim.SGD([p], lr=0.1)
handle = p.register_post_accumulate_grad_hook(lambda t: opt.step())
loss = (p * 3).sum()
before, began = p.detach().clone(), p._version
loss.backward(retain_graph=True)
{between}
loss.backward()
print(p._version, p.tolist(), p.grad)
"""


@pytest.mark.parametrize("between", ["handle.remove()", "pass"])
def test_a_write_during_the_first_call_of_a_retain_graph_pair_is_kept(between):
    """The second call of a ``retain_graph=True`` pair runs over the same forward: its note
    began at the written value, and replaced the first call's (no field, where torch's
    forward used ``began``). The field reads the first call after the forward."""
    source = PAIR.format(between=between)
    plain, printed = _plain(source)
    assert plain["p"].tolist() != plain["before"].tolist()
    result = Session().run(source)
    assert result["output"] == printed
    p = _leaves(result["trace"])["p"]
    assert p["value"]["data"] == plain["p"].tolist()
    assert p["written_after"] == {"pass_version": plain["began"],
                                  "version": plain["p"]._version, "during": True}
    session = Session()
    session.run(source)
    (stats,) = session.grad_stats()["params"]
    assert stats["written_after"] and stats["written_during"]  # check's table, alike


def test_a_write_between_the_calls_of_a_pair_is_after_the_first():
    source = PAIR.format(between="handle.remove()\nopt.step()").replace(
        "lambda t: opt.step()", "lambda t: None")
    plain, _ = _plain(source)
    p = _leaves(Session().run(source)["trace"])["p"]
    assert p["written_after"] == {"pass_version": plain["began"], "version": plain["p"]._version}
