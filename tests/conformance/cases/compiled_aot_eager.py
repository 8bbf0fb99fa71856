# torch.compile with AOTAutograd: the compiled module's backward is one node,
# CompiledFunctionBackward, whose next_functions follow the order dynamo lifted the
# graph's inputs in (the parameters, with the input x in slot 2). Dynamo reads the
# global module-hook dicts while it traces: with gradstep's hooks there it traced
# Module._call_impl's slow path, took x first and moved every parameter one slot on.
import torch
from torch import nn

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 1))
compiled = torch.compile(net, backend="aot_eager")
x = torch.randn(3, 4)
for step in range(2):
    y = compiled(x + step)
    squares = y.pow(2)
    loss = squares.mean()
node = loss.grad_fn.next_functions[0][0].next_functions[0][0]
print(node.name(), ["-" if fn is None else fn.name() for fn, _ in node.next_functions])
print("dynamo", dict(torch._dynamo.utils.counters["stats"]))
loss.backward()
print(f"loss {loss.item():.6f}", [f"{p.grad.norm().item():.5f}" for p in net.parameters()])
loss
