"""Snippets with a planted NaN or infinity, and where it really starts.

Each ``Planted`` names the node class and snippet line of the true origin and the
finding kind gradstep must report; what ``detect_anomaly`` says about the same
snippet is computed by the tests (``anomaly_oracle``), never written here.
"""

from __future__ import annotations

from typing import NamedTuple


class Planted(NamedTuple):
    source: str
    kind: str  # the finding kind of the origin
    name: str  # its node class
    line: int  # the snippet line that ran it
    index: list  # the first element that went wrong
    inputs: list  # the input element(s) that made it


SQRT_NEGATIVE = Planted("""\
x = torch.tensor([1.0, 4.0], requires_grad=True)
a = torch.sqrt(x - 2)          # sqrt(-1): NaN starts here
b = a * 3
c = torch.sqrt(b + 10)         # only carries it
loss = c.sum()
loss.backward()
""", "nan_forward", "SqrtBackward0", 2, [0], [-1.0])

LOG_ZERO = Planted("""\
x = torch.tensor([0.0, 2.0], requires_grad=True)
h = x * 3
y = torch.log(h)               # log(0) = -Infinity
loss = (y * 2).sum()
loss.backward()
""", "inf_forward", "LogBackward0", 3, [0], [0.0])

ZERO_BY_ZERO = Planted("""\
counts = torch.tensor([2.0, 0.0], requires_grad=True)
totals = counts * 5
mean = totals / counts         # 0 / 0 = NaN
loss = mean.sum()
loss.backward()
""", "nan_forward", "DivBackward0", 3, [1], [0.0, 0.0])

EXP_OVERFLOW = Planted("""\
z = torch.tensor([10.0, 100.0], requires_grad=True)
e = torch.exp(z)               # exp(100) overflows float32: Infinity
p = e / e.sum()                # Infinity / Infinity = NaN
loss = -torch.log(p[0])
loss.backward()
""", "inf_forward", "ExpBackward0", 2, [1], [100.0])

# torch names its node Log1PBackward0 (title() of "log1p"): the op is still log1p, pointwise
LOG1P_BELOW_MINUS_ONE = Planted("""\
x = torch.tensor([-2.0, 3.0], requires_grad=True)
y = torch.log1p(x)             # log1p(-2) = NaN
loss = (y * 2).sum()
loss.backward()
""", "nan_forward", "Log1PBackward0", 2, [0], [-2.0])

SQRT_AT_ZERO_BACKWARD = Planted("""\
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = torch.tensor([1.0, 2.0])
diff = a - b
sq = (diff ** 2).sum()
dist = torch.sqrt(sq)          # forward 0 is fine; its gradient 1/(2*sqrt(0)) is not
dist.backward()
""", "inf_grad", "SqrtBackward0", 5, [], [0.0])

CUSTOM_FUNCTION = Planted("""\
class ScaledLog(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log(x + 1)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 0 / (x - x)  # a bug: 0 / 0

x = torch.tensor([1.0, 2.0], requires_grad=True)
y = ScaledLog.apply(x)
loss = y.sum()
loss.backward()
""", "nan_grad", "ScaledLogBackward", 13, [0], [])

CLEAN_MODEL = """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
x = torch.randn(16, 4)
target = torch.randn(16, 1)
loss = F.mse_loss(model(x), target)
loss.backward()
"""

# A NaN inside a module's forward: the op that makes it is library-level code
# (not the snippet's own line), so its value is captured only with --deep-values.
MODEL_WITH_NAN = """\
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        h = self.linear(x)
        h = torch.log(h)           # negative pre-activations: NaN
        return h + 1

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), Block(), nn.Linear(4, 1))
x = torch.randn(8, 3)
loss = model(x).pow(2).mean()
loss.backward()
"""

# A small model whose loss takes the square root of deviations, half of them negative
# (the Diagnose view's screenshot and the window tests).
MODEL_WITH_PLANTED_SQRT = Planted("""\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
x = torch.randn(16, 4)
target = torch.rand(16, 1)
pred = model(x)
spread = torch.sqrt(pred - pred.mean())  # negative deviations: NaN
loss = F.mse_loss(spread, target)
loss.backward()
""", "nan_forward", "SqrtBackward0", 6, [], [])

PLANTED = {
    "sqrt of a negative": SQRT_NEGATIVE,
    "log(0)": LOG_ZERO,
    "0/0": ZERO_BY_ZERO,
    "exp overflow": EXP_OVERFLOW,
    "log1p below -1": LOG1P_BELOW_MINUS_ONE,
    "sqrt at 0, backward only": SQRT_AT_ZERO_BACKWARD,
    "custom Function": CUSTOM_FUNCTION,
}
