# A 100,000-node chain: 50,000 x (mul, add) on one small tensor (bench_trace, bench_export).
import torch

x = torch.ones(3, requires_grad=True)
y = x
for _ in range(50_000):
    y = y * 1.0001 + 0.001
loss = y.sum()
