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
