# A tensor hook changes a saved tensor in place during the pass: torch refuses it when
# the node that saved it runs.
import torch

a = torch.tensor([0.5, 1.0, 1.5], requires_grad=True)
b = a * 2.0
c = b.sin()
d = c * 3.0


def hook(g):
    b.add_(1.0)


d.register_hook(hook)
loss = d.sum()
try:
    loss.backward()
except RuntimeError as exc:
    print("refused:", str(exc).split(". Hint")[0])
print("a.grad", a.grad, "b version", b._version)
loss
