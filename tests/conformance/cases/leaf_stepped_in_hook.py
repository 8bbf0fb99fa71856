# An optimizer step inside the backward call: each parameter is stepped by its own
# post-accumulate-grad hook (and its .grad dropped), as in per-parameter optimizers.
import torch

torch.manual_seed(0)
lin = torch.nn.Linear(3, 2)
opts = {p: torch.optim.SGD([p], lr=0.5) for p in lin.parameters()}


def step(p):
    opts[p].step()
    opts[p].zero_grad()


for p in lin.parameters():
    p.register_post_accumulate_grad_hook(step)
x = torch.tensor([[1.0, -2.0, 0.5]])
loss = lin(x).square().sum()
print("weight before", lin.weight.tolist(), lin.weight._version)
loss.backward()
print("weight after", lin.weight.tolist(), lin.weight._version, lin.weight.grad)
loss
