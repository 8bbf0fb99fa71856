# A snippet that reads __file__ and imports a helper module from its own folder,
# as `python file_and_sibling.py` allows (the script's folder is first on sys.path).
import os

import torch
from sibling_blocks import TwoLayer, scaled

here = os.path.dirname(os.path.abspath(__file__))
print("running", os.path.basename(__file__))
print("helper next to me:", os.path.exists(os.path.join(here, "sibling_blocks.py")))
torch.manual_seed(0)
net = TwoLayer(4, 3)
x = torch.randn(2, 4)
loss = scaled(net(x)).pow(2).sum()
print(f"loss {loss.item():.6f}")
loss.backward()
print(f"first.weight.grad sum {net.first.weight.grad.sum().item():.6e}")
loss
