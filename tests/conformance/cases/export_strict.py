# torch.export.export(strict=True) captures the module with dynamo, which reads torch's
# global module hook dicts itself: with a global forward hook there it traces the module's
# __call__ and fails ("Attempted to inline function marked as skipped"), also in a plain
# run. gradstep's own global hooks must be out of its sight while it exports.
# (The oracle's trace-function runs change what strict export does: values are checked
# against its mode run only, so the model has no node inside one torch call.)
import torch


class Scale(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(3))

    def forward(self, x):
        return torch.tanh(x * self.w).sum(-1)


torch.manual_seed(0)
net = Scale()
x = torch.randn(2, 3)
ep = torch.export.export(net, (x,), strict=True)
print([node.op for node in ep.graph.nodes].count("call_function"), "calls in the exported graph")
print(f"exported {ep.module()(x).sum().item():.6f}")
loss = net(x).pow(2).mean()
print(f"loss {loss.item():.6f}")
loss
