# The retain_graph error (seeds 001, 002). As seed 002 explains, the slide left
# out one backward call: the error comes from the SECOND backward through the
# same graph, after the first one freed its saved tensors.
# 默认 retain_graph=False, 反向传播之后这个计算图的内存会被释放
import torch
import torch.nn.functional as F

a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
p = F.softmax(a, dim=0)
p[1].backward()  # frees the graph's saved tensors
print(a.grad)  # tensor([-0.0828, 0.2274, -0.1447])
# RuntimeError: Trying to backward through the graph a second time ...
p[1].backward()
