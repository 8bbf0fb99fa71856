# HuggingFace GPT-2 from a tiny config (random weights, no download): causal
# self-attention through scaled_dot_product_attention, tied embeddings, the
# model's own shifted cross-entropy loss.
import torch
import vision_shim  # noqa: F401  (transformers imports torchvision: see the module)

# isort: split
from transformers import GPT2Config, GPT2LMHeadModel

torch.manual_seed(0)
config = GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=64, n_positions=16)
model = GPT2LMHeadModel(config)
input_ids = torch.randint(0, 64, (2, 8))
out = model(input_ids=input_ids, labels=input_ids)
loss = out.loss
print("logits", tuple(out.logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"wte.weight.grad norm {model.transformer.wte.weight.grad.norm().item():.6e}")
print(f"h[0].attn.c_attn.weight.grad norm {model.transformer.h[0].attn.c_attn.weight.grad.norm().item():.6e}")
loss
