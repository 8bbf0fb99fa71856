# A 5,000-op chain (bench_export): 2,500 x (mul, add) on one small tensor.
import torch

x = torch.ones(3, requires_grad=True)
y = x
for _ in range(2_500):
    y = y * 1.0001 + 0.001
loss = y.sum()
