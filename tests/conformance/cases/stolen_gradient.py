# Where nobody else holds the gradient arriving at a leaf, AccumulateGrad takes it as
# .grad instead of copying it: .grad then shares storage (and strides) with whatever that
# gradient was a view of. gradstep's recording must leave torch that choice: a gradient
# it held made torch copy, and the printed numbers changed.
import torch

w = torch.zeros(4, requires_grad=True)
g = torch.ones(2, 2)
w.view(2, 2).backward(g)  # w.grad is a view of g
g.mul_(5)
print(w.grad.tolist())
x = torch.ones(1, 3, requires_grad=True)
c = torch.tensor([[1.0], [2.0], [3.0]])
(x.t() * c).sum().backward()
print(x.grad.stride(), x.grad._version)
loss = (w * x.flatten().sum()).sum()
loss
