# MSE and its gradient with loss.backward() (seeds 000, 001)
# 更简便的办法是使用 .backward() 函数进行求导
import torch
import torch.nn.functional as F

x = torch.ones(1)
w = torch.full([1], 2., requires_grad=True)
# 构建动态图, 完成 MSE 的构建
mse = F.mse_loss(torch.ones(1), x * w)
print(mse)
# backward() sends the gradient from the loss back to every leaf and stores it in .grad
mse.backward()
print(w.grad)  # tensor([2.])
