# torch.jit.script of functions that call torch.autograd.grad / torch.autograd.backward /
# Tensor.backward: TorchScript finds those calls in its builtin table by function object.
# gradstep's wrappers of them must compile to the same aten ops (it compiled the wrapper's
# Python source and failed), and the scripted calls run unrecorded, as torch runs them.
import torch


@torch.jit.script
def input_grad(x: torch.Tensor) -> torch.Tensor:
    y = (x * x).sum()
    g = torch.autograd.grad([y], [x], create_graph=True)
    gx = g[0]
    assert gx is not None
    return gx


@torch.jit.script
def method_backward(x: torch.Tensor):
    y = (x * 3).sum()
    y.backward()


@torch.jit.script
def function_backward(x: torch.Tensor):
    y = (x * 5).sum()
    torch.autograd.backward([y])


x = torch.tensor([1.0, 2.0], requires_grad=True)
print("grad", input_grad(x))
method_backward(x)
print("x.grad", x.grad)
function_backward(x)
print("x.grad", x.grad)
loss = input_grad(x).pow(2).sum()
loss.backward()
print("x.grad", x.grad)
loss
