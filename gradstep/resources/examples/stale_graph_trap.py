# The stale-graph trap (seed 001, In [22]-[23]): requires_grad_() AFTER the loss
# was built does not change the graph mse already has (none), so the same error
# comes back. 参数声明需要记录求导信息, 但是计算图并没有更新
import torch
import torch.nn.functional as F

x = torch.ones(1)
w = torch.full([1], 2.)
mse = F.mse_loss(torch.ones(1), x * w)
print(mse)  # tensor(1.)
w.requires_grad_()
print(w)  # tensor([2.], requires_grad=True)
# RuntimeError again: mse was computed before w required grad
print(torch.autograd.grad(mse, [w]))
