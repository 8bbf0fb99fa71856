# An in-place op on a view makes a CopySlices node, which calls the op's own node: one that
# Python cannot reach. Here that node is a custom Function's (mark_dirty on a view: its
# backward prints), and one whose saved tensors checkpoint holds (calling it recomputes
# the block, which prints). Only the snippet's own pass may run them, once each.
import torch
from torch.utils.checkpoint import checkpoint


class Double(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.mark_dirty(x)
        return x.mul_(2)

    @staticmethod
    def backward(ctx, grad):
        print("Double.backward", grad)
        return grad * 2


w = torch.tensor([2.0, 3.0], requires_grad=True)
a = torch.ones(3, requires_grad=True)
b = a.clone()
Double.apply(b[:2])


def block(x):
    print("block runs")
    y = x * 1
    y[:2] *= w
    return y


c = checkpoint(block, a, use_reentrant=False)
loss = b.sum() + c.sum()
loss.backward(retain_graph=True)
print(a.grad, w.grad)
loss
