"""What the rewrite takes a call's value for: a torch op's, a view op's, or maybe an old
tensor (the snippet's own function or object of a torch op's name)."""

import ast
import types

import torch

from gradstep.autograd import observe
from gradstep.autograd.snippet_rewrite import own_names, rewrite


def kinds(source: str) -> list[int]:
    """Return the kind of each ``__gradstep_see__`` call the rewrite made, in order."""
    tree = rewrite(ast.parse(source))
    return [call.args[1].value for call in ast.walk(tree)
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == observe.SEE]


def test_the_snippets_own_names_are_not_torchs():
    tree = ast.parse("import numpy as np\nfrom torch.nn.functional import relu\n"
                     "from mylib import softmax\ndef normalize(t, dim):\n    return t\n"
                     "class Select: pass\nfor mul in []: pass\nwith open('f') as norm: pass\n")
    names = own_names(tree)
    assert {"np", "softmax", "normalize", "t", "dim", "Select", "mul", "norm"} <= names
    assert "relu" not in names  # torch's own, imported


def test_a_bare_torch_name_is_an_op_unless_the_snippet_defines_it():
    assert kinds("y = relu(x)") == [observe.OP]
    assert kinds("def relu(t):\n    return t\ny = relu(x)") == [observe.SEEN]
    assert kinds("select(x, 0, 1)") == [observe.SEEN]  # a view op's name: never read as new


def test_a_method_of_a_torch_name_is_decided_by_its_receivers_type():
    assert kinds("y = x.select(0, 1)") == [observe.METHOD_VIEW]
    assert kinds("y = x.mul(2)") == [observe.METHOD_OP]
    assert kinds("y = x.T") == [observe.METHOD_VIEW]
    assert kinds("y = obj.forward(x)") == [observe.SEEN]
    # a method named like an attribute that is itself a view's name: the attribute is
    # seen (its receiver noted), the call's value maybe an old tensor
    assert kinds("h = model.H(q)") == [observe.SEEN, observe.METHOD_VIEW]
    helpers = types.ModuleType("helpers")  # a user's module with a select() of its own
    recorder = observe.Observer()
    for receiver, kind, taken in [(torch.ones(2), observe.METHOD_VIEW, observe.VIEW),
                                  (torch, observe.METHOD_OP, observe.OP),
                                  (torch.nn.functional, observe.METHOD_OP, observe.OP),
                                  (torch.ops.aten, observe.METHOD_VIEW, observe.VIEW),
                                  (torch.ops.aten.add, observe.METHOD_OP, observe.OP),
                                  (torch.Tensor, observe.METHOD_VIEW, observe.VIEW),
                                  (helpers, observe.METHOD_VIEW, observe.SEEN),
                                  (object(), observe.METHOD_VIEW, observe.SEEN),
                                  (object(), observe.METHOD_OP, observe.SEEN)]:
        assert recorder.receiver(receiver, 7) is receiver
        assert recorder._method_kind(kind, 7) == taken
        assert recorder._method_call == taken  # what the assignment's bind then uses
    assert recorder._method_kind(observe.METHOD_OP, 8) == observe.SEEN  # nothing noted
