# torch.use_deterministic_algorithms(True, warn_only=True): an op without a deterministic
# version (put_, also in its backward) warns where it runs. gradstep computes no local
# Jacobian then: calling the node would add a warning of its own to the output.
import torch

torch.use_deterministic_algorithms(True, warn_only=True)
a = torch.ones(4, requires_grad=True)
src = torch.tensor([5.0, 6.0], requires_grad=True)
b = a.clone()
b.put_(torch.tensor([0, 2]), src)
loss = (b * 2).sum()
loss.backward(retain_graph=True)
print(a.grad, src.grad)
loss
