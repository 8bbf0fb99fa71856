# nn.Transformer (encoder + decoder) in train mode: dropout (seeded), a causal
# target mask, multi-head self- and cross-attention through
# F.multi_head_attention_forward, LayerNorm.
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                       dim_feedforward=32, batch_first=True)
model.train()
src = torch.randn(2, 5, 16)
tgt = torch.randn(2, 4, 16)
tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
out = model(src, tgt, tgt_mask=tgt_mask)
weights = torch.randn(2, 4, 16)
loss = (out * weights).sum()
print("out", tuple(out.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
enc_attn = model.encoder.layers[0].self_attn.in_proj_weight
print(f"encoder in_proj_weight.grad norm {enc_attn.grad.norm().item():.6e}")
print(f"decoder linear2.weight.grad norm {model.decoder.layers[0].linear2.weight.grad.norm().item():.6e}")
loss
