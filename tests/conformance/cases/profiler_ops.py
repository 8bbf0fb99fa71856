# torch.profiler records every aten op run while it is on: gradstep's own work while the
# snippet runs (value summaries, Jacobians, saved numbers, step copies) must not show
# among them, nor change how many times each op ran.
import torch
from torch.profiler import ProfilerActivity, profile

torch.manual_seed(0)
m = torch.nn.Linear(3, 2)
x = torch.randn(4, 3, requires_grad=True)


def f(x):  # its inner values are read from the saved tensors before the pass
    return (x * 2).exp().sum()


with profile(activities=[ProfilerActivity.CPU]) as prof:
    out = m(x).tanh()
    out.sum().backward()
    total = f(x)
    total.backward()
counts = sorted((event.key, event.count) for event in prof.key_averages())
print(len(counts), "ops recorded")
for name, count in counts:
    print(name, count)
loss = m(x).sum()
loss
