# HuggingFace Mistral (tiny config, random weights): sliding-window attention
# mask, rotary embeddings, grouped-query attention, SwiGLU MLP.
import torch
import vision_shim  # noqa: F401  (transformers imports torchvision: see the module)

# isort: split
from transformers import MistralConfig, MistralForCausalLM

torch.manual_seed(0)
config = MistralConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=32,
                       sliding_window=4, pad_token_id=0)
model = MistralForCausalLM(config)
input_ids = torch.randint(1, 64, (2, 8))
out = model(input_ids=input_ids, labels=input_ids)
loss = out.loss
print("logits", tuple(out.logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"lm_head.weight.grad norm {model.lm_head.weight.grad.norm().item():.6e}")
print(f"layers[1].self_attn.q_proj.grad sum {model.model.layers[1].self_attn.q_proj.weight.grad.sum().item():.6e}")
loss
