"""A hook of the snippet's that raises inside torch's backward: the error's words name the
hook, the line of its ``def``, the line that raised and the backward call, as python's own
traceback of the same snippet has them (before: the generic words of the exception's type,
"A value on this line is out of range", for a ValueError a hook raised)."""

from __future__ import annotations

import re
import traceback

import pytest

from gradstep.autograd.session import Session
from gradstep.i18n import localized

SNIPPETS = {
    "tensor": ("import torch\nx = torch.ones(3, requires_grad=True)\ny = (x * 2).exp()\n"
               "def check(g):\n    raise ValueError('bad grad')\ny.register_hook(check)\n"
               "loss = y.sum()\nloss.backward()\n"),
    "lambda": ("import torch\nx = torch.ones(3, requires_grad=True)\ny = (x * 2).exp()\n"
               "y.register_hook(lambda g: g[5])\nloss = y.sum()\n\nloss.backward()\n"),
    "leaf": ("import torch\nx = torch.ones(3, requires_grad=True)\n"
             "def helper(p):\n    return {}[p.shape]\n"
             "def after(p):\n    helper(p)\nx.register_post_accumulate_grad_hook(after)\n"
             "(x * 3).sum().backward()\n"),
    # raised in torch.autograd.grad's pass: it was called "the backward call" (statehunt4)
    "grad": ("import torch\nx = torch.ones(3, requires_grad=True)\ny = (x * 2).exp()\n"
             "def check(g):\n    raise ValueError('bad grad')\ny.register_hook(check)\n"
             "torch.autograd.grad(y.sum(), x)\n"),
}


def _plain(source: str):
    """Return python's own traceback frames (name, first line, line) of ``source``'s error."""
    try:
        exec(compile(source, "/x/hook.py", "exec"), {})
    except Exception as exc:
        frames = [(f.name, f.lineno) for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename == "/x/hook.py"]
        return type(exc).__name__, frames
    raise AssertionError("the snippet did not raise")


@pytest.mark.parametrize("case", sorted(SNIPPETS))
def test_a_hook_that_raises_is_named_with_its_lines(case):
    source = SNIPPETS[case]
    kind, frames = _plain(source)
    (_, call_line), (hook, _) = frames[:2]  # <module>'s call, the hook
    line = frames[-1][1]  # the raise (in the hook, or a function it called)
    defined = next(i + 1 for i, text in enumerate(source.splitlines())
                   if f"def {hook}(" in text or (hook == "<lambda>" and "lambda" in text))
    error = Session().run(source, filename="/x/hook.py")["error"]
    assert (error["type"], error["line"]) == (kind, line)
    assert error["title"] == f"A hook raised {kind} during backward"
    grad = "torch.autograd.grad(" in source.splitlines()[call_line - 1]  # the call python names
    call, zh_call = ("autograd.grad call", " autograd.grad 调用") if grad else ("backward call", "反向传播调用")
    assert (f"the hook `{hook}` (defined at line {defined}) in the {call} at line "
            f"{call_line}, and the hook raised {kind} at line {line}") in error["explanation"]
    zh = localized(error, "zh_CN")
    assert f"第 {call_line} 行的{zh_call}中调用了钩子 `{hook}`（定义于第 {defined} 行）" in \
        zh["explanation"] and f"在第 {line} 行抛出了 {kind}" in zh["explanation"]


FUNCTIONAL = ("import torch\nx = torch.ones(3, requires_grad=True)\n"
              "def check(g):\n    raise ValueError('bad grad')\n"
              "def f(x):\n    y = (x * 2).exp()\n    y.register_hook(check)\n    return y.sum()\n")
CHECKS = FUNCTIONAL.replace("torch.ones(3, ", "torch.ones(3, dtype=torch.double, ")  # gradcheck's
# the line's call, the source around it, and the file and prefix of the function python's
# traceback shows the line calling
FUNCTIONAL_CALLS = {
    "jacobian": ("torch.autograd.functional.jacobian(f, x)\n", FUNCTIONAL, "autograd/functional.py",
                 "torch.autograd.functional."),
    "hessian": ("torch.autograd.functional.hessian(f, x)\n", FUNCTIONAL, "autograd/functional.py",
                "torch.autograd.functional."),
    "vjp": ("torch.autograd.functional.vjp(f, x)\n", FUNCTIONAL, "autograd/functional.py",
            "torch.autograd.functional."),
    # gradcheck's (gradgradcheck's) were named "the autograd.grad call at line 9" too
    "gradcheck": ("torch.autograd.gradcheck(f, x)\n", CHECKS, "autograd/gradcheck.py",
                  "torch.autograd."),
    "gradgradcheck": ("torch.autograd.gradgradcheck(f, x)\n", CHECKS, "autograd/gradcheck.py",
                      "torch.autograd."),
}


@pytest.mark.parametrize("call", sorted(FUNCTIONAL_CALLS))
def test_a_hook_under_autograd_functional_names_what_the_line_calls(call):
    """A hook raising in torch.autograd.functional.jacobian's (hessian's, vjp's; gradcheck's,
    gradgradcheck's) pass: the line calls jacobian, which makes the autograd.grad call (it
    was named "the autograd.grad call at line 9", a call the line does not make). The
    function named is the one python's traceback shows the line calling, by its public
    name."""
    line_call, before, module, prefix = FUNCTIONAL_CALLS[call]
    source = before + line_call
    try:
        exec(compile(source, "/x/hook.py", "exec"), {})
    except ValueError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
    else:
        raise AssertionError("the snippet did not raise")
    at = next(i for i, f in enumerate(frames) if f.filename == "/x/hook.py" and f.name == "<module>")
    callee, line = frames[at + 1], frames[at].lineno
    assert callee.filename.endswith(module)
    called = prefix + callee.name
    assert callee.name == call and called in source.splitlines()[line - 1]
    error = Session().run(source, filename="/x/hook.py")["error"]
    assert error["title"] == "A hook raised ValueError during backward"
    assert (f"the hook `check` (defined at line 3) in the autograd.grad call made by {called} "
            f"(called at line {line}), and the hook raised ValueError at line 4") in error["explanation"]
    zh = localized(error, "zh_CN")["explanation"]
    assert f"第 {line} 行调用的 {called} 所发起的 autograd.grad 调用中调用了钩子 `check`" in zh


API_PASS = ("import gradstep, torch\nx = torch.ones(3, requires_grad=True)\n"
            "y = (x * 2).exp()\n\ndef check(g):\n    h = g * 2\n    raise ValueError('bad grad')\n"
            "y.register_hook(check)\nloss = y.sum()\n")


def test_a_hook_raising_in_gradstep_backwards_pass_is_worded_as_in_a_script_run():
    """The same hook error read "Bad value" (the API's generic words) from
    ``gradstep.backward(loss)`` and "A hook raised ValueError during backward" from a script
    run. Both are the hook's words now; the API's name the hook's file and lines, as python's
    own traceback does (there is no snippet and no marked line)."""
    try:
        exec(compile(API_PASS + "loss.backward()\n", "/x/api_hook.py", "exec"), {})
    except ValueError as exc:
        hook = [f for f in traceback.extract_tb(exc.__traceback__) if f.name == "check"][0]
    else:
        raise AssertionError("the snippet did not raise")
    space: dict = {}
    exec(compile(API_PASS + "timeline = gradstep.backward(loss)\n", "/x/api_hook.py", "exec"),
         space)
    error = space["timeline"]["error"]
    script = Session().run(API_PASS + "loss.backward()\n", filename="/x/api_hook.py")["error"]
    assert error["title"] == script["title"] == "A hook raised ValueError during backward"
    assert error["type"] == "ValueError" and error["message"] == "bad grad"
    assert ("torch called the hook `check` (defined at line 5 of api_hook.py) in the pass "
            f"gradstep.backward ran, and the hook raised ValueError at line {hook.lineno}: the "
            "error is the hook's own") in error["explanation"]
    assert error["fix"].startswith(f"Correct the hook `check` at line {hook.lineno} of api_hook.py")
    zh, zh_script = localized(error, "zh_CN"), localized(script, "zh_CN")
    assert zh["title"] == zh_script["title"] == "钩子在反向传播中抛出了 ValueError"
    assert (f"torch 在 gradstep.backward 运行的反向传播中调用了钩子 `check`（定义于 api_hook.py "
            f"第 5 行），该钩子在第 {hook.lineno} 行抛出了 ValueError") in zh["explanation"]
    assert zh["fix"].startswith(f"修改钩子 `check` 在 api_hook.py 第 {hook.lineno} 行的代码")


def test_a_custom_backward_in_gradstep_backwards_pass_is_not_called_a_hook():
    source = ("import gradstep, torch\nclass F(torch.autograd.Function):\n    @staticmethod\n"
              "    def forward(ctx, x):\n        return x * 2\n    @staticmethod\n"
              "    def backward(ctx, g):\n        raise ValueError('no')\n"
              "x = torch.ones(3, requires_grad=True)\n"
              "timeline = gradstep.backward(F.apply(x).sum())\n")
    space: dict = {}
    exec(compile(source, "/x/api_custom.py", "exec"), space)
    assert "hook" not in space["timeline"]["error"]["title"]


def test_an_error_outside_a_hook_keeps_its_words():
    source = "import torch\nx = torch.ones(3, requires_grad=True)\n{}[1]\n"
    error = Session().run(source, filename="/x/hook.py")["error"]
    assert error["title"] == "Bad value" and "hook" not in error["explanation"]


def test_a_custom_function_s_backward_is_not_called_a_hook():
    source = ("import torch\nclass F(torch.autograd.Function):\n    @staticmethod\n"
              "    def forward(ctx, x):\n        return x * 2\n    @staticmethod\n"
              "    def backward(ctx, g):\n        raise ValueError('no')\n"
              "x = torch.ones(3, requires_grad=True)\nF.apply(x).sum().backward()\n")
    error = Session().run(source, filename="/x/hook.py")["error"]
    assert error["line"] == 8 and "hook" not in error["title"]


WRITES = {  # where the snippet changes the saved b in place: torch refuses it in SinBackward0
    "hook": "def hook(g):\n    b.add_(1)\nd.register_hook(hook)\n",
    "forward": "b.add_(1)\n",
    "custom": ("class Twice(torch.autograd.Function):\n    @staticmethod\n"
               "    def forward(ctx, t):\n        return t * 2\n    @staticmethod\n"
               "    def backward(ctx, g):\n        b.add_(1)\n        return g * 2\n"
               "d = Twice.apply(d)\n"),
}
WRITTEN = ("import torch\na = torch.ones(3, requires_grad=True)\nb = a * 2\nc = b.sin()\n"
           "d = c * 3\n{write}d.sum().backward()\n")


@pytest.mark.parametrize("where", sorted(WRITES))
def test_torchs_in_place_error_names_the_writer_gradstep_saw(where):
    """torch says "modified by an inplace operation" whoever wrote the saved tensor; the
    explanation under it said "saved during the forward pass ... then modified in place"
    also where a hook wrote it during the pass. Where the probe as the pass began found it
    unchanged and the pass's graph has no node running Python, the writer was a hook of the
    snippet's; with a custom Function in the graph it may be its backward; a write in the
    forward keeps the generic words. torch's versions, from a plain run, in the words."""
    source = WRITTEN.format(write=WRITES[where])
    try:
        exec(compile(source, "/x/w.py", "exec"), {})
        raise AssertionError("torch took it")
    except RuntimeError as exc:
        found = re.search(r"is at version (\d+); expected version (\d+)", str(exc))
    error = Session().run(source, filename="/x/w.py")["error"]
    assert error["kind"] == "inplace"
    words = error["explanation"]
    zh = localized(error, "zh_CN")["explanation"]
    if where == "forward":
        assert "then modified in place (+=" in words and "hook" not in words
        return
    assert f"is at version {found[1]} where it was saved at version {found[2]}" in words
    assert "was unchanged as the pass began" in words
    if where == "hook":
        assert "a hook of the snippet's that torch ran during this backward pass" in words
        assert "钩子" in zh and "自定义" not in zh
    else:
        assert "a hook of the snippet's, or a custom Function's backward" in words
        assert "自定义" in zh


def test_the_api_s_pass_names_the_hook_that_wrote_the_saved_tensor():
    """``gradstep.backward`` (a pass of gradstep's own on a live graph): the same words."""
    import torch

    import gradstep

    a = torch.ones(3, requires_grad=True)
    b = a * 2
    d = b.sin() * 3
    d.register_hook(lambda g: (b.add_(1), None)[1])
    error = gradstep.backward(d.sum())["error"]
    assert error["kind"] == "inplace"
    assert ("a hook of the snippet's that torch ran during this backward pass then modified it "
            "in place: it was unchanged as the pass began, and is at version 1 where it was "
            "saved at version 0") in error["explanation"]


BESIDE = {  # a saved view changed before the pass (unread while the program runs) and a
    # tensor a hook writes during it, at the same versions
    "other_node": ("x2 = torch.ones(3, requires_grad=True)\nw2 = x2 * 1\ns2 = w2.sin()\n"
                   "x = torch.ones(4, requires_grad=True)\nb = x * 2\nv = b[:3]\n"
                   "s1 = v.sin()\n"),  # s1's node runs first (the newer): torch refuses v
    "same_node": ("x2 = torch.ones(3, requires_grad=True)\nw2 = x2 * 1\n"
                  "x = torch.ones(4, requires_grad=True)\nb = x * 2\nv = b[:3]\n"
                  "s1 = torch.hypot(w2, v)\ns2 = s1\n"),  # one node saves both (torch checks v first)
}
BESIDE_TAIL = ("b.add_(1)\nbefore = v._version\nloss = (s1 + s2).sum()\n"
               "loss.register_hook(lambda g: (w2.add_(1), None)[1])\nloss.backward()\n")


@pytest.mark.parametrize("where", sorted(BESIDE))
def test_a_view_changed_before_the_pass_is_not_said_written_by_a_hook(where):
    """torch refuses the saved view ``v``, changed before the pass (its version then is not
    the one torch says it was saved at), while a hook wrote ``w2`` during the pass with the
    same versions. The words said a hook wrote the tensor torch refused, unchanged as the
    pass began (they took ``w2``, the one the probes read, for it): now the generic words."""
    source = "import torch\n" + BESIDE[where] + BESIDE_TAIL
    plain: dict = {}
    try:
        exec(compile(source, "/x/w.py", "exec"), plain)
        raise AssertionError("torch took it")
    except RuntimeError as exc:
        found = re.search(r"output 0 of AsStrided, is at version (\d+); expected version (\d+)",
                          str(exc))  # the view: its node rebuilt as torch unpacked it
    assert plain["before"] != int(found[2])  # the refused tensor was changed before the pass
    error = Session().run(source, filename="/x/w.py")["error"]
    assert error["kind"] == "inplace" and "unchanged as the pass began" not in error["explanation"]
    assert "then modified in place (+=" in error["explanation"]
