# torch.inference_mode(): features computed there are inference tensors (no
# graph, no version counter); a clone outside makes a normal tensor to train on.
import torch
from torch import nn

torch.manual_seed(0)
backbone = nn.Linear(3, 4)
with torch.inference_mode():
    feats = backbone(torch.randn(2, 3))
print("inference tensor", feats.is_inference(), "requires_grad", feats.requires_grad)
head = nn.Linear(4, 1)
x = feats.clone()
loss = head(x).pow(2).mean()
print(f"loss {loss.item():.6f}")
loss.backward()
print("head.weight.grad", head.weight.grad.tolist())
print("backbone.weight.grad", backbone.weight.grad)
loss
