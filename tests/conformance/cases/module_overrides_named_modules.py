# A model whose class overrides named_modules and named_parameters with prints. gradstep
# names modules and parameters without calling them: only the snippet's own call prints.
import torch
from torch import nn


class Net(nn.Sequential):
    def named_modules(self, *args, **kwargs):
        print("named_modules called")
        return super().named_modules(*args, **kwargs)

    def named_parameters(self, *args, **kwargs):
        print("named_parameters called")
        return super().named_parameters(*args, **kwargs)


torch.manual_seed(0)
net = Net(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
loss = net(torch.ones(4, 2)).pow(2).mean()
print("before backward")
loss.backward(retain_graph=True)
print("after backward", [name for name, _ in net.named_parameters()])
loss
