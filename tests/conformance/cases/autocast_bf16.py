# CPU autocast to bfloat16: the linear and the matmul run in bf16 (casts appear
# as ToCopyBackward0 nodes), the loss is computed in float32.
import torch
from torch import nn

torch.manual_seed(0)
lin = nn.Linear(8, 4)
x = torch.randn(3, 8)
proj = torch.randn(4, 2)
with torch.autocast("cpu", dtype=torch.bfloat16):
    h = lin(x)
    y = torch.relu(h) @ proj
    loss = y.float().pow(2).mean()
print("dtypes", h.dtype, y.dtype, loss.dtype)
print(f"loss {loss.item():.6f}")
loss.backward()
print("lin.weight.grad", lin.weight.grad.dtype, f"{lin.weight.grad.sum().item():.6e}")
loss
