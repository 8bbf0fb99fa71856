# A module may return its own container types. gradstep's module hooks look for the
# tensors in a module's output; a dict or list subclass's own `values` / `__iter__` is the
# snippet's code (here it counts its calls), so reading them must not run it.
import torch
from torch import nn


class Counted(dict):
    reads = 0

    def values(self):
        Counted.reads += 1
        return super().values()

    def __iter__(self):
        Counted.reads += 1
        return super().__iter__()


class CountedList(list):
    reads = 0

    def __iter__(self):
        CountedList.reads += 1
        return super().__iter__()


class Heads(nn.Module):
    def forward(self, x):
        return Counted(a=x * 3, b=x.exp())


class Pieces(nn.Module):
    def forward(self, x):
        return CountedList([x * 2, x + 1])


x = torch.ones(2, requires_grad=True)
d = Heads()(x)
p = Pieces()(x)
print("dict reads", Counted.reads, "list reads", CountedList.reads)
loss = d["a"].sum() + d["b"].sum() + p[0].sum() + p[1].sum()
loss.backward(retain_graph=True)
print(x.grad, Counted.reads, CountedList.reads)
loss
