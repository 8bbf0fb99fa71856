# nn.Embedding with padding_idx=0: the padding row gets no gradient.
import torch
from torch import nn

torch.manual_seed(0)
emb = nn.Embedding(10, 4, padding_idx=0)
ids = torch.tensor([[0, 3, 5], [7, 0, 0]])
out = emb(ids)
loss = (out * torch.arange(4.0)).sum()
print(f"loss {loss.item():.6f}")
loss.backward()
print("padding row grad", emb.weight.grad[0].tolist())
print("row sums", emb.weight.grad.sum(dim=1).tolist())
loss
