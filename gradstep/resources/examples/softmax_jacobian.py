# Softmax and its Jacobian (seed 001): dp_i/da_j = p_i (delta_ij - p_j).
# The seed drew a = torch.rand(3) and got tensor([0.1440, 0.5349, 0.7022]);
# we write those values down so the numbers come out the same every time.
import torch
import torch.nn.functional as F

a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
p = F.softmax(a, dim=0)
print(p)
# one row of the Jacobian per call: i = j positive, i != j negative
# retain_graph=True keeps the graph's saved tensors for the second call
print(torch.autograd.grad(p[1], [a], retain_graph=True))  # (tensor([-0.0828, 0.2274, -0.1447]),)
print(torch.autograd.grad(p[2], [a]))  # (tensor([-0.0979, -0.1447, 0.2425]),)
