# A custom autograd.Function whose forward keeps numbers on ctx under names that
# torch's own nodes use for something else (an AccumulateGrad's `variable`, every
# node's `name()`, `_sequence_nr()` and hook methods). The ctx is the graph node,
# so these are attributes of the node: gradstep must still read the node as torch
# does, not as the user's numbers.
import torch


class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.variable = factor
        ctx.name = "scale"
        ctx._sequence_nr = 7
        ctx.register_hook = None
        ctx.register_prehook = None
        ctx.save_for_backward(x)
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        print("backward of", ctx.name, "by", ctx.variable, "seq", ctx._sequence_nr)
        return grad * ctx.variable, None


class Shift(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, by):
        ctx.variable = by  # a tensor: torch's AccumulateGrad nodes have one too
        return x + by

    @staticmethod
    def backward(ctx, grad):
        return grad, None


x = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
y = Scale.apply(Shift.apply(x * x, torch.ones(3)), 3.0)
loss = (y * torch.tensor([1.0, 2.0, 3.0])).sum()
print("loss", loss.item())
loss.backward()
print("x.grad", x.grad.tolist())
loss
