# Double backward: autograd.grad with create_graph=True through index, gather and
# prod, then backward through the gradient itself (a gradient penalty).
import torch

x = torch.tensor([1.5, -0.5, 2.0, 0.25], requires_grad=True)
picked = x[torch.tensor([3, 0, 2])]
gathered = torch.gather(x.view(2, 2), 1, torch.tensor([[1], [0]]))
p = (picked * picked).prod() + gathered.pow(3).sum()
print(f"p {p.item():.6f}")
(gx,) = torch.autograd.grad(p, x, create_graph=True)
print("d p / d x", gx.detach().tolist())
penalty = gx.pow(2).sum()
penalty.backward()
print("d penalty / d x", x.grad.tolist())
penalty
