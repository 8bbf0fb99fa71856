# A view changed by `v += x` under no_grad goes stale: torch rebuilds its node where it is
# next used (after `other` is made), so the engine runs v's node first: reading it
# right after the change would rebuild it before `other`'s, and the hooks would swap.
import torch

leaf = torch.ones(4, requires_grad=True)
base = leaf.clone()
v = base[:2]
with torch.no_grad():
    v += 5.0
other = leaf * 3
out = v.sum() + other.sum()
v.register_hook(lambda g: print("hook v"))
other.register_hook(lambda g: print("hook other"))
out.backward(retain_graph=True)
print(leaf.grad)
out
