"""safe_reads: a node's name, sequence number and leaf-ness as torch's class answers them,
whatever a custom Function's ctx (the node itself) holds under those names."""

from __future__ import annotations

import torch

from gradstep.autograd.safe_reads import is_leaf_node, leaf_variable, name_of, sequence_nr_of
from gradstep.autograd.trace import node_key


class Shadowing(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.name, ctx._sequence_nr, ctx.variable = "user's", "user's", torch.zeros(1)
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_a_ctx_cannot_hide_what_torch_says_of_its_node():
    x = torch.ones(2, requires_grad=True)
    y = Shadowing.apply(x * 1)
    fn = y.grad_fn
    after_mul = fn.next_functions[0][0]
    assert fn.name == "user's" and fn._sequence_nr == "user's"  # what the snippet's forward set
    assert name_of(fn) == "ShadowingBackward" and name_of(fn) == type(fn).name(fn)
    assert sequence_nr_of(fn) == sequence_nr_of(after_mul) + 1  # made right after x * 1
    assert not is_leaf_node(fn) and leaf_variable(fn) is None
    assert node_key(fn) == ("op", sequence_nr_of(fn), "ShadowingBackward")
    leaf = after_mul.next_functions[0][0]
    assert is_leaf_node(leaf) and leaf_variable(leaf) is x and node_key(leaf) == ("leaf", id(x))


def test_saved_slots_of_a_class_that_saves_no_tensor_read_nothing(monkeypatch):
    from gradstep.autograd import safe_reads

    x = torch.randn(3, requires_grad=True)
    node = (x + 1).grad_fn  # AddBackward0 keeps a plain alpha, no tensor
    monkeypatch.setattr(safe_reads, "iter_saved_slots", None)
    assert safe_reads.saved_slots(node) == []


def test_unpacking_a_view_that_may_be_read_asks_nothing_first(monkeypatch):
    """With ``views=True`` whether the saved tensor is a view does not matter: no
    ``plain_reads`` block and no ``_is_view`` read before the unpack."""
    from gradstep.autograd import safe_reads

    x = torch.randn(3, 4, requires_grad=True)
    w = torch.randn(3, 2, requires_grad=True)
    node = (x.t() @ w).grad_fn  # mm saves the view x.t() and w
    slots = safe_reads.saved_slots(node)
    assert [slot.state for slot in slots] == ["alive", "alive"]
    monkeypatch.setattr(safe_reads, "plain_reads", None)
    got = {slot.name: safe_reads.unpack(node, slot, views=True) for slot in slots}
    assert torch.equal(got["self"], x.t()) and got["self"]._base is x
    assert got["mat2"] is w
