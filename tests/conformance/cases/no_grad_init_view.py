# In-place initialisation under torch.no_grad() on views of a parameter (a row,
# a column), then training; the version counter shows how many in-place changes
# the parameter went through.
import torch
from torch import nn

torch.manual_seed(0)
lin = nn.Linear(3, 2)
with torch.no_grad():
    lin.weight[0].fill_(0.5)
    lin.weight[:, 1].mul_(-1.0)
    lin.bias.zero_()
x = torch.tensor([[1.0, 2.0, 3.0]])
loss = lin(x).pow(2).sum()
print(f"loss {loss.item():.6f}")
loss.backward()
print("weight", lin.weight.tolist())
print("weight.grad", lin.weight.grad.tolist())
print("weight version", lin.weight._version, "bias version", lin.bias._version)
loss
