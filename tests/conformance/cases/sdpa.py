# F.scaled_dot_product_attention with a boolean mask and with is_causal=True
# (torch picks a CPU kernel; a Python mode can make it pick another).
import torch
import torch.nn.functional as F

torch.manual_seed(0)
q = torch.randn(1, 2, 4, 8, requires_grad=True)
k = torch.randn(1, 2, 4, 8, requires_grad=True)
v = torch.randn(1, 2, 4, 8, requires_grad=True)
mask = torch.tril(torch.ones(4, 4, dtype=torch.bool))
masked = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
loss = masked.pow(2).mean() + (masked - causal).abs().sum()
print(f"loss {loss.item():.6f}")
print("max difference masked vs causal", (masked - causal).abs().max().item())
loss.backward()
print(f"q.grad norm {q.grad.norm().item():.6e}")
print(f"v.grad sum {v.grad.sum().item():.6e}")
loss
