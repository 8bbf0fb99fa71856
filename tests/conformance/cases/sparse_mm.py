# Sparse tensors in a graph: torch.sparse.mm with a sparse COO leaf that requires
# grad (its gradient is sparse too), and a dense leaf made sparse by to_sparse().
import torch

torch.manual_seed(0)
indices = torch.tensor([[0, 1, 2], [2, 0, 1]])
s = torch.sparse_coo_tensor(indices, torch.tensor([1.0, 2.0, 3.0]), (3, 3)).coalesce()
s.requires_grad_()
d = torch.randn(3, 2, requires_grad=True)
a = torch.randn(2, 3, requires_grad=True)
y = torch.sparse.mm(s, d)
z = a.to_sparse()
loss = y.pow(2).sum() + (z.to_dense() * 2).sum()
print(f"loss {loss.item():.6f}")
loss.backward()
print("s.grad layout", s.grad.layout, "values", s.grad.coalesce().values().tolist())
print("d.grad", d.grad.tolist())
print("a.grad", a.grad.tolist())
loss
