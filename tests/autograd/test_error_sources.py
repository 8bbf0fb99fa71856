"""The autograd errors' explanations read from more of the snippet's source: a
``torch.set_grad_enabled(False)`` statement, torch under another name, methods, ``match``
captures, comprehension variables and one-line ``def``s, a gradient taken without
``create_graph``; and the wording of torch's in-place, numpy() and requires_grad errors.
Each reading names a line only where the source establishes it (else the general wording)."""

from __future__ import annotations

import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradstep.autograd.errors import explain
from gradstep.i18n import localized

FILENAME = "lesson.py"
GENERAL = "Either it was computed only from tensors"


def _fail(source: str) -> dict:
    """Run ``source`` as the runner does and return the explained error (grad mode set back
    on after it, whatever the snippet switched)."""
    source = textwrap.dedent(source).lstrip("\n")
    namespace = {"torch": torch, "nn": nn, "F": F}
    try:
        exec(compile(source, FILENAME, "exec"), namespace)
    except BaseException as exc:  # noqa: B036
        return explain(exc, source, FILENAME)
    finally:
        torch.set_grad_enabled(True)
    raise AssertionError("the snippet ran without an error")


def _said(err: dict) -> str:
    return str(err["explanation"])


SWITCHED = """
    w = torch.randn(3, requires_grad=True)
    torch.set_grad_enabled(False)
    {between}
    loss = (w * 2).sum()
    loss.backward()
"""


def test_a_set_grad_enabled_false_statement_is_named():
    """``torch.set_grad_enabled(False)`` on a line of its own turns grad off for what runs
    after it: its line is named (it fell to the general wording); not where grad may have
    been switched back on, nor for a tensor computed before it."""
    err = _fail(SWITCHED.replace("{between}", "pass"))
    assert err["kind"] == "no_grad_fn" and err["line"] == 5
    assert "computed after `torch.set_grad_enabled(False)` on line 2" in _said(err), err
    assert "line 2" in str(err["fix"])
    assert "第 2 行" in localized(err, "zh_CN")["explanation"]
    direct = _fail("w = torch.randn(3, requires_grad=True)\ntorch.set_grad_enabled(False)\n"
                   "if True:\n    (w * 2).sum().backward()\n")
    assert "on line 2" in _said(direct), direct
    for source in (SWITCHED.replace("{between}", "torch.set_grad_enabled(True)\n"
                                    "    torch.set_grad_enabled(False)\n    w = w > 0"),
                   "w = torch.randn(3, requires_grad=True)\nloss = (w > 0).float().sum()\n"
                   "torch.set_grad_enabled(False)\nloss.backward()\n",
                   "w = torch.randn(3, requires_grad=True)\ncache = (w > 0).float().sum()\n"
                   "torch.set_grad_enabled(False)\nloss = cache\nloss.backward()\n"):
        err = _fail(source)
        assert err["kind"] == "no_grad_fn" and "set_grad_enabled(False)` on" not in _said(err)


@pytest.mark.parametrize("source, line", [
    ("import torch as t\nw = t.ones(2, requires_grad=True)\nwith t.no_grad():\n"
     "    loss = (w * 2).sum()\nloss.backward()\n", 3),
    ("from torch import no_grad as ng\nw = torch.ones(2, requires_grad=True)\nwith ng():\n"
     "    loss = (w * 2).sum()\nloss.backward()\n", 3),
    ("from torch import set_grad_enabled as grad_on\nw = torch.ones(2, requires_grad=True)\n"
     "with grad_on(False):\n    loss = (w * 2).sum()\nloss.backward()\n", 3),
    ("from torch import no_grad as ng\nw = torch.ones(2, requires_grad=True)\n@ng()\n"
     "def f():\n    return (w * 2).sum()\nloss = f()\nloss.backward()\n", 3),
])
def test_torch_under_another_name_turns_grad_off_all_the_same(source, line):
    """``import torch as t`` / ``from torch import no_grad as ng``: the block (or decorator)
    is named as ``torch.no_grad()`` is; a name bound again elsewhere is not trusted."""
    err = _fail(source)
    assert f"of line {line}" in _said(err), err
    rebound = source.replace("loss.backward()", "ng = t = grad_on = None\nloss.backward()")
    assert f"of line {line}" not in _said(_fail(rebound))


NET = """
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 1)
    @torch.no_grad()
    def predict(self, x):
        return self.lin(x).sum()
    def step(self, x):
        loss = self.predict(x)
        loss.backward()
{more}
net = Net()
{call}
"""


def test_a_method_that_returns_under_no_grad_is_named():
    """``net.predict(x)`` and ``self.predict(x)`` mean the class's ``@torch.no_grad()``
    method: it is named; not where a subclass (for ``self``) or an attribute assignment may
    put another ``predict`` first."""
    outside = _fail(NET.replace("{more}", "").replace(
        "{call}", "loss = net.predict(torch.randn(2, 3))\nloss.backward()"))
    assert "`net.predict` returned on line 13" in _said(outside), outside
    assert "decorator of line 5" in _said(outside)
    inside = _fail(NET.replace("{more}", "").replace("{call}", "net.step(torch.randn(2, 3))"))
    assert "`self.predict` returned on line 9" in _said(inside), inside
    derived = _fail(NET.replace("{more}", "class Sub(Net):\n    pass").replace(
        "{call}", "net.step(torch.randn(2, 3))"))
    assert "returned on line" not in _said(derived)
    patched = _fail(NET.replace("{more}", "").replace(
        "{call}", "net.predict = lambda x: (x > 0).float().sum()\n"
                  "loss = net.predict(torch.randn(2, 3))\nloss.backward()"))
    assert "returned on line" not in _said(patched)


def test_a_match_capture_binds_the_name():
    """``case [loss]:`` binds ``run``'s own ``loss``: the module's ``loss`` made under
    no_grad is another variable and its block is not named."""
    err = _fail("""
        w = torch.randn(3, requires_grad=True)
        with torch.no_grad():
            loss = (w * 2).sum()
        def run(pair):
            match pair:
                case [loss]:
                    loss.backward()
        run([(w > 0).float().sum()])
    """)
    assert err["kind"] == "no_grad_fn" and "of line 2" not in _said(err), err


def test_a_comprehension_variable_is_not_the_name_of_the_same_name_outside():
    """``[l.backward() for l in losses]``: ``l`` is the comprehension's own variable, not
    the ``l`` computed under no_grad above it."""
    err = _fail("""
        w = torch.randn(3, requires_grad=True)
        with torch.no_grad():
            l = (w * 2).sum()
        losses = [(w > 0).float().sum()]
        [l.backward() for l in losses]
    """)
    assert err["kind"] == "no_grad_fn" and "of line 2" not in _said(err), err


def test_a_one_line_def_is_read_as_its_own_scope():
    """``def step(loss): loss.backward()`` on one line: ``loss`` is its parameter (the
    module's no_grad ``loss`` is not named); a one-line def that uses the module's ``loss``
    names its block."""
    head = ("w = torch.randn(3, requires_grad=True)\nwith torch.no_grad():\n"
            "    loss = (w * 2).sum()\n")
    own = _fail(head + "def step(loss): loss.backward()\nstep((w > 0).float().sum())\n")
    assert own["kind"] == "no_grad_fn" and "of line 2" not in _said(own), own
    module = _fail(head + "def step(): loss.backward()\nstep()\n")
    assert "block of line 2" in _said(module), module


def test_a_gradient_taken_without_create_graph_is_named():
    """Differentiating what ``torch.autograd.grad`` returned without create_graph=True: that
    call's line is named, with create_graph=True as the fix."""
    err = _fail("""
        x = torch.tensor(2., requires_grad=True)
        y = x ** 3
        g, = torch.autograd.grad(y, x)
        g2, = torch.autograd.grad(g, x)
    """)
    assert "returned on line 3 without create_graph=True" in _said(err), err
    assert "create_graph=True" in str(err["fix"]) and "第 3 行" in localized(
        err, "zh_CN")["explanation"]
    made = _fail("""
        x = torch.tensor(2., requires_grad=True)
        g, = torch.autograd.grad(x ** 3, x, create_graph=True)
        g = g.detach()
        torch.autograd.grad(g, x)
    """)
    assert "create_graph" not in _said(made), made


def test_a_tensor_computed_from_one_made_under_no_grad_is_noted():
    """``pred`` computed under no_grad, ``loss`` from it: the general causes stay, with the
    fact that ``pred`` came from the block of line 3."""
    err = _fail("""
        model = nn.Linear(3, 1)
        x = torch.randn(8, 3)
        with torch.no_grad():
            pred = model(x)
        loss = ((pred - 1) ** 2).mean()
        loss.backward()
    """)
    said = _said(err)
    assert GENERAL in said and "computed from `pred`" in said and "block of line 3" in said
    assert "`pred`" in localized(err, "zh_CN")["explanation"]


@pytest.mark.parametrize("source, title", [
    ("w = torch.ones(4, requires_grad=True)\nw += 1\n", "In-place change of a leaf"),
    ("w = torch.ones(4, requires_grad=True)\nv = w[:2]\nv.mul_(2)\n", "a view of a leaf"),
    ("w = torch.ones(4, requires_grad=True)\nprint((w * 2).numpy())\n", "numpy()"),
    ("w = torch.ones(4, requires_grad=True)\n(w * 2).requires_grad_(False)\n",
     "requires_grad of a tensor computed"),
])
def test_torchs_leaf_numpy_and_flag_errors_are_worded(source, title):
    """These fell to "The snippet raised this error at the marked line": each gets what it
    means and how to fix it, in both languages."""
    err = _fail(source)
    assert title in str(err["title"]), err
    assert "marked line" not in _said(err)
    zh = localized(err, "zh_CN")
    assert zh["title"] != err["title"] and zh["fix"] != err["fix"]


@pytest.mark.parametrize("inside, named", [
    ("out = (x * self.w).sum()", True),
    ("out = self.cache", False),  # a load: computed before, with grad on
])
def test_a_result_computed_in_a_no_grad_block_and_returned_after_it(inside, named):
    """``with torch.no_grad(): out = ...`` then ``return out``: the block is named when
    ``out`` was computed there (it fell to the general wording), not when it was only
    loaded there."""
    err = _fail(f"""
        class Trainer:
            def __init__(self):
                self.w = torch.randn(3, requires_grad=True)
                self.cache = (self.w > 0).float().sum()
            def forward(self, x):
                with torch.no_grad():
                    {inside}
                return out
            def step(self, x):
                loss = self.forward(x)
                loss.backward()
        Trainer().step(torch.randn(3))
    """)
    said = _said(err)
    assert ("`self.forward` returned on line 10" in said and "of line 6" in said) == named, said


def test_one_input_that_does_not_require_grad_is_named_and_a_none_grad_is_told():
    """``grad(loss, [x])`` with one input listed: that input is the one (not "one of
    them"); ``w.grad.zero_()`` before any backward: the None is said to be ``.grad``'s
    (it was "No such attribute ... check the spelling")."""
    err = _fail("x = torch.ones(3)\nw = torch.ones(3, requires_grad=True)\n"
                "torch.autograd.grad((x * w).sum(), [x])\n")
    assert "but `x` does not require grad" in _said(err), err
    none = _fail("w = torch.ones(3, requires_grad=True)\nw.grad.zero_()\n")
    assert none["title"] == "A value is None" and ".grad is None" in _said(none), none
    assert localized(none, "zh_CN")["title"] == "值是 None"


@pytest.mark.parametrize("source, expr, line", [
    ("w = torch.randn(3, requires_grad=True)\ny = (w.data * 2).sum()\ny.backward()\n",
     "w.data", 2),
    ("w = torch.randn(3, requires_grad=True)\nh = torch.tanh(w).detach()\n"
     "loss = (h ** 2).sum()\nloss.backward()\n", "torch.tanh(w).detach()", 2),
    ("w = torch.randn(3, requires_grad=True)\nw.detach().sum().backward()\n", "w.detach()", 2),
])
def test_a_detached_tensor_on_the_way_is_noted(source, expr, line):
    """``.data`` / ``.detach()`` on the way to the differentiated tensor: the general causes
    stay, with that fact and its line."""
    said = _said(_fail(source))
    assert GENERAL in said and f"computed from `{expr}` (line {line})" in said, said
