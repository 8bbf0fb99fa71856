# A custom Function that saves a None beside a tensor, under saved-tensor hooks whose
# unpack prints: reading whether the None slot was freed must not unpack the others
# (a custom Function's saved tensors are unpacked all together).
import torch


class F(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x, None)
        return x * 2
    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * 2
def pack(t):
    return t
def unpack(t):
    print("unpack hook ran")
    return t
x = torch.ones(2, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = F.apply(x)
loss = y.sum()
loss.backward(retain_graph=True)
print("x.grad", x.grad.tolist())
loss
