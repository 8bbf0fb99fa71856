# torch.autograd.graph.saved_tensors_hooks in the snippet: pack and unpack print
# and count, so anyone unpacking saved tensors (or packing extra ones) shows.
import torch

packed = 0
unpacked = 0


def pack(t):
    global packed
    packed += 1
    print("pack", tuple(t.shape))
    return t


def unpack(t):
    global unpacked
    unpacked += 1
    print("unpack", tuple(t.shape))
    return t


torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
w = torch.randn(3, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = (x * w).sin()
    loss = y.sum()
print("packed", packed, "unpacked", unpacked)
loss.backward()
print("packed", packed, "unpacked", unpacked)
print("x.grad", x.grad.tolist())
loss
