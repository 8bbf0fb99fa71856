# Views that go stale and are then touched by statements that run no autograd op on the
# view itself: an attribute set, an in-place change under no_grad, a list slot assigned,
# and `x[i] = v` with grad on (torch changes the view x[i], so x's own node goes stale).
# torch rebuilds a stale view's grad_fn where it is next used, and its new sequence
# number decides where the engine runs it: the hooks' print order shows it.
import torch

leaf = torch.ones(10, requires_grad=True)
base = leaf.clone()
u = base[:2]
v = base[2:4]
w = base[4:6]
s = base[6:8]
t = base[8:]
base.mul_(2)
u.tag = "stale"
with torch.no_grad():
    v[0] = 5.0
    w += 1.0
keep = [u]
keep[0] = u
s[0] = 7.0
t[1] += 2.0
other = leaf * 3
out = u.sum() + v.sum() + w.sum() + other.sum() + s.sum() + t.sum()
for name, x in [("u", u), ("v", v), ("w", w), ("s", s), ("t", t), ("other", other)]:
    x.register_hook(lambda g, name=name: print("hook", name))
out.backward(retain_graph=True)
print("leaf.grad", leaf.grad.tolist())
out
