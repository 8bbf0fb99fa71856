# The backward call sits in a helper module of the snippet's own folder
# (helper_train.step): it is the snippet's call, recorded at the line that called
# the helper. Before, it ran unrecorded, freed the graph, and gradstep backward /
# check then failed on the freed buffers (exit 1) where python ran without error.
import torch
from helper_train import step

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
x = torch.randn(5, 3)
target = torch.randn(5, 1)
loss = step(model, x, target)
print(f"loss {loss.item():.6f}")
print(f"first weight grad sum {model[0].weight.grad.sum().item():.6e}")
loss
