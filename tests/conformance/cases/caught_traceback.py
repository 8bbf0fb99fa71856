# A snippet that catches torch's error and prints its traceback's frames (as
# traceback.print_exc would): the snippet's line, then torch's. Through gradstep's
# wrappers of backward, autograd.grad and register_hook they showed the wrappers' own
# frames too (calls.py wrapper, record, backward.py _kept_error).
import traceback

import torch

x = torch.ones(3, requires_grad=True)
y = (x * 2).sum()
y.backward()
try:
    y.backward()
except RuntimeError as e:
    print("".join(traceback.format_tb(e.__traceback__)))


def hook(g):
    raise ValueError("bad hook")


w = x * 3
w.register_hook(hook)
try:
    w.sum().backward()
except ValueError as e:
    print([(frame.name, frame.line) for frame in traceback.extract_tb(e.__traceback__)])
try:
    torch.autograd.grad(w.sum(), [x])
except ValueError as e:
    print("".join(traceback.format_tb(e.__traceback__)))
try:
    torch.ones(2).register_hook(print)
except RuntimeError as e:
    print("".join(traceback.format_tb(e.__traceback__)))
loss = x.exp().sum()  # its node saves its output: the oracle reads the value there
loss.backward()
print(x.grad)
loss
