# The fix for the stale-graph trap (seed 001, In [24]-[28]): after requires_grad_(),
# build the loss again so autograd records a graph that reaches w.
# 再次运行一次 mse_loss 函数更新计算图, 最后得到想要的结果
import torch
import torch.nn.functional as F

x = torch.ones(1)
w = torch.full([1], 2.)
mse = F.mse_loss(torch.ones(1), x * w)
w.requires_grad_()
print(w)  # tensor([2.], requires_grad=True)
mse = F.mse_loss(torch.ones(1), x * w)  # rebuild the graph
print(torch.autograd.grad(mse, [w]))  # (tensor([2.]),)

# the same with backward(): rebuild once more (autograd.grad freed the graph)
mse = F.mse_loss(torch.ones(1), x * w)
mse.backward()
print(w.grad)  # tensor([2.])
