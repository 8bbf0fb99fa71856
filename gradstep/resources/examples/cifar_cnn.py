# The seed's CIFAR-10 network and one backward pass (seed 004). Instead of
# downloading CIFAR-10, one random 3x32x32 image with the label 3 goes through it.
import torch
from torch import nn
from torch.nn import Conv2d, Flatten, Linear, MaxPool2d, Sequential


class MyNet(nn.Module):
    def __init__(self):
        super(MyNet, self).__init__()  # noqa: UP008 (as the seed wrote it)
        self.model1 = Sequential(
            Conv2d(3, 32, 5, padding=2),
            MaxPool2d(2),
            Conv2d(32, 32, 5, padding=2),
            MaxPool2d(2),
            Conv2d(32, 64, 5, padding=2),
            MaxPool2d(2),
            Flatten(),
            Linear(1024, 64),
            Linear(64, 10)
        )

    def forward(self, x):
        x = self.model1(x)
        return x


torch.manual_seed(0)
loss = nn.CrossEntropyLoss()
net = MyNet()
imgs = torch.rand(1, 3, 32, 32)  # one image, batch_size=1
targets = torch.tensor([3])
outputs = net(imgs)
res_loss = loss(outputs, targets)
# 计算梯度, 并将其累积到各个参数的 .grad 属性中
res_loss.backward()
print("ok")
