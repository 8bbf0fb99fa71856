# A stale view: a view whose base is modified in place after the view was taken.
# Its grad_fn is regenerated when it is next used (or read): reading it earlier,
# as an observer might, is not the same thing.
import torch

x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
b = x * 1.0
v = b[1:4]
b.mul_(2.0)
w = v * 3.0
loss = w.sum() + b.sum()
print("w", w.tolist())
print(f"loss {loss.item():.6f}")
loss.backward()
print("x.grad", x.grad.tolist())
loss
