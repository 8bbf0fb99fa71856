# A custom autograd.Function whose forward and backward print (they run user
# code, so the output shows exactly when and how often each ran).
import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        print("Cube.forward on", tuple(x.shape))
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        print("Cube.backward with grad", grad.tolist())
        return grad * 3 * x ** 2


x = torch.tensor([1.0, 2.0, -1.0], requires_grad=True)
y = Cube.apply(x * 2)
loss = (y * torch.tensor([1.0, 0.5, 2.0])).sum()
print("loss", loss.item())
loss.backward()
print("x.grad", x.grad.tolist())
loss
