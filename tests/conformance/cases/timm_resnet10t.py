# A timm model built without weights (resnet10t: deep stem, average-pool
# downsampling), train mode, forward + backward.
import torch
import vision_shim  # noqa: F401  (timm imports torchvision: see the module)

# isort: split
import timm

torch.manual_seed(0)
model = timm.create_model("resnet10t", pretrained=False, num_classes=7)
images = torch.randn(2, 3, 32, 32)
labels = torch.tensor([1, 6])
logits = model(images)
loss = torch.nn.functional.cross_entropy(logits, labels)
print("logits", tuple(logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"fc.weight.grad norm {model.fc.weight.grad.norm().item():.6e}")
print(f"conv1[0].weight.grad sum {model.conv1[0].weight.grad.sum().item():.6e}")
loss
