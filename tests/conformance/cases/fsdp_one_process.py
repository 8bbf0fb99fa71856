# FSDP2 (fully_shard) on one CPU process (gloo, an in-memory store): parameters are
# DTensors; the forward's unsharded parameters are the graph's leaves, and after backward
# FSDP frees their memory (their storage resized to 0 bytes) while the graph keeps them.
# The inner layers reshard after forward: between forward and backward the saved views of
# their weights (80 and 160 elements) have no memory (gradstep's look at them before the
# pass crashed the kernel at loss.backward()); the root is a later forward's loss, never
# backpropagated, its leaves freed.
import os
import sys

import torch
import torch._dynamo  # (fully_shard's forward imports it: a leading import, the oracle loads it once)
import torch.distributed as dist
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

# gloo on the loopback interface: no lookup of the machine's hostname (offline, or not in
# /etc/hosts), and not an interface named by the environment that this machine lacks
os.environ["GLOO_SOCKET_IFNAME"] = "lo0" if sys.platform == "darwin" else "lo"
dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
mesh = init_device_mesh("cpu", (1,))
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 40), nn.ReLU(), nn.Linear(40, 2))
fully_shard(model[0], mesh=mesh)
fully_shard(model[2], mesh=mesh)
fully_shard(model, mesh=mesh)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(3, 4)
loss = model(x).pow(2).mean()
loss.backward()
opt.step()
grad = model[0].weight.grad
print(f"loss {loss.item():.6f}", type(model[0].weight).__name__, f"{grad.full_tensor().norm().item():.6e}")
loss2 = model(x).pow(2).mean()
print(f"loss2 {loss2.item():.6f}")
dist.destroy_process_group()
loss2
