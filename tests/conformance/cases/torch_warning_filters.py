# Importing torch adds warning filters (TracerWarnings from torch's own modules are
# ignored outside torch.jit): the snippet runs with them, as a plain run does once it
# imported torch (gradstep's kernel imported torch first, then reset the filters to
# Python's bare defaults, and four TracerWarnings about nn.LSTM appeared).
import warnings

import torch
from torch import nn

warnings.warn_explicit("from torch's own code", torch.jit.TracerWarning, "x.py", 1,
                       module="torch.nn.functional")
torch.manual_seed(0)
lstm = nn.LSTM(1, 2)
traced = torch.jit.trace(lstm, torch.ones(3, 1, 1))
x = torch.ones(3, 1, 1, requires_grad=True)
loss = traced(x)[0].sum()
print(f"loss {loss.item():.6f}")
loss
