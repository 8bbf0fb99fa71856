# A _foreach op's node has no Python class of its own (torch's generic CppFunction): none
# of the tensors it saved can be seen, so whether a saved_tensors_hooks pack hook holds
# them cannot be told. Only the snippet's own pass may run the unpack hook.
import torch
from torch.autograd.graph import saved_tensors_hooks

counts = {"pack": 0, "unpack": 0}


def pack(t):
    counts["pack"] += 1
    return t


def unpack(t):
    counts["unpack"] += 1
    return t


x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
with saved_tensors_hooks(pack, unpack):
    y, z = torch._foreach_mul([x, w], [w, x])
print(counts)
loss = (y * z).sum()
loss.backward(retain_graph=True)
print(counts, x.grad, w.grad)
loss
