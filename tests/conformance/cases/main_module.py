# The snippet runs as python's own __main__: its globals, pickle and torch.save of
# the classes it defines, inspect.getsource of them, dataclasses reading annotations
# (evaluated: no `from __future__ import annotations` of gradstep's own leaks in), and
# a long operator chain that python compiles.
import dataclasses
import inspect
import io
import os
import pickle
import typing

import torch


class Box:
    pass


@dataclasses.dataclass
class Config:
    n: int = 2
    k: typing.ClassVar[int] = 3


x: torch.Tensor = torch.ones(3, requires_grad=True)
print(sorted(k for k in globals() if k.startswith("__")))
print(type(__loader__).__name__, __cached__, __annotations__)
print(os.path.isabs(__file__), os.path.basename(__file__))
print(type(pickle.loads(pickle.dumps(Box()))).__name__)
buffer = io.BytesIO()
torch.save(Config(), buffer)
print(torch.load(io.BytesIO(buffer.getvalue()), weights_only=False))
print([f.name for f in dataclasses.fields(Config)])
print(inspect.getsource(Box).splitlines()[0])
y = x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x
loss = y.sum()
print(loss.item())
loss
