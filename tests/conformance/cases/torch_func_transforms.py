# torch.func (grad, vjp, vmap, functional_call, jacrev) and torch.autograd.functional
# jacobian / hessian, then a create_graph gradient penalty whose autograd.grad call is
# drawn on the final graph (its nodes get the drawn graph's ids).
import torch
import torch._dynamo  # (torch.func imports it when called: the oracle loads it once)
from torch import nn
from torch.func import functional_call, grad, jacrev, vjp, vmap

torch.manual_seed(0)
model = nn.Linear(3, 2)
params = {k: v.detach() for k, v in model.named_parameters()}
x = torch.randn(4, 3)


def loss_fn(p, xb):
    return functional_call(model, p, (xb,)).pow(2).sum()


g = grad(loss_fn)(params, x)
print("grad keys", sorted(g), f"{g['weight'].norm().item():.6e}")
per_sample = vmap(grad(loss_fn), in_dims=(None, 0))(params, x)
print("per-sample", tuple(per_sample["weight"].shape), f"{per_sample['weight'].sum().item():.6e}")
out, fn = vjp(torch.sin, x)
(v,) = fn(torch.ones_like(out))
print(f"vjp {v.sum().item():.6e}")
J = jacrev(lambda t: model(t).tanh())(x[0])
print("jacrev", tuple(J.shape), f"{J.sum().item():.6e}")
w = torch.randn(3, requires_grad=True)
J2 = torch.autograd.functional.jacobian(lambda t: (t * t.exp()).cumsum(0), w)
H = torch.autograd.functional.hessian(lambda t: (t.sin() * t).sum(), w)
print(f"jacobian {J2.sum().item():.6e} hessian {H.sum().item():.6e}")
y = model(x * w).sum()
(gw,) = torch.autograd.grad(y, w, create_graph=True)
penalty = gw.pow(2).sum() + y
penalty.backward()
print(f"w.grad {w.grad.tolist()}")
penalty
