# A short training loop: three backward calls on three graphs, SGD with
# momentum updating the parameters in place under no_grad, zero_grad between.
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = torch.randn(5, 3)
target = torch.randn(5, 1)
for step in range(3):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), target)
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.6f}")
print(f"final weight sum {model[0].weight.sum().item():.6e}")
loss
