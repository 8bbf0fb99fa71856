"""Plain saved values read as torch holds them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gradstep.autograd.saved import refusals_now, saved_items


def test_an_int64_that_torch_hands_out_unsigned_reads_as_torch_holds_it():
    """NllLossBackward0 saves ignore_index=-100 (int64); its binding reads 2**64 - 100."""
    x = torch.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, torch.tensor([0, 1]))
    assert loss.grad_fn._saved_ignore_index == 2**64 - 100  # torch's binding, as it is today
    values = {item["name"]: item.get("value") for item in saved_items(loss.grad_fn)}
    assert values["ignore_index"] == -100
    assert values["reduction"] == 1


def test_plain_saved_values_are_what_the_general_conversion_gives():
    from gradstep.autograd.saved import _plain_saved, _signed
    from gradstep.autograd.values import to_jsonable

    cases = [3, -3, 2**63, 2**64 - 100, 2**64, True, 1.5, None, [], (), [1, -2, 3], (4, 5),
             [2**64 - 1, 2], (1, True), [1, 2.0], [[1, 2], [3]], (torch.float32, 1), "mean",
             torch.tensor([1.0, 2.0])]
    for saved in cases:
        assert _plain_saved(saved) == to_jsonable(_signed(saved)), saved
        assert type(_plain_saved(saved)) is type(to_jsonable(_signed(saved))), saved


def _torch_versions(run) -> tuple[int, int]:
    """Return (version now, version saved) as torch's own error on ``run()`` says them."""
    import re

    try:
        run()
    except RuntimeError as exc:
        found = re.search(r"is at version (\d+); expected version (\d+) instead", str(exc))
        assert found, str(exc)
        return int(found[1]), int(found[2])
    raise AssertionError("torch did not refuse the changed saved tensor")


def _changed(items: list) -> dict:
    return {i["name"]: (i["version"], i["saved_version"]) for i in items
            if i.get("changed_in_place")}


def test_a_saved_input_changed_in_place_shows_torchs_versions_and_the_probe_changes_nothing():
    a = torch.ones(3, requires_grad=True)
    b = a * 2
    c = b.sin()
    b.add_(1)
    b.mul_(3)
    items = saved_items(c.grad_fn)
    assert _changed(items) == {"self": (2, 0)}
    assert items[0]["freed"] is False and items[0]["shape"] == [3]
    assert _changed(saved_items(c.grad_fn, values=True, snippet_done=True)) == {"self": (2, 0)}
    # what torch says on the snippet's own backward, after the probes: the same numbers
    assert _torch_versions(lambda: c.sum().backward()) == (2, 0)
    assert a.grad is None and b._version == 2


def test_a_saved_output_changed_in_place_shows_torchs_versions():
    """The inplace lesson of the walk: SigmoidBackward0 saved its result, then b.mul_(2)."""
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a.sigmoid()
    sig = b.grad_fn
    b.mul_(2)
    assert _changed(saved_items(sig)) == {"result": (1, 0)}
    assert _torch_versions(lambda: b.sum().backward()) == (1, 0)


def test_a_tensor_changed_before_it_was_saved_is_alive_and_backward_runs_as_in_torch():
    a = torch.ones(3, requires_grad=True)
    b = a * 2
    b.add_(1)  # version 1, then saved at version 1
    c = b.sin()
    items = saved_items(c.grad_fn)
    assert _changed(items) == {} and items[0]["freed"] is False
    c.sum().backward()
    assert torch.equal(a.grad, 2 * torch.cos(torch.full((3,), 3.0)))


def test_a_hooked_saved_tensor_is_not_unpacked_to_tell_its_version():
    unpacked = []
    a = torch.ones(3, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        b = a * 2
        c = b.sin()
    b.add_(1)
    items = saved_items(c.grad_fn)
    assert unpacked == [] and _changed(items) == {} and items[0].get("hooked")


def test_a_freed_saved_tensor_is_freed_not_changed():
    a = torch.ones(3, requires_grad=True)
    b = a * 2
    c = b.sin()
    c.sum().backward()
    b.add_(1)
    assert saved_items(c.grad_fn) == [{"name": "self", "freed": True}]


DETACHED = "Trying to use a saved tensor that has been detached in-place"


def _torch_refuses_detached(run) -> bool:
    try:
        run()
    except RuntimeError as exc:
        return DETACHED in str(exc)
    return False


def test_a_saved_input_detached_in_place_shows_what_torch_says():
    """``b.add_(1); b.detach_()``: torch's backward raises its detach error, not the version
    one the Python getter reaches (it hands torch the node); without add_ too (core8)."""
    a = torch.ones(3, requires_grad=True)
    b = a * 2
    c = b.sin()
    b.add_(1)
    b.detach_()
    b2 = a * 3
    c2 = b2.cos()
    b2.detach_()
    for node in (c.grad_fn, c2.grad_fn):
        (item,) = saved_items(node)
        assert item.get("detached_in_place") and "changed_in_place" not in item, item
    assert _torch_refuses_detached(lambda: c.sum().backward())
    assert _torch_refuses_detached(lambda: c2.sum().backward())


def test_a_saved_output_or_a_plain_input_without_grad_is_not_taken_for_detached():
    a = torch.ones(3, requires_grad=True)
    e = a.exp()
    exp = e.grad_fn
    w = torch.ones(3)  # saved by MulBackward0, never required grad
    y = a * w
    assert all("detached_in_place" not in i for i in saved_items(exp) + saved_items(y.grad_fn))
    e.mul_(2)
    assert _changed(saved_items(exp)) == {"result": (1, 0)}
    y.sum().backward()
    assert torch.equal(a.grad, w)


class _Both(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * x


def test_a_custom_functions_saved_tensor_changed_in_place_shows_torchs_versions():
    """Its slots unpack together (``ctx.saved_tensors``): probed where only one reads a
    version past 0 and none has a hook (core8)."""
    a = torch.ones(3, requires_grad=True)
    x, y = a * 1, a * 3
    z = _Both.apply(x, y)
    y.add_(1)
    y.add_(1)
    assert _changed(saved_items(z.grad_fn)) == {"saved_tensors[1]": (2, 0)}
    assert _torch_versions(lambda: z.sum().backward()) == (2, 0)
    assert a.grad is None and y._version == 2
    x.add_(1)  # two changed: torch's error names neither by slot, so neither is claimed
    assert _changed(saved_items(z.grad_fn)) == {}


def test_the_pass_probe_finds_an_input_detached_beside_a_constant_the_node_did_not_save():
    """``addcmul(c, t1, t2)``, ``c`` a constant: its edge leads nowhere, and the node saves
    ``tensor1`` and ``tensor2``, not ``c``. With ``t1`` detached in place the pass's probe
    (``refusals_now``) finds it, as the trace's does and as torch's backward refuses it
    (review of core8: counting edges to nowhere took ``c``'s edge for ``t1``'s and the pass
    showed ``t1`` as torch would take it). A constant saved input and a Python number torch
    wrapped are not taken for detached."""
    x = torch.ones(3, requires_grad=True)
    t1, t2 = x * 2, x * 3
    out = torch.addcmul(torch.zeros(3), t1, t2)
    plain = (x * 2) * torch.ones(3) * 1.0001
    t1.detach_()
    ids = {out.grad_fn: "n0", plain.grad_fn: "n1", plain.grad_fn.next_functions[0][0]: "n2"}
    assert refusals_now(ids) == {"n0": {"tensor1": {"detached_in_place": True}}}
    assert [i["name"] for i in saved_items(out.grad_fn) if i.get("detached_in_place")] == [
        "tensor1"]
    assert _torch_refuses_detached(lambda: out.sum().backward())
    x.grad = None
    plain.sum().backward()  # torch takes the constant and the wrapped number
    assert x.grad is not None


def test_a_python_node_class_that_saves_in_one_call_and_not_another_shows_each_calls_own():
    """``saved_items`` asks a node's class once (``saved._KINDS``); what each node saved is
    still its own: torch's ``saved_tensors`` of each, in either order, and a class of the
    same name made elsewhere is another class."""

    class Maybe(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, keep):
            if keep:
                ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    def other():
        class Maybe(torch.autograd.Function):  # the same name, another class
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, x)
                return x + 1

            @staticmethod
            def backward(ctx, g):
                return g

        return Maybe

    x = torch.ones(3, requires_grad=True)
    nodes = [Maybe.apply(x, False).grad_fn, Maybe.apply(x, True).grad_fn,
             other().apply(x).grad_fn, Maybe.apply(x, False).grad_fn]
    for node in nodes:
        tensors = [item for item in saved_items(node) if "shape" in item]
        assert len(tensors) == len(node.saved_tensors)
        assert [t["shape"] for t in tensors] == [list(s.shape) for s in node.saved_tensors]
    assert [len(n.saved_tensors) for n in nodes] == [0, 1, 2, 0]
