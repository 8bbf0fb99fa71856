# autograd.Function with once_differentiable, mark_dirty, mark_non_differentiable and
# set_materialize_grads(False): backward prints what arrives (None where not materialised).
import torch
from torch.autograd.function import once_differentiable


class AddOneInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        print("AddOneInPlace.backward", g.tolist())
        return g


class SortWithIndex(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        v, i = x.sort()
        ctx.mark_non_differentiable(i)
        ctx.save_for_backward(i)
        return v, i

    @staticmethod
    def backward(ctx, gv, gi):
        print("SortWithIndex.backward", gv is None, gi is None)
        (i,) = ctx.saved_tensors
        out = torch.zeros_like(gv)
        return out.scatter(0, i, gv)


class TwoOut(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        print("TwoOut.backward", ga is None, gb is None)
        return ga * 2 if ga is not None else None


x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
h = x * 1.5
h2 = AddOneInPlace.apply(h)
v, i = SortWithIndex.apply(h2)
print("i requires grad", i.requires_grad, i.tolist())
p, q = TwoOut.apply(v)
loss = (p * torch.tensor([1.0, 2.0, 3.0])).sum()
loss.backward()
print("x.grad", x.grad.tolist())
loss
