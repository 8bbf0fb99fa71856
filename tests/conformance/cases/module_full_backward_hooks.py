# Module full backward hooks and pre-hooks (BackwardHookFunction nodes) that print
# and scale gradients, and a forward hook that changes a module's output.
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))


def pre(module, grad_output):
    print("pre-hook", type(module).__name__, [tuple(g.shape) for g in grad_output])
    return (grad_output[0] * 2,)


def full(module, grad_input, grad_output):
    print("full hook", type(module).__name__, [None if g is None else round(g.sum().item(), 6) for g in grad_input])


def fwd(module, args, output):
    return output + 1.0


model[0].register_full_backward_pre_hook(pre)
model[0].register_full_backward_hook(full)
model[2].register_full_backward_hook(full)
model[1].register_forward_hook(fwd)
x = torch.randn(3, 4, requires_grad=True)
out = model(x)
loss = out.pow(2).mean()
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"x.grad sum {x.grad.sum().item():.6e}")
print(f"w0.grad norm {model[0].weight.grad.norm().item():.6e}")
loss
