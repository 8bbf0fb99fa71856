# MSE and its gradient with torch.autograd.grad (seeds 000, 001)
# 假设构建的是 pred = wx + b 的线性模型: x 初始化为 1, w 为 dim=1、值为 2 的 tensor, b 为 0
import torch
import torch.nn.functional as F

x = torch.ones(1)
# requires_grad=True when the tensor is created: autograd records every op on w
w = torch.full([1], 2., requires_grad=True)
mse = F.mse_loss(torch.ones(1), x * w)
print(mse)  # tensor(1.): (1 - 2)^2

# torch.autograd.grad(loss, [w1, w2, ...]) returns d loss / d w for each w
print(torch.autograd.grad(mse, [w]))  # (tensor([2.]),): 2 * (1 - 2) * (-1) = 2
