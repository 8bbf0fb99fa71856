# DistributedDataParallel on one CPU process (gloo, an in-memory store: no port): the
# reducer's hooks on each parameter's AccumulateGrad, and its callback at the pass's end
# that copies each bucket back into .grad in place; then a pass under no_sync().
import os
import sys

import torch
import torch._dynamo  # (DDP imports it when built: a leading import, the oracle loads it once)
import torch.distributed as dist
from torch import nn

# gloo on the loopback interface: no lookup of the machine's hostname (offline, or not in
# /etc/hosts), and not an interface named by the environment that this machine lacks
os.environ["GLOO_SOCKET_IFNAME"] = "lo0" if sys.platform == "darwin" else "lo"
dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
torch.manual_seed(0)
model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(2):
    x = torch.randn(3, 4)
    loss = model(x).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.6f} grad {model.module[0].weight.grad.norm().item():.6e}")
with model.no_sync():
    loss2 = model(torch.randn(3, 4)).sum()
    loss2.backward()
print(f"no_sync grad {model.module[2].bias.grad.tolist()}")
# a pass that raises midway while the process group is on: torch runs none of the
# callbacks queued during it
w = torch.ones(3, requires_grad=True)
t = w * 2
t.register_hook(lambda g: 1 / 0)
try:
    (t * 3).sum().backward()
except ZeroDivisionError as exc:
    print("raised", exc, w.grad)
dist.destroy_process_group()
loss2
