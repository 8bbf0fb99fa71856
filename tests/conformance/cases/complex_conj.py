# Complex autograd: conj(z) * f, |w|^2, and a negative-bit view (the imaginary
# part of a conjugate is a lazily negated view).
import torch

z = torch.tensor([1 + 2j, -0.5 + 0.25j, 3 - 1j], requires_grad=True)
f = torch.tensor([0.5 - 1j, 2 + 0j, -1 + 1j])
w = torch.conj(z) * f
neg_imag = z.conj().imag
print("neg bit", neg_imag.is_neg())
loss = (w * w.conj()).real.sum() + neg_imag.sum()
print(f"loss {loss.item():.6f}")
loss.backward()
print("z.grad", z.grad)
loss
