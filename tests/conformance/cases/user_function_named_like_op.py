# A snippet's own function (and a user object's method) may carry a torch op's name. What
# it returns is not that op's output: here a tensor changed in place after its op ran, so
# its value now is not what the op computed (and torch's backward used).
import torch

x = torch.ones(3, requires_grad=True)


def normalize(t):  # F.normalize's name
    y = t * 2
    with torch.no_grad():
        y.add_(1)
    return y


class Scaler:
    def mul(self, t):  # Tensor.mul's name
        y = t * 5
        with torch.no_grad():
            y.sub_(1)
        return y


z = normalize(x)
s = Scaler().mul(x)
loss = (z * s).sum()
loss.backward(retain_graph=True)
print(x.grad)
loss
