# nn.TransformerEncoder in eval mode under torch.no_grad() with a key padding
# mask takes torch's fast path (nested tensors): padded positions come out as
# exactly 0.0. Anything that disables the fast path (a Python torch-function or
# dispatch mode) prints other numbers there. A small head trained on the frozen
# features gives a graph to draw.
import torch
from torch import nn

torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=True)
encoder.eval()
src = torch.randn(2, 4, 8)
pad = torch.tensor([[False, False, True, True], [False, False, False, True]])
with torch.no_grad():
    features = encoder(src, src_key_padding_mask=pad)
print("padded rows of sequence 0:", features[0, 2:].tolist())
print("padded row of sequence 1:", features[1, 3].tolist())
head = nn.Linear(8, 1)
scores = head(features).squeeze(-1).masked_fill(pad, 0.0)
loss = scores.pow(2).sum()
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"head.weight.grad norm {head.weight.grad.norm().item():.6e}")
loss
