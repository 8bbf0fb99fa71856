# backward() called inside functions that use their own locals(): the dict locals()
# returns is the frame's own, and gradstep reads the caller's names through it; it must
# stay as the function left it (an exec'd name in it, a loop over it while backward runs).
import torch


def held(x):
    y = (x * 2).sum()
    names = locals()
    y.backward()
    return sorted(names)


def loop(x):
    a = (x * 3).sum()
    b = (x * 4).sum()
    for name, value in locals().items():
        if name != "x":
            value.backward()
    return x.grad.tolist()


def executed(x):
    exec("a = (x * 5).sum()")
    locals()["a"].backward()
    return locals()["a"].item()


x = torch.ones(3, requires_grad=True)
print("held", held(x))
print("loop", loop(x))
print("executed", executed(x))
loss = (x * x).sum()
loss
