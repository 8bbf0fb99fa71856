# A user object's method may carry a view op's name (a .T property too). Its result is not a
# new view: here it is an old view whose base changed in place since, and reading such a
# view's node makes torch rebuild it (the engine then runs the nodes in another order).
import torch

base = torch.zeros(4, requires_grad=True).clone()
v = base[:2]
u = base[2:]
base.mul_(2)


class Picker:
    def __init__(self, t):
        self.t = t

    def select(self, i):
        return self.t


class Holder:
    def __init__(self, t):
        self.t = t

    @property
    def T(self):  # noqa: N802 (a tensor's name)
        return self.t


w = Picker(v).select(0)
x = Holder(u).T
a = base * 3
loss = a.sum() + w.sum() + x.sum()
a.register_hook(lambda g: print("grad reaches a"))
w.register_hook(lambda g: print("grad reaches w"))
x.register_hook(lambda g: print("grad reaches x"))
loss.backward(retain_graph=True)
loss
