# One transformer encoder layer and a squared-mean loss.
import torch
from torch import nn

torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
x = torch.randn(1, 3, 8)
loss = layer(x).pow(2).mean()
