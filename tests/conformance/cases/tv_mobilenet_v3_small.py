# torchvision MobileNetV3-small in train mode: hardswish, squeeze-excitation
# (hardsigmoid gates multiplied into the features), dropout, BatchNorm.
import torch
import vision_shim  # noqa: F401  (before torchvision: see the module)

# isort: split
import torchvision

torch.manual_seed(0)
model = torchvision.models.mobilenet_v3_small(num_classes=10)
images = torch.randn(2, 3, 64, 64)
labels = torch.tensor([3, 5])
logits = model(images)
loss = torch.nn.functional.cross_entropy(logits, labels)
print("logits", tuple(logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
first = model.features[0][0].weight
print(f"features[0][0].weight.grad sum {first.grad.sum().item():.6e}")
print(f"classifier[3].weight.grad norm {model.classifier[3].weight.grad.norm().item():.6e}")
loss
