# Every op records its grad_fn; backward through the chain (seed 003).
# out = mean(3 (x + 2)^2), so d out / d x = 6 (x + 2) / 4 = 4.5 where x = 1
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)  # grad_fn=<AddBackward0>
z = y ** 2 * 3
print(z)  # grad_fn=<MulBackward0>
out = z.mean()
print(out)  # tensor(27., grad_fn=<MeanBackward0>)
out.backward()
print(x.grad)  # tensor([[4.5000, 4.5000], [4.5000, 4.5000]])
