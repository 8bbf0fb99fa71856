# A nested tensor as a leaf: its strided layout has no one shape (torch raises when asked),
# so gradstep shows its node without a shape or value, and the trace goes on.
import torch

nt = torch.nested.nested_tensor([torch.ones(2, 3), torch.ones(4, 3)], requires_grad=True)
nout = nt * 2
loss = torch.nested.to_padded_tensor(nout, 0.0).sum()
loss.backward(retain_graph=True)
print(nt.grad.is_nested, [g.sum().item() for g in nt.grad.unbind()])
loss
