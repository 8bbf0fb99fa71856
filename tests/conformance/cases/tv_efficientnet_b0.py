# torchvision EfficientNet-B0 on a small input in train mode: SiLU, squeeze-
# excitation, stochastic depth (random, seeded), dropout, BatchNorm.
import torch
import vision_shim  # noqa: F401  (before torchvision: see the module)

# isort: split
import torchvision

torch.manual_seed(0)
model = torchvision.models.efficientnet_b0(num_classes=10)
images = torch.randn(2, 3, 32, 32)
labels = torch.tensor([2, 9])
logits = model(images)
loss = torch.nn.functional.cross_entropy(logits, labels)
print("logits", tuple(logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
stem = model.features[0][0].weight
print(f"stem weight.grad sum {stem.grad.sum().item():.6e}")
print(f"classifier[1].weight.grad norm {model.classifier[1].weight.grad.norm().item():.6e}")
loss
