# A snippet's own TorchFunctionMode, TorchDispatchMode and FlopCounterMode see only the
# snippet's own torch calls: none of gradstep's reads, value summaries, Jacobians or step
# copies. (A reference gradstep held to a gradient would make torch add into it with
# add instead of add_, or copy a leaf's incoming gradient instead of taking it: the
# logged ops would differ.)
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode


class LogFunctions(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        print("F", getattr(func, "__name__", func))
        return func(*args, **(kwargs or {}))


class LogOps(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        print("D", func)
        return func(*args, **(kwargs or {}))


torch.manual_seed(0)
m = torch.nn.Linear(3, 2)
x = torch.randn(2, 3)
w = torch.ones(2, requires_grad=True)
with LogFunctions():
    y = m(x) * w
    y.sum().backward()
v = torch.ones(2, requires_grad=True)  # no .grad yet: AccumulateGrad takes the gradient
u = torch.ones(2, requires_grad=True)
with LogOps():
    a = v * 3
    z = a.exp() + a.sin()
    z.sum().backward()
    u.clone().exp().sum().backward()  # CloneBackward0 passes on the gradient it received
with FlopCounterMode(display=False) as flops:
    m(x).sum().backward()
print("flops", flops.get_total_flops())
print("w.grad", [round(g, 4) for g in w.grad.tolist()], "v.grad", [round(g, 4) for g in v.grad.tolist()])
out = m(x) * w
loss = out.sum()
loss
