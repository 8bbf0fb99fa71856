# torchvision ResNet-18 in train mode (BatchNorm batch statistics, in-place ReLU,
# residual adds): one forward, cross-entropy, one backward.
import torch
import vision_shim  # noqa: F401  (before torchvision: see the module)

# isort: split
import torchvision

torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
images = torch.randn(2, 3, 32, 32)
labels = torch.tensor([1, 7])
logits = model(images)
loss = torch.nn.functional.cross_entropy(logits, labels)
print("logits", tuple(logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"conv1.weight.grad sum {model.conv1.weight.grad.sum().item():.6e}")
print(f"fc.weight.grad norm {model.fc.weight.grad.norm().item():.6e}")
print(f"layer4[1].bn2.weight.grad sum {model.layer4[1].bn2.weight.grad.sum().item():.6e}")
loss
