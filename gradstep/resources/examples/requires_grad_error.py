# The requires_grad error (seeds 000, 001): w was created without requires_grad,
# so autograd recorded no graph for mse and cannot differentiate it.
# 这是由于 w 参数在初始化时并没有赋予其导数信息, pytorch 不知道 w 需要求导信息
import torch
import torch.nn.functional as F

x = torch.ones(1)
print(x)  # tensor([1.])
w = torch.full([1], 2.)
print(w)  # tensor([2.])
mse = F.mse_loss(torch.ones(1), x * w)
print(mse)  # tensor(1.)
# RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
print(torch.autograd.grad(mse, [w]))
