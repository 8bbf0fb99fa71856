# torch.jit.trace runs the module and records every torch call it makes into the traced
# graph, then checks it against a second run: gradstep's module hooks must add nothing
# (a value summary's reductions would land in the graph and fail that check).
import torch
from torch import nn

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
traced = torch.jit.trace(net, torch.randn(2, 3))
print("traced", type(traced).__name__)
print(traced.graph.str().count("aten::"), "aten calls in the traced graph")
x = torch.randn(5, 3, requires_grad=True)
loss = traced(x).pow(2).mean()
print(f"loss {loss.item():.6f}")
loss.backward(retain_graph=True)
print("x.grad", [f"{v:.5f}" for v in x.grad.flatten().tolist()])
loss
