# Views that go stale and are then touched by statements that run no autograd op on
# them: an attribute set, an in-place change under no_grad, a list slot assigned.
# torch rebuilds a stale view's grad_fn where it is next used, and its new sequence
# number decides where the engine runs it: the hooks' print order shows it.
import torch

leaf = torch.ones(6, requires_grad=True)
base = leaf.clone()
u = base[:2]
v = base[2:4]
w = base[4:]
base.mul_(2)
u.tag = "stale"
with torch.no_grad():
    v[0] = 5.0
    w += 1.0
keep = [u]
keep[0] = u
other = leaf * 3
out = u.sum() + v.sum() + w.sum() + other.sum()
for name, t in [("u", u), ("v", v), ("w", w), ("other", other)]:
    t.register_hook(lambda g, name=name: print("hook", name))
out.backward(retain_graph=True)
print("leaf.grad", leaf.grad.tolist())
out
