# The fix for the retain_graph error: keep the graph with retain_graph=True on the
# first backward, so the second one can go through it again.
# 需要设置为 retain_graph=True
import torch
import torch.nn.functional as F

a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
p = F.softmax(a, dim=0)
p[1].backward(retain_graph=True)
print(a.grad)  # tensor([-0.0828, 0.2274, -0.1447])
p[1].backward()  # works; .grad accumulates, so it doubles
print(a.grad)
