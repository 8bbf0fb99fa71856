# requires_grad_() and torch.no_grad() (seed 003).
# 为了防止跟踪历史记录(和使用内存), 可以将代码块包装在 with torch.no_grad(): 中
import torch

torch.manual_seed(0)  # the seed used torch.randn without a seed; fixed here
a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)  # False
a.requires_grad_(True)  # 更改
print(a.requires_grad)  # True
b = (a * a).sum()
print(b.grad_fn)  # <SumBackward0 object at 0x...>
with torch.no_grad():
    c = (a * a).sum()
print(c.requires_grad)  # False
