# Proxy objects (wrapt-style: every attribute read goes through the proxy's own
# __getattribute__, __class__ included) around a tensor and a module. gradstep tells what a
# value is by type(), never isinstance(): isinstance reads __class__, which would run the
# proxy's code once more at each method call, module output and backward call.
import torch

reads = []


class Proxy:
    def __init__(self, target):
        object.__setattr__(self, "_target", target)

    def __getattribute__(self, name):
        target = object.__getattribute__(self, "_target")
        if name == "_target":
            return target
        reads.append(name)
        return getattr(target, name)


class Wrap(torch.nn.Module):
    def forward(self, t):
        return Proxy(t * 3)


x = torch.ones(3, requires_grad=True)
p = Proxy(x * 2)
s = p.sum()
v = p.view(3)
q = Wrap()(x)
net = Proxy(torch.nn.Linear(3, 1))
(x * 4).sum().backward()
torch.autograd.grad((x * 5).sum(), [x])
print(reads)
loss = s + v.sum()
loss
