"""The recursion limit as a snippet meets it: under ``python FILE`` its ``<module>`` has
nothing above it, under gradstep the runner's frames (and here pytest's); ``snippet_depth``
raises the limit by what those use and shows the snippet python's limit."""

import subprocess
import sys

from gradstep.autograd.session import Session

# the snippets' probe: how deep a function of theirs goes
DEEPEST = """\
def deepest(n=1):
    try:
        return deepest(n + 1)
    except RecursionError:
        return n
"""
LIMITS = """\
import sys
import traceback


""" + DEEPEST + """


def nested(depth):
    return [] if depth == 0 else [nested(depth - 1)]


def count(n):
    return 0 if n == 0 else 1 + count(n - 1)


print(deepest(), sys.getrecursionlimit(), count(996))
for bad in (0, -5, 1.5, "x", 2 ** 40, 1, 2):
    try:
        sys.setrecursionlimit(bad)
    except Exception as e:
        print(type(e).__name__, e, e.__context__, [f.name for f in traceback.extract_tb(e.__traceback__)])
sys.setrecursionlimit(500)
print(deepest(), sys.getrecursionlimit())
try:
    repr(nested(497))
    print("repr 497")
    repr(nested(499))
    print("repr 499")
except RecursionError as e:
    print("repr", e)
sys.setrecursionlimit(1000)
print(deepest(), sys.getrecursionlimit(), sys.getrecursionlimit.__name__)
for f, args, kwargs in ((sys.getrecursionlimit, (1,), {}), (sys.setrecursionlimit, (), {}),
                        (sys.setrecursionlimit, (), {"new_limit": 5}),
                        (sys.setrecursionlimit, (5, 6), {})):
    try:
        f(*args, **kwargs)
    except TypeError as e:
        print(e, [f.name for f in traceback.extract_tb(e.__traceback__)])
"""


def _at_depth(frames: int, run):
    return run() if frames == 0 else _at_depth(frames - 1, run)


def test_a_recursive_snippet_goes_as_deep_as_under_python_and_reads_pythons_limit(tmp_path):
    """A function of the snippet's goes 999 calls deep, as under ``python FILE`` (gradstep's
    frames took 8 of the 1,000 under ``gradstep backward``, and a ``count(996)`` that python
    runs raised ``RecursionError``); the limit read, set, and refused ("the limit is too
    low", with python's numbers) is python's, and so is a call with the wrong arguments
    (the wrappers' own ``TypeError`` said "missing 1 required positional argument"); C code that checks the limit (``repr`` of
    nested lists) stops where python's does. From pytest's frames, and 150 frames deeper:
    the offset is measured where the snippet runs, not counted once."""
    path = tmp_path / "limits.py"
    path.write_text(LIMITS, encoding="utf-8")
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                           timeout=60)  # its depth is the point: a fresh python, no server
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    assert plain.stdout.startswith("999 1000 996\n"), plain.stdout
    assert "at the recursion depth 2: the limit is too low" in plain.stdout
    limit, get, set_ = sys.getrecursionlimit(), sys.getrecursionlimit, sys.setrecursionlimit
    for frames in (0, 150):
        result = _at_depth(frames, lambda: Session().run(LIMITS, filename=str(path)))
        assert result["error"]["kind"] == "nothing_to_draw"  # (it ran through: no torch)
        assert result["output"] == plain.stdout
        assert sys.getrecursionlimit is get and sys.setrecursionlimit is set_
        assert sys.getrecursionlimit() == limit  # the snippet set it back to 1,000


def test_a_limit_above_the_probed_ones_is_left_as_sys_has_it():
    """A limit a script raised for deep recursion of its own before calling
    ``Session().run`` (above ``PROBED_UP_TO``) is not probed (the probe would go that deep):
    the snippet reads it through ``sys``'s own functions, and it is left as it was."""
    from gradstep.autograd import snippet_depth

    limit, get = sys.getrecursionlimit(), sys.getrecursionlimit
    sys.setrecursionlimit(snippet_depth.PROBED_UP_TO + 1)
    try:
        result = Session().run("import sys\nprint(sys.getrecursionlimit(), "
                               "type(sys.getrecursionlimit).__name__)\n")
        assert result["output"] == f"{snippet_depth.PROBED_UP_TO + 1} {type(get).__name__}\n"
        assert sys.getrecursionlimit() == snippet_depth.PROBED_UP_TO + 1
    finally:
        sys.setrecursionlimit(limit)


IN_A_PASS = """\
import sys
import torch
import gradstep


""" + DEEPEST + """


class Twice(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        print("backward", deepest(), sys.getrecursionlimit())
        return g * 2


x = torch.ones(2, requires_grad=True)
y = Twice.apply(x) * 3
y.register_hook(lambda g: print("hook", deepest(), sys.getrecursionlimit()))
y.sum().backward()


def nested(g):  # a call in a hook: unrecorded, its own hook as deep as python's
    with torch.enable_grad():
        z = x * 3
        z.register_hook(lambda h: print("inner", deepest(), sys.getrecursionlimit()))
        torch.autograd.grad(z.sum(), x)


w = x * 2
w.register_hook(nested)
w.sum().backward()
gradstep.backward(y.sum())  # (torch's function called from gradstep's API: its frames count)
print(torch.autograd.grad(Twice.apply(x).sum(), x), deepest(), sys.getrecursionlimit())
sys.setrecursionlimit(2 ** 31 - 1)  # (C's largest int: no room above it)
(x * 2).sum().backward()
sys.setrecursionlimit(1000)
print(x.grad, sys.getrecursionlimit())
"""


def test_a_hook_in_a_recorded_pass_goes_as_deep_as_under_python(tmp_path):
    """A tensor hook and a custom Function's backward run by a recorded ``backward`` or
    ``autograd.grad`` go as deep as under ``python FILE`` and read its limit: the recorded
    call's own frames between the snippet's line and torch's function (its wrapper, the
    recorder's) took 5 levels (the hook's probe reached 989 where python's reaches 994), and
    an unrecorded call's in such a hook 2 (988 where python's reaches 990)."""
    path = tmp_path / "in_a_pass.py"
    path.write_text(IN_A_PASS, encoding="utf-8")
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                           timeout=120)  # its depth is the point: a fresh python, no server
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    limit = sys.getrecursionlimit()
    for frames in (0, 150):
        result = _at_depth(frames, lambda: Session().run(IN_A_PASS, filename=str(path)))
        assert result["ok"], result["error"]
        assert [call["error"] for call in result["calls"]] == [None] * 4  # (all recorded)
        assert result["output"] == plain.stdout
        assert sys.getrecursionlimit() == limit
