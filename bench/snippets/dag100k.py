# A wide random DAG of about 100,000 nodes: 1,000 leaves, then 50,000 x (add, tanh), each
# add of two tensors picked at random from a pool of 1,000 (bench_trace, bench_export).
import random

import torch

random.seed(0)
torch.manual_seed(0)
pool = [torch.randn(4, requires_grad=True) for _ in range(1000)]
for i in range(50_000):
    a, b = random.sample(range(1000), 2)
    pool[i % 1000] = (pool[a] + pool[b]).tanh()
loss = torch.stack(pool).sum()
