# HuggingFace Llama (tiny config, random weights) with a pad token and a
# left-padded batch: rotary embeddings, grouped-query attention (2 heads, 1 KV
# head), SwiGLU MLP, RMSNorm, padding positions ignored in the loss (-100).
import torch
import vision_shim  # noqa: F401  (transformers imports torchvision: see the module)

# isort: split
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=32,
                     pad_token_id=0)
model = LlamaForCausalLM(config)
input_ids = torch.randint(1, 64, (2, 8))
attention_mask = torch.ones(2, 8, dtype=torch.long)
input_ids[1, :3] = 0
attention_mask[1, :3] = 0
labels = input_ids.masked_fill(attention_mask == 0, -100)
out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
loss = out.loss
print("logits", tuple(out.logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"embed_tokens.grad norm {model.model.embed_tokens.weight.grad.norm().item():.6e}")
print(f"layers[0].mlp.gate_proj.grad sum {model.model.layers[0].mlp.gate_proj.weight.grad.sum().item():.6e}")
loss
