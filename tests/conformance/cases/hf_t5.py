# HuggingFace T5 encoder-decoder (tiny config, random weights): relative position
# bias, RMS layer norm, cross-attention, labels shifted into decoder inputs.
import torch
import vision_shim  # noqa: F401  (transformers imports torchvision: see the module)

# isort: split
from transformers import T5Config, T5ForConditionalGeneration

torch.manual_seed(0)
config = T5Config(vocab_size=64, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2,
                  decoder_start_token_id=0, pad_token_id=0)
model = T5ForConditionalGeneration(config)
input_ids = torch.randint(1, 64, (2, 8))
attention_mask = torch.ones(2, 8, dtype=torch.long)
attention_mask[0, 6:] = 0
labels = torch.randint(1, 64, (2, 5))
out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
loss = out.loss
print("logits", tuple(out.logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"shared.weight.grad norm {model.shared.weight.grad.norm().item():.6e}")
bias = model.encoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight
print(f"relative_attention_bias.grad norm {bias.grad.norm().item():.6e}")
loss
