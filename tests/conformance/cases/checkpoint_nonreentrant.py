# torch.utils.checkpoint, non-reentrant: the block's activations are not kept;
# backward runs the block's forward again (through saved-tensor hooks) to get them.
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)
lin1 = nn.Linear(4, 8)
lin2 = nn.Linear(8, 2)
runs = 0


def block(x):
    global runs
    runs += 1
    return torch.tanh(lin1(x))


x = torch.randn(3, 4, requires_grad=True)
h = checkpoint(block, x, use_reentrant=False)
loss = lin2(h).pow(2).sum()
print("block forward ran", runs, "time(s) before backward")
loss.backward()
print("block forward ran", runs, "time(s) after backward")
print(f"lin1.weight.grad.sum() {lin1.weight.grad.sum().item():.6e}")
print(f"x.grad.sum() {x.grad.sum().item():.6e}")
loss
