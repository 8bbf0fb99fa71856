# Warnings go to stderr, prints to stdout, in the order the program ran them:
# the snippet's own warnings.warn, torch's UserWarning for reading .grad of a
# non-leaf tensor, and an explicit print to stderr.
import sys
import warnings

import torch

print("start")
warnings.warn("a warning from the snippet itself", stacklevel=1)
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 2
print("non-leaf grad:", y.grad)
print("to stderr", file=sys.stderr)
loss = y.sum()
loss.backward()
print("x.grad", x.grad.tolist())
loss
