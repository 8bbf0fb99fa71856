# A snippet's own function may carry a view op's name. Its result is not a new view: here it
# is an old view whose base changed in place since, and reading such a view's node makes
# torch rebuild it (a newer sequence number: the engine then ran the nodes in another order).
import torch

base = torch.zeros(4, requires_grad=True).clone()
v = base[:2]
base.mul_(2)


def select(t):
    return t


w = select(v)
a = base * 3
loss = a.sum() + w.sum()
a.register_hook(lambda g: print("grad reaches a"))
w.register_hook(lambda g: print("grad reaches w"))
loss.backward(retain_graph=True)
loss
