"""Where the source does not establish why a tensor has no ``grad_fn``, the explanation
names no line and no cause of its own: the general wording stands. Each snippet here ran
into a reading that named a line that was not the cause (an ``else`` branch that did not
run, a helper that turned grad back on, a ``create_graph`` passed by position, ...)."""

from __future__ import annotations

import pytest

from gradstep.i18n import localized
from tests.autograd.test_error_sources import GENERAL, NET, _fail, _said

W = "w = torch.randn(3, requires_grad=True)\n"
OTHER = ("class Other(Net):\n    def predict(self, x):\n"
         "        return (self.lin(x) > 0).float().sum()")  # (records, then compares)


@pytest.mark.parametrize("source", [
    # the else branch (later by line) did not run: the gradient had create_graph=True
    "x = torch.tensor(2., requires_grad=True)\ny = 3 * x\nif True:\n"
    "    g, = torch.autograd.grad(y, x, create_graph=True)\nelse:\n"
    "    g, = torch.autograd.grad(y, x)\ng.backward()\n",
    # create_graph=True passed as the fifth argument
    "x = torch.tensor(2., requires_grad=True)\ny = 3 * x\n"
    "g, = torch.autograd.grad(y, x, None, None, True)\ntorch.autograd.grad(g, x)\n",
    # ``autograd`` is the snippet's own class (its grad compares), not torch's
    "x = torch.tensor(2., requires_grad=True)\nclass A:\n    @staticmethod\n"
    "    def grad(y, x):\n        return (x > 0).float(),\nautograd = A\n"
    "g, = autograd.grad(x ** 3, x)\ntorch.autograd.grad(g, x)\n",
    # ``net`` is an Other; the Net() after it did not run
    NET.replace("{more}", OTHER).replace(
        "{call}", "net = Other()\nif False:\n    net = Net()\n"
                  "loss = net.predict(torch.randn(2, 3))\nloss.backward()"),
    # the no_grad branch did not run
    W + "if True:\n    loss = (w > 0).float().sum()\nelse:\n    with torch.no_grad():\n"
        "        loss = (w * 2).sum()\nloss.backward()\n",
])
def test_an_assignment_that_may_not_be_what_ran_is_not_named(source):
    said = _said(_fail(source))
    assert GENERAL in said and "line" not in said.split(GENERAL)[1], said


@pytest.mark.parametrize("source", [
    W + "with torch.no_grad():\n    with torch.enable_grad():\n"
        "        loss = (w > 0).float().sum()\nloss.backward()\n",
    W + "with torch.no_grad(), torch.enable_grad():\n    loss = (w > 0).float().sum()\n"
        "loss.backward()\n",
    W + "@torch.enable_grad()\ndef helper(x):\n    return (x > 0).float().sum()\n"
        "def f(x):\n    with torch.no_grad():\n        out = helper(x)\n    return out\n"
        "loss = f(w)\nloss.backward()\n",
    W + "torch.set_grad_enabled(False)\nfrom torch._C import _set_grad_enabled as on\n"
        "on(True)\nloss = (w > 0).float().sum()\nloss.backward()\n",
    W + "torch.set_grad_enabled(False)\ntorch.__dict__['set_grad_enabled'](True)\n"
        "loss = (w > 0).float().sum()\nloss.backward()\n",
    # ``exec`` computed ``loss`` again, after the block
    W + "with torch.no_grad():\n    loss = (w * 2).sum()\n"
        "exec('loss = (w > 0).float().sum()')\nloss.backward()\n",
    # jacobian turns grad on itself; without create_graph its result has no graph anyway
    W + "torch.set_grad_enabled(False)\n"
        "J = torch.autograd.functional.jacobian(lambda x: x ** 2, w)\nJ.backward(J)\n",
    # a no_grad of the snippet's own, not torch's
    "import contextlib\nfrom torch import *\ndef no_grad():\n    return contextlib.nullcontext()\n"
    + W + "with no_grad():\n    loss = (w > 0).float().sum()\nloss.backward()\n",
])
def test_grad_that_may_be_on_again_names_no_block(source):
    """``enable_grad`` inside the block (or in a helper it calls), torch's internal switch
    under another name, text run by ``exec``, a function that sets grad mode itself, or a
    ``no_grad`` of the snippet's own: the block or switch is not named as the cause."""
    said = _said(_fail(source))
    assert GENERAL in said, said


@pytest.mark.parametrize("source", [
    # ``a`` is detached on the line, ``b`` is not: ``b`` was cut by the comparison
    W + "a = w.detach(); b = (w > 0).float()\nb.sum().backward()\n",
    # ``p`` is ``w`` itself (a leaf with requires_grad), only handed on in the block
    W + "with torch.no_grad():\n    p = w\nloss = (p > 0).float().sum()\nloss.backward()\n",
])
def test_a_note_tells_only_what_made_the_tensor(source):
    said = _said(_fail(source))
    assert said.endswith("a cast to integers)."), said


def test_nothing_requiring_grad_is_the_cause_not_the_block():
    """Nothing in the snippet requires grad: the loss would have no grad_fn outside the
    block too, so the block is not named (nor its fix, moving the code out of it)."""
    err = _fail("x = torch.randn(3)\nwith torch.no_grad():\n    loss = (x * 2).sum()\n"
                "loss.backward()\n")
    assert "block of line" not in _said(err) and "no_grad block" not in str(err["fix"]), err


@pytest.mark.parametrize("subclass", [
    "Alias = Net\nclass Other(Alias):",
    "def base():\n    return Net\nclass Other(base()):",
])
def test_self_may_be_a_subclass_reached_another_way(subclass):
    """``self.predict`` in ``Net.step``: a subclass through an alias or a call may override
    ``predict`` (here it does), so Net's no_grad method is not named."""
    more = OTHER.replace("class Other(Net):", subclass)
    said = _said(_fail(NET.replace("{more}", more).replace(
        "{call}", "Other().step(torch.randn(2, 3))")))
    assert GENERAL in said and "returned on line" not in said, said


def test_the_block_is_named_as_the_snippet_wrote_it():
    """An inference_mode block is not called a `with torch.no_grad():` one, in the cause
    and in the note beside the general wording, in both languages."""
    head = W + "with torch.inference_mode():\n    y = w * 2\n"
    cause = _fail(head.replace("y =", "loss =") + "loss.sum().backward()\n")
    note = _fail(head + "loss = y.clone().sum()\nloss.backward()\n")
    for err in (cause, note):
        for said in (_said(err), localized(err, "zh_CN")["explanation"]):
            assert "`with torch.inference_mode():`" in said and "no_grad():`" not in said, said


def test_a_switch_is_not_the_cause_where_nothing_requires_grad():
    """``torch.set_grad_enabled(False)`` before the loss, but nothing requires grad: with
    grad on the loss would have no grad_fn all the same, so the switch is not named (nor
    removing it as the fix); also with text before it on its line."""
    for switch in ("torch.set_grad_enabled(False)", "s = 'é'; torch.set_grad_enabled(False)"):
        err = _fail(f"{switch}\nx = torch.randn(3)\nloss = (x * 2).sum()\nloss.backward()\n")
        assert "on line 1" not in _said(err) and "line 1" not in str(err["fix"]), err
