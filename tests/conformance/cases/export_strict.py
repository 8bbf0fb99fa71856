# torch.export.export(strict=True) captures the module with dynamo, which reads torch's
# global module hook dicts itself: with a global forward hook there it traces the module's
# __call__ and fails ("Attempted to inline function marked as skipped"), also in a plain
# run. gradstep's own global hooks must be out of its sight while it exports.
import torch

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
x = torch.randn(2, 3)
ep = torch.export.export(net, (x,), strict=True)
print([node.op for node in ep.graph.nodes].count("call_function"), "calls in the exported graph")
print(f"exported {ep.module()(x).sum().item():.6f}")
loss = net(x).pow(2).mean()
print(f"loss {loss.item():.6f}")
loss
