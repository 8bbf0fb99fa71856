# torch.autograd.grad and backward take any iterable of tensors, and the commonest one is a
# generator: model.parameters(). gradstep reads the call's tensors before torch does, and
# must leave torch the same tensors (a used-up generator made grad() raise "inputs cannot
# be empty" and backward() do nothing).
import torch

torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
x = torch.ones(2, 3, requires_grad=True)
out = model(x).sum()
grads = torch.autograd.grad(out, model.parameters(), retain_graph=True)
print(len(grads), [round(v, 4) for v in grads[0].flatten().tolist()])
y = x * 2
z = x * 3
g = torch.autograd.grad(iter([y.sum(), z.sum()]), [x],
                        grad_outputs=(t for t in [torch.tensor(1.0), torch.tensor(2.0)]))
print(g[0].tolist())
torch.autograd.backward(t for t in [out])
print(model.bias.grad.tolist())
loss = (x * 4).sum()
loss
