# In-place code on views: x[0] = ..., add_, mul_ on a column view (CopySlices on
# the base), reshape of a transposed tensor (plain torch decides which node that
# is), a view of a view modified in place.
import torch

torch.manual_seed(0)
x = torch.randn(4, 3, requires_grad=True)
a = x.clone()
a[0] = torch.tensor([1.0, 2.0, 3.0])
a.add_(1.0)
col = a[:, 1]
col.mul_(2.0)
flat = a.t().reshape(12)
same = a.reshape(12)
corner = a[1:, :2][0]
corner.sub_(0.5)
loss = (flat * torch.arange(12.0)).sum() + same.pow(2).sum() + a.sum()
print("flat", flat.grad_fn.name(), "same", same.grad_fn.name())
print(f"loss {loss.item():.6f}")
loss.backward()
print("x.grad", x.grad)
loss
