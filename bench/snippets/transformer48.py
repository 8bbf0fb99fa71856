# A 48-layer transformer encoder (small widths: the graph, not the arithmetic, is the point).
import torch
from torch import nn

torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True)
model = nn.TransformerEncoder(layer, num_layers=48, enable_nested_tensor=False)
x = torch.randn(2, 5, 16)
loss = model(x).pow(2).mean()
