# A ResNet-50-like CNN built from torch.nn (bottleneck blocks 3-4-6-3), tiny input.
import torch
from torch import nn


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, stride):
        super().__init__()
        cout = mid * 4
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        skip = x if self.down is None else self.down(x)
        return self.relu(out + skip)


class ResNet50(nn.Module):
    def __init__(self, width=4, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width * 4, 7, 2, 3, bias=False),
                                  nn.BatchNorm2d(width * 4), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], width * 4
        for i, (mid, blocks) in enumerate([(width, 3), (width * 2, 4), (width * 4, 6), (width * 8, 3)]):
            stage = []
            for b in range(blocks):
                stage.append(Bottleneck(cin, mid, 2 if (b == 0 and i > 0) else 1))
                cin = mid * 4
            layers.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.head(x.mean((2, 3)))


torch.manual_seed(0)
net = ResNet50()
loss = nn.functional.cross_entropy(net(torch.randn(2, 3, 64, 64)), torch.tensor([3, 1]))
