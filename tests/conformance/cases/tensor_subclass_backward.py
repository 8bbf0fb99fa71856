# A tensor subclass whose __torch_function__ logs every call it sees. gradstep's
# bookkeeping around the snippet's own backward calls reads the subclass tensors'
# attributes (grad_fn, .grad): none of those reads may reach the subclass's code.
import torch

calls = []


class Logged(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        calls.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


x = torch.ones(3).as_subclass(Logged).requires_grad_()
y = x * 2
z = (y ** 2).sum()
n = len(calls)
z.backward()
print(len(calls) - n, calls[n:])
print(type(x.grad).__name__, x.grad.tolist())
w = torch.ones(3, requires_grad=True)
g = torch.ones(3).as_subclass(Logged)
m = len(calls)
loss = (w * 3 * w).sum()
(w * 3).backward(gradient=g)
print(len(calls) - m, type(w.grad).__name__, w.grad.tolist())
loss
