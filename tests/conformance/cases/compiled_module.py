# torch.compile: gradstep's module hooks must neither make dynamo warn about "global hooks
# on modules" nor break its graphs (a plain run makes one graph, no breaks).
import torch

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
compiled = torch.compile(net, backend="eager")
x = torch.randn(2, 3)
print(f"compiled {compiled(x).sum().item():.6f}")


def step(x):
    return net(x).square().mean()


explained = torch._dynamo.explain(step)(x)
print("graphs", explained.graph_count, "breaks", explained.graph_break_count)
loss = step(x)
loss
