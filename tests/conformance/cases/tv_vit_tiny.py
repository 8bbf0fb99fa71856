# A tiny torchvision VisionTransformer (vit_b_16 is too big for the corpus):
# patch conv, class token, position embedding, nn.MultiheadAttention inside
# an encoder block, LayerNorm, GELU MLP; train mode (dropout 0 by default).
import torch
import vision_shim  # noqa: F401  (before torchvision: see the module)

# isort: split
from torchvision.models import VisionTransformer

torch.manual_seed(0)
model = VisionTransformer(image_size=32, patch_size=8, num_layers=1, num_heads=2,
                          hidden_dim=16, mlp_dim=32, num_classes=5)
# torchvision zero-initialises the head, which would zero every other gradient
torch.nn.init.normal_(model.heads.head.weight, std=0.5)
images = torch.randn(2, 3, 32, 32)
labels = torch.tensor([0, 4])
logits = model(images)
loss = torch.nn.functional.cross_entropy(logits, labels)
print("logits", tuple(logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"class_token.grad norm {model.class_token.grad.norm().item():.6e}")
print(f"conv_proj.weight.grad norm {model.conv_proj.weight.grad.norm().item():.6e}")
in_proj = model.encoder.layers[0].self_attention.in_proj_weight
print(f"in_proj_weight.grad norm {in_proj.grad.norm().item():.6e}")
loss
