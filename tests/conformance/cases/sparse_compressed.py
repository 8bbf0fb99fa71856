# Sparse layouts other than COO in a graph: a dense leaf made CSR and CSC. The gradient
# ToDenseBackward0 sends on is in the compressed layout (no storage to read as a list).
import torch

y = torch.tensor([[0.0, 1.0], [2.0, 0.0]], requires_grad=True)
w = torch.tensor([[3.0, 0.0], [0.0, 4.0]], requires_grad=True)
csr = y.to_sparse_csr()
csc = w.to_sparse_csc()
loss = (csr.to_dense() ** 2).sum() + (csc.to_dense() * 3).sum()
loss.backward(retain_graph=True)
print(y.grad, w.grad)
loss
