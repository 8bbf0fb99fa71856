# A tensor hook registered inside a module's forward, on a tensor gone with the call,
# that doubles its gradient in place: each step is what torch passed on (the pass copies).
import torch

torch.manual_seed(0)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x):
        h = self.lin(x)
        h.register_hook(lambda g: g.mul_(2))
        return h.relu()


model = Block()
x = torch.randn(4, 3)
loss = model(x).sum()
loss.backward()
print(model.lin.weight.grad)
print(model.lin.bias.grad)
loss
