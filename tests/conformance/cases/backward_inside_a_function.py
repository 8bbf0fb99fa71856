# backward() called inside a function: a local the function deletes after the call is
# freed right there, as in the plain run (its finalizer prints before "after del"), and
# the function's own locals() still shows what it holds.
import weakref

import torch


def step(x):
    tmp = torch.zeros(1)
    weakref.finalize(tmp, print, "tmp freed")
    out = (x * 2).sum()
    out.backward()
    del tmp
    print("after del")
    print("locals", sorted(locals()))
    return out


x = torch.ones(3, requires_grad=True)
loss = step(x)
print("x.grad", x.grad.tolist())
loss
