# torch.profiler records every aten op run while it is on: gradstep's own work while the
# snippet runs (value summaries, Jacobians, step copies) must not show among them.
import torch
from torch.profiler import ProfilerActivity, profile

torch.manual_seed(0)
m = torch.nn.Linear(3, 2)
x = torch.randn(4, 3)
with profile(activities=[ProfilerActivity.CPU]) as prof:
    out = m(x).tanh()
    out.sum().backward()
names = sorted({event.key for event in prof.key_averages()})
print(len(names), "ops recorded")
for name in names:
    print(name)
loss = m(x).sum()
loss
