"""What ``grad_marks`` notes of a leaf's ``.grad`` as a recorded pass begins (torch's watch
on its TensorImpl) is not in the way of the snippet's code, against ``python FILE``."""

from __future__ import annotations

import contextlib
import io

from gradstep.autograd import grad_marks
from gradstep.autograd.session import Session
from tests.plain_runs import plain_python

SWAP_OLD_GRAD = """\
import weakref
import torch
x = torch.tensor([1., 2.], requires_grad=True)
w = torch.tensor([3., 4.], requires_grad=True)
w.grad = torch.zeros(2)
t = torch.ones(2)
h = x * w


def hook(g):
    old = w.grad
    w.grad = None
    try:
        torch.utils.swap_tensors(old, t)
        print("swapped", old, t)
    except RuntimeError as e:
        print("refused:", e)


h.register_hook(hook)
out = h.exp().sum()
out.backward(retain_graph=True)
print(w.grad, weakref.getweakrefcount(w.grad))
out.backward()
print(w.grad, weakref.getweakrefcount(w.grad))
"""


def test_a_hook_swaps_the_grad_a_pass_began_with_as_in_python(tmp_path):
    """gradstep's weak reference to ``w.grad`` (noted as the pass began; now torch's watch
    on its TensorImpl, which torch's swap refuses too) made torch refuse
    ``torch.utils.swap_tensors`` of that tensor in a hook ("Cannot swap t1 because it has
    weakref associated with it") where python swaps it; the swap lets go of it, and w's
    ``.grad`` is then not shown before its AccumulateGrad (the pass's ``grad_moved``). None
    is left on a ``.grad`` once the pass is over."""
    path = tmp_path / "swap_old_grad.py"
    path.write_text(SWAP_OLD_GRAD, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.stderr == "" and "swapped tensor([1., 1.]) tensor([0., 0.])" in plain.stdout
    result = Session().run(SWAP_OLD_GRAD, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    first, second = (call["timeline"] for call in result["calls"])
    # (the hook set it to None before its AccumulateGrad: moved in both)
    assert first["steps"] and first["grad_moved"] == second["grad_moved"] == ["w"]
    assert grad_marks._MARKING == []  # (nothing noted past the passes)


COUNT_IN_HOOK = """\
import weakref
import torch
x = torch.tensor([1., 2.], requires_grad=True)
w = torch.tensor([3., 4.], requires_grad=True)
w.grad = torch.zeros(2)
h = x * w


def hook(g):
    old = w.grad
    print("in the pass", weakref.getweakrefcount(old), len(weakref.getweakrefs(old)))
    r = weakref.ref(old)
    print(r() is old, weakref.getweakrefcount(old), weakref.getweakrefs(old) == [r])
    weakref.finalize(old, print, "old .grad freed")
    w.grad = None
    del old
    print("hook done")


h.register_hook(hook)
h.exp().sum().backward()
print(w.grad, weakref.getweakrefcount(w.grad))
"""


def test_a_grad_noted_as_the_pass_began_has_no_weak_reference_the_snippet_sees():
    """The note of ``w.grad`` as the pass began was a weak reference of gradstep's class:
    a hook read ``weakref.getweakrefcount(w.grad)`` 1 where python reads 0 (and 2, not 1,
    once it made its own). It is torch's watch on the TensorImpl now, which no Python
    count sees, and which keeps nothing alive: the finalizer of the ``.grad`` the hook let
    go runs where it runs in python (the same code ``exec``'d plainly is the oracle)."""
    plain = io.StringIO()
    with contextlib.redirect_stdout(plain):
        exec(compile(COUNT_IN_HOOK, "<plain>", "exec"), {"__name__": "__main__"})
    assert "in the pass 0 0\nTrue 1 True\nold .grad freed\nhook done\n" in plain.getvalue()
    result = Session().run(COUNT_IN_HOOK, filename="count_in_hook.py")
    assert result["ok"], result["error"]
    assert result["output"] == plain.getvalue()
    assert result["calls"][0]["timeline"]["grad_moved"] == ["w"]  # (still told: the hook set it)
