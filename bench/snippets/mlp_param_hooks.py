# 8 Linear(1024, 1024) layers on a batch of 256, a read-only tensor hook on every parameter
# (core8 review: such a pass is recorded by the copying hooks, docs/speed.md item 62).
import torch

torch.manual_seed(0)
layers = [torch.nn.Linear(1024, 1024) for _ in range(8)]
for layer in layers:
    for p in layer.parameters():
        p.register_hook(lambda g: None)  # a read-only hook (a Grad-CAM's, a logger's)
x = torch.randn(256, 1024)
h = x
for layer in layers:
    h = torch.relu(layer(h))
loss = h.sum()
