# Backward twice without retain_graph: the second call raises torch's
# "Trying to backward through the graph a second time" after a graph was built
# and one pass ran.
import torch

x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
y = x.exp()
loss = y.sum()
loss.backward()
print("x.grad", x.grad.tolist())
loss.backward()
print("not reached")
loss
