# A saved view gone stale: c saved the view v of b, b then changed in place through
# its base. A call that does not run c's node leaves v's node as it is (torch rebuilds
# it only when it reads it: the sequence numbers printed tell); the next call raises.
import torch

x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
b = x * 2.0
v = b[:3]
c = v.sin()
e = x.exp()
out = c.sum() + e.sum()
b.add_(1.0)
before = (x * 1.0).grad_fn._sequence_nr()
(g,) = torch.autograd.grad(out, e, retain_graph=True)
print("grad", g.tolist(), "numbers", (x * 1.0).grad_fn._sequence_nr() - before)
try:
    out.backward()
except RuntimeError as exc:
    print("refused:", str(exc).split(". Hint")[0])
print("x.grad", x.grad)
out
