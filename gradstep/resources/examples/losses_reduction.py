# L1Loss, MSELoss and CrossEntropyLoss, and what reduction= does (seed 004).
# The predictions require grad here so each loss has a graph to draw; the
# values are the seed's.
import torch
from torch.nn import CrossEntropyLoss, L1Loss, MSELoss

inputs = torch.tensor([1, 2, 3], dtype=torch.float32, requires_grad=True)
targets = torch.tensor([1, 2, 5], dtype=torch.float32)

inputs = torch.reshape(inputs, (1, 1, 1, 3))
targets = torch.reshape(targets, (1, 1, 1, 3))

# 预测值和目标值之间的绝对差值的平均数, reduction='sum' 时为绝对差值的和
loss = L1Loss()
res = loss(inputs, targets)
print(res)  # tensor(0.6667): (0 + 0 + 2) / 3

loss_sum = L1Loss(reduction='sum')
res_sum = loss_sum(inputs, targets)
print(res_sum)  # tensor(2.)

# 均方误差: 每一个元素误差的平方和然后再平均
loss_mse = MSELoss()
res_mse = loss_mse(inputs, targets)
print(res_mse)  # tensor(1.3333): (0 + 0 + 4) / 3

# softmax, then cross entropy against the true class 1
x = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
y = torch.tensor([1])
x = torch.reshape(x, (1, 3))
loss_cross = CrossEntropyLoss()
res_cross = loss_cross(x, y)
print(res_cross)  # tensor(1.1019)
