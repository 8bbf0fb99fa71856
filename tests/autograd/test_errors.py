"""errors.explain on errors torch and Python really raise from small snippets:
the kind, the snippet's line (and column for syntax errors), torch's own words,
and a plain explanation with a fix."""

from __future__ import annotations

import inspect
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradstep.autograd.errors import explain, format_error, make_error
from gradstep.i18n import localized

FILENAME = "lesson.py"


def _fail(source: str) -> dict:
    """Run ``source`` as the runner does (compiled under FILENAME, torch/nn/F
    preloaded) and return the explained error; fails the test if it runs."""
    source = textwrap.dedent(source).lstrip("\n")
    namespace = {"torch": torch, "nn": nn, "F": F}
    try:
        exec(compile(source, FILENAME, "exec"), namespace)
    except BaseException as exc:  # noqa: B036 (KeyboardInterrupt/SystemExit are lessons too)
        return explain(exc, source, FILENAME)
    raise AssertionError("the snippet ran without an error")


def _line_of(source: str, text: str) -> int:
    """Return the 1-based line of ``textwrap.dedent(source)`` that contains ``text``."""
    for number, line in enumerate(textwrap.dedent(source).lstrip("\n").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in the source")


def _assert_complete(err: dict) -> None:
    keys = {"kind", "type", "message", "detail", "line", "column", "code", "title",
            "explanation", "fix"}
    assert keys <= set(err)
    assert err["title"] and err["explanation"] and err["fix"]


NO_REQUIRES_GRAD = """
    x = torch.ones(1)
    w = torch.full([1], 2.)
    mse = F.mse_loss(torch.ones(1), x * w)
    grads = torch.autograd.grad(mse, [w])
"""

STALE_GRAPH = """
    x = torch.ones(1)
    w = torch.full([1], 2.)
    mse = F.mse_loss(torch.ones(1), x * w)
    w.requires_grad_()
    grads = torch.autograd.grad(mse, [w])
"""


def test_no_grad_fn_names_the_line_and_the_fix():
    err = _fail(NO_REQUIRES_GRAD)
    assert err["kind"] == "no_grad_fn"
    assert err["type"] == "RuntimeError"
    assert err["message"] == ("element 0 of tensors does not require grad and does not "
                              "have a grad_fn")
    assert err["line"] == _line_of(NO_REQUIRES_GRAD, "autograd.grad")
    assert err["code"] == "grads = torch.autograd.grad(mse, [w])"
    assert "requires_grad=True" in err["fix"]
    assert "`mse`" in err["explanation"]
    _assert_complete(err)


def test_no_grad_fn_from_backward():
    source = """
        w = torch.ones(2)
        loss = (w * 3).sum()
        loss.backward()
    """
    err = _fail(source)
    assert err["kind"] == "no_grad_fn"
    assert err["line"] == _line_of(source, "backward")


def test_stale_graph_is_told_apart_from_plain_no_requires_grad():
    err = _fail(STALE_GRAPH)
    assert err["kind"] == "stale_graph"
    assert err["line"] == _line_of(STALE_GRAPH, "autograd.grad")
    assert "requires_grad_()" in err["explanation"]
    assert "again" in err["fix"]
    _assert_complete(err)


def test_stale_graph_through_intermediate_tensors():
    source = """
        w = torch.full([1], 2.)
        pred = w * 3
        loss = (pred - 1).pow(2).sum()
        w.requires_grad = True
        loss.backward()
    """
    assert _fail(source)["kind"] == "stale_graph"


def test_requires_grad_set_before_an_unrelated_tensor_is_not_the_trap():
    # requires_grad_() on `b` cannot have helped `loss`, computed only from `w`.
    source = """
        w = torch.full([1], 2.)
        b = torch.zeros(1)
        loss = (w * 3).sum()
        b.requires_grad_()
        loss.backward()
    """
    assert _fail(source)["kind"] == "no_grad_fn"


def test_requires_grad_then_rebuilt_loss_that_still_fails_is_not_the_trap():
    # The loss was rebuilt after requires_grad_(), so the graph is not stale; it
    # simply does not use w's requires_grad (w was detached).
    source = """
        w = torch.full([1], 2.)
        w.requires_grad_()
        loss = (w.detach() * 3).sum()
        loss.backward()
    """
    assert _fail(source)["kind"] == "no_grad_fn"


def test_not_requiring_grad_input():
    source = """
        a = torch.ones(3, requires_grad=True)
        b = torch.ones(3)
        grads = torch.autograd.grad((a * b).sum(), [a, b])
    """
    err = _fail(source)
    assert err["kind"] == "not_requiring_grad"
    assert err["message"] == "One of the differentiated Tensors does not require grad"
    assert "`b`" in err["explanation"]
    assert err["line"] == 3
    assert err["column"] == 9  # where torch.autograd.grad(...) starts


def test_freed_buffers_on_the_second_backward():
    source = """
        a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
        p = F.softmax(a, dim=0)
        p[1].backward()
        p[1].backward()
    """
    err = _fail(source)
    assert err["kind"] == "freed_buffers"
    assert err["line"] == 4
    assert err["message"].startswith("Trying to backward through the graph a second time")
    assert "retain_graph=True" in err["fix"]
    # The whole of torch's text is kept.
    assert "Specify retain_graph=True" in err["detail"]


def test_non_scalar_backward():
    source = """
        x = torch.ones(3, requires_grad=True)
        y = x * 2
        y.backward()
    """
    err = _fail(source)
    assert err["kind"] == "non_scalar"
    assert err["message"] == "grad can be implicitly created only for scalar outputs"
    assert err["line"] == 3
    assert "y.sum()" in err["fix"]
    assert "torch.ones_like(y)" in err["fix"]
    assert "grad_outputs" in err["fix"]


def test_unused_input_names_the_input():
    source = """
        a = torch.ones(3, requires_grad=True)
        c = torch.ones(3, requires_grad=True)
        grads = torch.autograd.grad(a.sum(), [a, c])
    """
    err = _fail(source)
    assert err["kind"] == "unused_input"
    assert "appears to not have been used in the graph" in err["message"]
    assert "`c`" in err["explanation"]
    assert "allow_unused=True" in err["fix"]


def test_unused_input_of_a_list_held_by_one_name_is_told_by_its_index():
    """``grad(loss, params)`` with ``params = [c, a]``: torch says "The differentiated
    Tensor at index 0", which is ``c``; the explanation said "`params` does not take part"
    (the list, which does). One name holding one tensor is still named."""
    source = """
        a = torch.ones(3, requires_grad=True)
        c = torch.ones(3, requires_grad=True)
        params = [c, a]
        grads = torch.autograd.grad(a.sum(), params)
    """
    err = _fail(source)
    assert err["kind"] == "unused_input" and "at index 0" in err["message"]
    assert "`params`" not in err["explanation"] and "input 0" in err["explanation"]
    err = _fail(source.replace("params = [c, a]", "params = c"))
    assert "`params`" in err["explanation"]


def test_of_two_backward_calls_on_a_line_the_one_that_failed_is_named():
    """``z.backward(); w.backward()`` where ``z`` has no graph: torch raised at the first
    call, and the explanation named the line's last statement (`w` "was computed only from
    tensors that do not require grad"). The failing instruction's column picks the call."""
    source = """
        a = torch.ones(2, requires_grad=True)
        z = torch.ones(2).sum(); w = (a * 3).sum(); out = a * 2
        z.backward(); w.backward()
    """
    err = _fail(source)
    assert err["kind"] == "no_grad_fn" and "`z`" in err["explanation"], err["explanation"]
    assert "`w`" not in err["explanation"]
    from gradstep.autograd.runner import run_snippet  # the rewrite keeps the calls' columns

    run = run_snippet(textwrap.dedent(source).lstrip("\n"), filename=FILENAME)
    assert "`z`" in str(run.error["explanation"]) and "`w`" not in str(run.error["explanation"])
    err = _fail(source.replace("z.backward(); w.backward()",
                               "out.backward() if out.sum() > 0 else w.backward()"))
    assert err["kind"] == "non_scalar" and "`out`" in err["explanation"]


def test_a_no_grad_block_of_another_functions_local_is_not_blamed():
    """``loss`` made from a ``detach()`` at top level, and an ``evaluate`` function (never
    called) assigning its own ``loss`` under ``torch.no_grad()`` on a line in between:
    the explanation said `loss` "was computed inside the with torch.no_grad(): block of
    line 4", which never ran. Only the assignments the failing line's scope sees count."""
    source = """
        w = torch.ones(2, requires_grad=True)
        loss = (w * 2).detach().sum()
        def evaluate():
            with torch.no_grad():
                loss = (w * 3).sum()
            return loss
        loss.backward()
    """
    err = _fail(source)
    assert err["kind"] == "no_grad_fn" and "of line" not in str(err["explanation"])  # no block
    inside = source.replace("        loss.backward()\n", "        evaluate().backward()\n")
    inside = inside.replace("            return loss\n", "            loss.backward()\n")
    err = _fail(inside)
    assert "block of line 4" in str(err["explanation"]), err["explanation"]


def test_a_requires_grad_switch_in_a_function_that_never_ran_is_no_stale_graph():
    """``w.requires_grad_()`` inside a function nobody calls, between ``loss``'s line and
    ``loss.backward()``: the explanation said `loss` "was computed before
    `requires_grad_()` was called" (the stale-graph trap), which never happened."""
    source = """
        w = torch.ones(2)
        loss = (w * 2).sum()
        def later():
            w.requires_grad_()
        loss.backward()
    """
    assert _fail(source)["kind"] == "no_grad_fn"
    assert _fail(source.replace("def later():\n            w.requires_grad_()",
                                "w.requires_grad_()"))["kind"] == "stale_graph"


def test_inplace_names_the_tensor_and_its_version():
    source = """
        x = torch.ones(3, requires_grad=True)
        y = x.exp()
        y += 1
        y.sum().backward()
    """
    err = _fail(source)
    assert err["kind"] == "inplace"
    assert err["line"] == 4
    assert "modified by an inplace operation" in err["message"]
    assert "output 0 of Exp" in err["explanation"]
    assert "version 1" in err["explanation"]
    assert "x = x + 1" in err["fix"] and "clone()" in err["fix"]


def test_the_line_inside_a_snippet_function_is_the_innermost_one():
    source = """
        def loss_of(t):
            return (t * 2).sum()

        def step(t):
            loss = loss_of(t)
            loss.backward()

        step(torch.ones(2))
    """
    err = _fail(source)
    assert err["kind"] == "no_grad_fn"
    assert err["line"] == _line_of(source, "loss.backward()")


@pytest.mark.parametrize(("source", "line", "column", "type_name"), [
    ("x = torch.ones(1)\ny = (x +\n", 2, 5, "SyntaxError"),
    ("x = 1\ny = x +* 2\n", 2, 8, "SyntaxError"),
    ("if True:\n    x = 1\n      y = 2\n", 3, 6, "IndentationError"),
    # Python itself reports a TabError at column 1.
    ("if True:\n\tx = 1\n        y = 2\n", 3, 1, "TabError"),
])
def test_syntax_errors_give_line_and_column(source, line, column, type_name):
    try:
        compile(source, FILENAME, "exec")
    except SyntaxError as exc:
        err = explain(exc, source, FILENAME)
    assert err["kind"] == "syntax"
    assert err["type"] == type_name
    assert (err["line"], err["column"]) == (line, column)
    assert err["code"] == source.splitlines()[line - 1]
    _assert_complete(err)


@pytest.mark.parametrize(("source", "explanation", "fix"), [
    ("import torch\n  x = torch.ones(2)\n", "no block (`if ...:`",
     "Remove the spaces at the start of this line"),
    ("for i in range(2):\nx = i\n", "the line after it is not indented",
     "write `pass` there for an empty block"),
    ("if True:\n        x = 1\n    y = 2\n", "matches no block above it",
     "Line it up with the block it belongs to"),
    ("if True:\n\tx = 1\n        y = 2\n", "not indented consistently", "no tabs"),
])
def test_each_indentation_error_says_what_is_wrong_with_the_line(source, explanation, fix):
    """A beginner's "unexpected indent" was told to indent consistently "with spaces only",
    which fixes nothing; each of Python's indentation messages now gets its own words."""
    try:
        compile(source, FILENAME, "exec")
    except SyntaxError as exc:
        err = explain(exc, source, FILENAME)
    assert explanation in err["explanation"] and fix in err["fix"]
    chinese = localized(err, "zh_CN")
    assert "Python 读不懂这段代码" in chinese["explanation"]
    assert chinese["fix"] != err["fix"]


def test_a_misspelt_keyword_argument_is_named_with_the_one_meant():
    """``require_grad=True`` got "a function received an argument of a type it does not
    accept"; the keyword is named, and a near torch keyword suggested."""
    err = _fail("x = torch.tensor([1.0], require_grad=True)\n")
    assert (err["type"], err["line"]) == ("TypeError", 1)
    assert err["explanation"] == "`tensor()` has no argument named `require_grad`."
    assert err["fix"].startswith("Did you mean `requires_grad=`?")
    assert "你是想写 `requires_grad=` 吗" in localized(err, "zh_CN")["fix"]
    far = _fail("m = nn.Linear(3, 1, colour=2)\n")
    assert "`colour`" in far["explanation"] and "Did you mean" not in far["fix"]


def test_a_keyword_is_suggested_only_from_what_the_function_takes():
    """The suggestion came from a fixed list of torch's keywords whatever the function: the
    snippet's own ``train(lr=...)`` was asked "Did you mean `lr=`?" (the name typed), and
    ``train(devices=1)`` "`device=`?", which train() does not take either."""
    source = "def train(model, learning_rate=0.1):\n    pass\n\n"
    for call in ("train(None, lr=0.1)", "train(None, devices=1)", "F.relu(torch.ones(2), dim=1)"):
        err = _fail(source + call + "\n")
        assert "has no argument named" in err["explanation"], call
        assert "Did you mean" not in err["fix"], (call, err["fix"])
    meant = inspect.signature(torch.Tensor.backward).parameters  # torch's own words, read
    err = _fail("torch.ones(1, requires_grad=True).sum().backward(gradients=None)\n")
    assert "gradient" in meant and err["fix"].startswith("Did you mean `gradient=`?")


def test_input_with_nothing_to_read_says_where_the_value_can_come_from():
    err = _fail("raise EOFError('EOF when reading a line')\n")
    assert "found nothing to read" in err["explanation"]
    assert "echo 3 | gradstep backward FILE" in err["fix"]
    assert "没有读到任何内容" in localized(err, "zh_CN")["explanation"]


def test_a_negative_print_precision_is_named_where_torchs_print_fails():
    """torch.set_printoptions(precision=-1) is accepted; torch's next print of a float
    tensor raises ValueError("Format specifier missing precision") there (as in python):
    the words say which setting to change, not "a value is out of range"."""
    source = ("torch.set_printoptions(precision=-1)\nx = torch.tensor([1.5])\n"
              "print(x)\n")
    try:
        err = _fail(source)
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)
    assert err["type"] == "ValueError" and err["line"] == 3
    assert "missing precision" in err["message"]
    assert "precision of 0 or more" in err["fix"]
    assert "set_printoptions" in localized(err, "zh_CN")["fix"]
    assert "0 或更大的精度" in localized(err, "zh_CN")["fix"]


def test_a_format_with_no_precision_gets_the_same_words():
    """f"{x:.f}" raises python's same ValueError("Format specifier missing precision"):
    the words cover it too, not only a negative print precision."""
    err = _fail("x = 1.5\nprint(format(x, '.f'))\n")
    assert err["type"] == "ValueError" and err["line"] == 2
    assert "no digits after its dot" in err["explanation"]
    assert "点号后面没有数字" in localized(err, "zh_CN")["explanation"]


def test_a_file_that_ends_too_soon_is_not_said_to_be_input(tmp_path):
    """torch.load of an empty (or cut) file raises EOFError too, from pickle: it got the
    words for input(), "found nothing to read ... pipe it in: echo 3 | gradstep"."""
    empty = tmp_path / "weights.pt"
    empty.write_bytes(b"")
    err = _fail(f"state = torch.load({str(empty)!r})\n")
    assert err["type"] == "EOFError"
    assert "input()" not in err["explanation"] and "echo 3" not in err["fix"]


def test_name_error_gets_the_line_and_a_hint():
    err = _fail("x = torch.ones(1)\ny = undefined_name * x\n")
    assert (err["kind"], err["type"], err["line"]) == ("other", "NameError", 2)
    assert "undefined_name" in err["message"]
    assert "defined" in err["explanation"]


def test_a_misspelt_name_gets_the_name_it_is_close_to():
    """plain python says "Did you mean: 'loss'?" when it prints the traceback; the message
    torch's str() gives has no such hint, so the fix names it."""
    err = _fail("a = torch.ones(2, requires_grad=True)\nloss = (a * 2).sum()\nlos.backward()\n")
    assert (err["type"], err["line"]) == ("NameError", 3)
    assert "`los`" in err["explanation"] and "Did you mean `loss`?" in err["fix"]
    far = _fail("x = torch.ones(1)\ny = undefined_name * x\n")
    assert "Did you mean" not in far["fix"]
    # no close name: the explanation still names the one it does not know
    assert "`undefined_name`" in far["explanation"], far["explanation"]
    assert far["fix"].startswith("Check the spelling")


def test_shape_mismatch_gets_a_shape_hint():
    err = _fail("a = torch.ones(2, 3)\nb = torch.ones(2, 3)\nc = a @ b\n")
    assert err["line"] == 3
    assert "shapes cannot be multiplied" in err["message"]
    assert "shape" in err["fix"]


def test_vectors_of_different_lengths_get_the_shape_hint():
    # 1-D @ 1-D of lengths 2 and 3: torch says "inconsistent tensor size" (a dot product)
    err = _fail("a = torch.ones(2, requires_grad=True)\nb = a * 2\nc = b @ torch.ones(3)\n")
    assert err["line"] == 3 and "inconsistent tensor size" in err["message"]
    assert err["title"] == "Shapes do not fit" and "print(t.shape)" in err["fix"]


def test_a_starting_gradient_of_the_wrong_shape_names_both_shapes():
    err = _fail("x = torch.ones(2, requires_grad=True)\ny = x * 2\ny.backward(torch.ones(3))\n")
    assert err["line"] == 3 and "Mismatch in shape" in err["message"]  # torch's own words
    assert err["title"] == "The starting gradient has the wrong shape"
    assert "shape [3]" in err["explanation"] and "shape [2]" in err["explanation"]
    assert "ones_like" in err["fix"]


def test_a_custom_backward_returning_the_wrong_shape_names_its_node_and_input():
    # torch counts only the tensor inputs (the int `k` is not counted): its index 2 is `b`,
    # the fourth value backward returns, so no "position" is claimed
    err = _fail("""
        class Twice(torch.autograd.Function):
            @staticmethod
            def forward(ctx, c, a, k, b):
                return a * c + b * k

            @staticmethod
            def backward(ctx, g):
                return None, g, None, torch.ones(3)

        x = torch.ones(2, requires_grad=True)
        Twice.apply(torch.ones(2), x, 3, torch.ones(2, requires_grad=True)).sum().backward()
    """)
    assert err["line"] == 11 and "returned an invalid gradient at index 2" in err["message"]
    assert err["title"] == "A backward returned a gradient of the wrong shape"
    assert "`TwiceBackward`" in err["explanation"] and "index 2" in err["explanation"]
    assert "only the inputs that are tensors" in err["explanation"]
    assert "shape [3]" in err["explanation"] and "shape [2]" in err["explanation"]
    assert "one value per argument of its `forward`" in err["fix"]


def test_a_hook_that_changes_a_gradients_shape_is_named():
    err = _fail("""
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        def widen(g):
            return torch.ones(3)
        y.register_hook(widen)
        y.sum().backward()
    """)
    assert err["line"] == 6 and "has changed the size of value" in err["message"]
    assert err["title"] == "A hook changed a gradient's shape"
    assert "`widen`" in err["explanation"]


def test_a_module_backward_hook_that_changes_a_shape_is_not_called_a_tensor_hook():
    # torch names its own wrapper ('hook'), not the module's hook function
    err = _fail("""
        m = torch.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda mod, gi, go: (torch.ones(3),))
        m(torch.ones(1, 2, requires_grad=True)).sum().backward()
    """)
    assert err["line"] == 3 and "hook 'hook' has changed the size of value" in err["message"]
    assert err["title"] == "A hook changed a gradient's shape"
    assert "torch names it `hook`" in err["explanation"] and "tensor hook" not in err["explanation"]


def test_the_backward_shape_words_are_in_chinese():
    err = _fail("x = torch.ones(2, requires_grad=True)\n(x * 2).backward(torch.ones(3))\n")
    zh = localized(err, "zh_CN")
    assert zh["title"] == "起始梯度的形状不对"
    assert "[3]" in zh["explanation"] and "[2]" in zh["explanation"]
    assert "ones_like" in zh["fix"] and "传入" in zh["fix"]


def test_integer_tensor_cannot_require_grad():
    # The seed wrote torch.full([1], 2); today that tensor is int64.
    err = _fail("w = torch.full([1], 2, requires_grad=True)\n")
    assert err["line"] == 1
    assert "2." in err["fix"]


@pytest.mark.parametrize(("source", "type_name"), [
    ("o = object()\no.nothing\n", "AttributeError"),
    ("torch.ones(2).view(3)\n", "RuntimeError"),
    ("torch.ones(1, 2, 3, 4, 5, 6, 7, 8, 9, 'x')\n", "TypeError"),
    ("int('seven')\n", "ValueError"),
])
def test_other_python_errors_get_line_and_hint(source, type_name):
    err = _fail(source)
    assert err["type"] == type_name
    assert err["line"] == source.count("\n")
    _assert_complete(err)


def test_memory_error_from_the_allocator():
    err = _fail("x = 1\nbig = torch.empty(10**13)\n")
    assert err["kind"] == "memory"
    assert err["line"] == 2
    assert "allocate" in err["message"]


def test_python_memory_error():
    err = _fail("raise MemoryError()\n")
    assert err["kind"] == "memory"


def test_recursion_error():
    err = _fail("def f(n):\n    return f(n + 1)\nf(0)\n")
    assert err["type"] == "RecursionError"
    assert err["line"] == 2
    assert "base case" in err["fix"]


@pytest.mark.parametrize(("source", "type_name"), [
    ("x = 1\nraise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("import sys\nsys.exit(3)\n", "SystemExit"),
])
def test_interrupt_and_exit_raised_by_the_snippet(source, type_name):
    err = _fail(source)
    assert err["type"] == type_name
    assert err["line"] == 2
    _assert_complete(err)


def test_no_frame_of_the_snippet_gives_no_line():
    try:
        torch.autograd.grad(torch.ones(1).sum(), [torch.ones(1)])
    except RuntimeError as exc:
        err = explain(exc, "", FILENAME)
    assert err["kind"] == "no_grad_fn"
    assert err["line"] is None and err["code"] is None


def test_format_error_for_the_cli():
    err = _fail(NO_REQUIRES_GRAD)
    text = format_error(err, "lesson.py")
    lines = text.splitlines()
    assert lines[0] == ("lesson.py:4: RuntimeError: element 0 of tensors does not require "
                        "grad and does not have a grad_fn")
    assert lines[1].strip() == "grads = torch.autograd.grad(mse, [w])"
    assert lines[-1].startswith("How to fix: ")
    assert "torch/" not in text and "gradstep" not in text


def test_format_error_points_at_a_syntax_error_column():
    source = "x = 1\ny = x +* 2\n"
    try:
        compile(source, FILENAME, "exec")
    except SyntaxError as exc:
        text = format_error(explain(exc, source, FILENAME), FILENAME)
    code, caret = text.splitlines()[1:3]
    assert caret.index("^") == code.index("*")


def test_make_error_for_failures_that_are_not_exceptions():
    err = make_error("nothing_to_draw", "no tensor in the snippet has a grad_fn")
    assert err["kind"] == "nothing_to_draw"
    assert "requires_grad=True" in err["fix"]
    assert err["line"] is None
    assert format_error(err, "s.py").startswith("s.py: Nothing to draw: no tensor")


def test_make_error_with_a_line_and_overrides():
    source = "x = torch.ones(1)\ny = x.cuda()\n"
    err = make_error("device_unavailable", "CUDA is not available", line=2, source=source,
                     device="cuda", fix="Use --device cpu.")
    assert err["code"] == "y = x.cuda()"
    assert err["device"] == "cuda"
    assert err["fix"] == "Use --device cpu."
    assert format_error(err, "s.py").startswith("s.py:2: Device not available: CUDA")


@pytest.mark.parametrize("kind", ["nothing_to_draw", "device_unavailable", "empty",
                                  "not_text", "timeout", "memory", "crash", "output"])
def test_every_plain_kind_is_worded(kind):
    _assert_complete(make_error(kind, "message"))


def test_requires_grad_turned_off_is_not_the_trap():
    source = """
        w = torch.full([1], 2.)
        loss = (w * 3).sum()
        w.requires_grad_(False)
        loss.backward()
    """
    assert _fail(source)["kind"] == "no_grad_fn"


def test_a_syntax_error_from_eval_inside_the_snippet_is_at_the_eval_line():
    source = "x = 1\ny = 2\nz = eval('1 +')\n"
    err = _fail(source)
    assert (err["type"], err["line"]) == ("SyntaxError", 3)
    assert err["code"] == "z = eval('1 +')"
    # lines 1 and 2 ran: not the snippet's own syntax error, whose words say nothing ran
    assert err["kind"] == "other" and "nothing in the snippet ran" not in err["explanation"]


def test_a_syntax_error_the_snippet_raises_itself_is_an_ordinary_error():
    """``raise SyntaxError(...)`` (no file name on it) after lines that ran: not the
    snippet's own syntax error, whose words say nothing ran."""
    err = _fail("print('ran')\nraise SyntaxError('config value bad')\n")
    assert (err["type"], err["line"], err["kind"]) == ("SyntaxError", 2, "other")
    assert "nothing in the snippet ran" not in err["explanation"]


def test_the_trap_is_found_in_a_long_snippet():
    # A 5,000-line snippet: reading the source must stay linear, not quadratic.
    filler = "".join(f"t{i} = torch.ones(1) * {i}\n" for i in range(5000))
    source = ("w = torch.full([1], 2.)\nloss = (w * 3).sum()\n" + filler
              + "w.requires_grad_()\nloss.backward()\n")
    assert _fail(source)["kind"] == "stale_graph"


def test_an_error_inside_a_custom_function_backward_is_at_that_line():
    source = """
        class Square(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * x

            @staticmethod
            def backward(ctx, grad):
                return grad * undefined_name

        x = torch.ones(2, requires_grad=True)
        Square.apply(x).sum().backward()
    """
    err = _fail(source)
    assert (err["type"], err["line"]) == ("NameError", _line_of(source, "undefined_name"))


def test_chinese_variable_names_in_the_explanation():
    source = """
        # 假设 w 没有 requires_grad
        权重 = torch.full([1], 2.)
        损失 = (权重 * 3).sum()
        权重.requires_grad_()
        损失.backward()
    """
    err = _fail(source)
    assert err["kind"] == "stale_graph"
    assert err["code"] == "损失.backward()"
    assert "`损失`" in err["explanation"]


def test_a_snippet_too_deeply_nested_to_compile():
    source = "x = (1" + " + 1" * 30000 + ")\n"
    try:
        compile(source, FILENAME, "exec")
    except RecursionError as exc:
        err = explain(exc, source, FILENAME)
    else:
        pytest.skip("this Python compiles it")
    assert err["type"] == "RecursionError"
    assert err["title"] == "The snippet is nested too deeply"
    assert "loop" in err["fix"]


def test_an_exception_whose_message_cannot_be_read():
    class Broken(Exception):
        def __str__(self):
            raise ValueError("no message")

    source = "raise Broken()\n"
    try:
        exec(compile(source, FILENAME, "exec"), {"Broken": Broken})
    except Broken as exc:
        err = explain(exc, source, FILENAME)
    assert err["line"] == 1
    assert "Broken" in err["message"]


def test_a_loss_computed_inside_no_grad_names_the_block():
    source = """
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            y = (x * 2).sum()
        y.backward()
    """
    err = _fail(source)
    assert err["kind"] == "no_grad_fn"
    assert "line 2" in err["explanation"]
    assert "outside the no_grad block" in err["fix"]


def test_a_loss_computed_after_a_no_grad_block_is_the_plain_case():
    source = """
        x = torch.ones(2)
        with torch.no_grad():
            y = (x * 2).sum()
        z = (x * 3).sum()
        z.backward()
    """
    err = _fail(source)
    assert err["kind"] == "no_grad_fn"
    assert "no_grad" not in err["explanation"]


def test_requires_grad_on_a_module_attribute_after_the_loss_is_the_trap():
    source = """
        layer = nn.Linear(2, 1)
        layer.weight.requires_grad_(False)
        layer.bias.requires_grad_(False)
        loss = layer(torch.ones(2)).sum()
        layer.weight.requires_grad_()
        loss.backward()
    """
    assert _fail(source)["kind"] == "stale_graph"


def test_a_nul_byte_in_the_snippet_is_its_own_syntax_error():
    """The parser names no file for a NUL byte; it is still the snippet that Python could
    not read (nothing ran), not an error raised at a marked line."""
    from gradstep.autograd.runner import run_snippet

    err = run_snippet("y = 1\nx = 1\0\n", filename=FILENAME).error
    assert (err["type"], err["kind"]) == ("SyntaxError", "syntax")
    assert "nothing in the snippet ran" in err["explanation"]


# Review of hunt 12: the variable a name means at the failing line is found as Python
# finds it (enclosing functions, ``global``, ``nonlocal``), not only at module level.
@pytest.mark.parametrize("source, block", [
    ("""
        x = torch.ones(2, requires_grad=True)
        def train():
            with torch.no_grad():
                loss = (x * 2).sum()
            def step():
                loss.backward()
            step()
        train()
    """, "block of line 3"),
    ("""
        x = torch.ones(2, requires_grad=True)
        def compute():
            global loss
            with torch.no_grad():
                loss = (x * 2).sum()
        compute()
        loss.backward()
    """, "block of line 4"),
    ("""
        x = torch.ones(2, requires_grad=True)
        def outer():
            loss = (x * 2).sum()
            def refresh():
                nonlocal loss
                with torch.no_grad():
                    loss = (x * 3).sum()
            refresh()
            loss.backward()
        outer()
    """, "block of line 6"),
    ("""
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            loss = (x * 2).sum()
        def outer():
            loss = (x * 3).sum().detach()
            def inner():
                loss.backward()
            inner()
        outer()
    """, None),
    ("""
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            loss = (x * 2).sum()
        def step(loss):
            loss.backward()
        step((x * 3).sum().detach())
    """, None),
    ("""
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            loss = (x * 2).sum()
        for loss in [(x * 3).sum().detach()]:
            loss.backward()
    """, None),
], ids=["closure", "global", "nonlocal", "the enclosing function's, not the module's",
        "a parameter", "a for loop's"])
def test_the_no_grad_block_of_the_variable_python_looks_up(source, block):
    err = _fail(source)
    assert err["kind"] == "no_grad_fn"
    if block:
        assert block in str(err["explanation"]), err["explanation"]
    else:
        assert "of line" not in str(err["explanation"]), err["explanation"]  # no block


def test_a_requires_grad_switch_in_a_function_that_is_called_is_the_trap():
    """The switch inside ``enable()`` ran at the line that calls it, after ``loss``."""
    source = """
        x = torch.ones(2)
        loss = (x * 2).sum()
        def enable():
            x.requires_grad_()
        enable()
        loss.backward()
    """
    assert _fail(source)["kind"] == "stale_graph"
    # The function's own ``w`` (a parameter) is not the module's ``w`` the loss came from.
    other = """
        w = torch.ones(2)
        v = torch.ones(2)
        loss = (w * 2).sum()
        def enable(w):
            w.requires_grad_()
        enable(v)
        loss.backward()
    """
    assert _fail(other)["kind"] == "no_grad_fn"


def test_a_starred_argument_to_autograd_grad_keeps_torchs_own_error():
    """``torch.autograd.grad(*args)``: reading "*args" as the differentiated tensor raised
    a SyntaxError of gradstep's own, reported in place of torch's RuntimeError."""
    err = _fail("""
        x = torch.ones(2)
        args = ((x * 2).sum(), x)
        torch.autograd.grad(*args)
    """)
    assert (err["type"], err["kind"], err["line"]) == ("RuntimeError", "no_grad_fn", 3)
    assert "*args" not in str(err["explanation"])
    err = _fail("""
        a = torch.ones(2, requires_grad=True)
        rest = [torch.ones(2, requires_grad=True)]
        torch.autograd.grad((a * 2).sum(), [*rest, a])
    """)
    assert err["kind"] == "unused_input" and "input 0" in str(err["explanation"])


def test_a_slip_reading_the_source_leaves_the_general_explanation(monkeypatch):
    from gradstep.autograd import error_context

    def broken(*args, **kwargs):
        raise ValueError("a reading of gradstep's own failed")

    monkeypatch.setattr(error_context, "is_stale_graph", broken)
    err = _fail(NO_REQUIRES_GRAD)
    assert (err["type"], err["kind"]) == ("RuntimeError", "no_grad_fn")
    _assert_complete(err)


def test_a_global_assigned_in_a_function_counts_only_once_the_function_is_called():
    """``evaluate`` sets the module's ``loss`` under no_grad through ``global``: that block
    is to blame only when ``evaluate()`` ran before the failing line."""
    body = """
        x = torch.ones(2, requires_grad=True)
        loss = (x * 2).sum().detach()
        def evaluate():
            global loss
            with torch.no_grad():
                loss = (x * 2).sum()
        {call}
        loss.backward()
    """
    never = _fail(body.replace("{call}", "pass"))
    assert "of line" not in str(never["explanation"]), never["explanation"]  # no block
    called = _fail(body.replace("{call}", "evaluate()"))
    assert "block of line 5" in str(called["explanation"]), called["explanation"]


def test_a_method_is_not_the_function_of_the_same_name_that_is_called():
    """``setup()`` calls the module's empty function, not ``M.setup``, which switches ``y``."""
    err = _fail("""
        y = torch.ones(2)
        def setup():
            pass
        class M:
            def setup(self):
                y.requires_grad_()
        loss = (y * 2).sum()
        setup()
        loss.backward()
    """)
    assert err["kind"] == "no_grad_fn"


def test_the_call_that_freed_the_buffers_is_named_not_the_first():
    """``y.backward(retain_graph=True); y.backward(); y.backward()``: the third call fails on
    the buffers the second freed, and the explanation said "The first backward ... freed"
    them, telling to pass retain_graph=True to the first call, which already did. It names
    the call that freed them (line 3), in the run's error and in the failed call's record;
    a training loop's call names its own line (an earlier run of it freed them)."""
    from gradstep.autograd.runner import run_snippet

    source = ("import torch\nx = torch.ones(2, requires_grad=True); y = (x * 2).sum()\n"
              "y.backward(retain_graph=True); y.backward()\n"
              "y.backward()\n")
    run = run_snippet(source.replace("; y.backward()\n", "\ny.backward()\n"), filename=FILENAME)
    assert run.error["kind"] == "freed_buffers" and run.error["line"] == 5
    for err in (run.error, run.calls[-1]["error"], run.calls[-1]["timeline"]["error"]):
        assert err["explanation"].startswith("The backward call at line 4, run without "
                                             "retain_graph=True, freed"), err["explanation"]
        assert "at line 4" in err["fix"] and "FIRST" not in err["fix"]
    assert "第 4 行" in localized(run.error, "zh_CN")["explanation"]
    loop = run_snippet("import torch\nx = torch.ones(2, requires_grad=True)\n"
                       "loss = (x * 2).sum()\nfor _ in range(2):\n    loss.backward()\n",
                       filename=FILENAME)
    assert "at line 5" in loop.error["fix"]


def test_an_autograd_grad_call_that_freed_the_buffers_is_named_as_one():
    """``g, = torch.autograd.grad(y, x)`` (retain_graph False by default) frees the graph, and
    ``y.backward()`` then fails on it: the explanation called line 4 "the backward call"
    (statehunt4). It names an autograd.grad call as one, and both kinds where both freed
    what the failing call needed; torch's own run raises the same error at the same line."""
    from gradstep.autograd.runner import run_snippet

    head = "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
    grad_only = head + "y = (x.exp() * x.sin()).sum()\ng, = torch.autograd.grad(y, x)\ny.backward()\n"
    both = head + ("e = x.exp()\ns = x.sin()\ntorch.autograd.grad(e.sum(), x)\n"
                   "s.sum().backward()\n(e * s).sum().backward()\n")
    two_backward = both.replace("torch.autograd.grad(e.sum(), x)", "e.sum().backward()")
    one_line = both.replace("x)\ns.sum()", "x); s.sum()")
    two_grad_one_line = one_line.replace("s.sum().backward()", "torch.autograd.grad(s.sum(), x)")
    for source, line, words, zh in (
            (grad_only, 5, "The autograd.grad call at line 4", "第 4 行的 autograd.grad 调用"),
            (both, 7, "The backward and autograd.grad calls at lines 5, 6",
             "第 5, 6 行的 backward 和 autograd.grad 调用"),
            # several calls of one kind: "calls at lines" (review: "call at line 5, 6")
            (two_backward, 7, "The backward calls at lines 5, 6", "第 5, 6 行的 backward 调用"),
            # both kinds on one line: both named (review: only the first call's kind was)
            (one_line, 6, "The backward and autograd.grad calls at line 5",
             "第 5 行的 backward 和 autograd.grad 调用"),
            (two_grad_one_line, 6, "The autograd.grad calls at line 5",
             "第 5 行的几次 autograd.grad 调用")):
        with pytest.raises(RuntimeError, match="backward through the graph a second time") as plain:
            exec(compile(source, FILENAME, "exec"), {})
        (entry,) = [e for e in plain.traceback if e.frame.code.raw.co_filename == FILENAME]
        assert entry.lineno + 1 == line  # (pytest's lines count from 0)
        run = run_snippet(source, filename=FILENAME)
        assert run.error["kind"] == "freed_buffers" and run.error["line"] == line
        for err in (run.error, run.calls[-1]["error"]):
            assert err["explanation"].startswith(words + ", run without retain_graph=True, "
                                                 "freed"), err["explanation"]
            assert words.replace("The", "the", 1) in err["fix"], err["fix"]
        chinese = localized(run.error, "zh_CN")
        assert chinese["explanation"].startswith(zh + "没有传入") and f"就给{zh}传入" in chinese["fix"]
    # torch's own runs: each of the two calls on line 5 freed what line 6 needs (retain_graph
    # on one alone still fails, on both it runs)
    kept_grad = one_line.replace("(e.sum(), x)", "(e.sum(), x, retain_graph=True)")
    kept_backward = one_line.replace("s.sum().backward()", "s.sum().backward(retain_graph=True)")
    for source in (kept_grad, kept_backward):
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            exec(compile(source, FILENAME, "exec"), {})
    exec(compile(kept_grad.replace("s.sum().backward()", "s.sum().backward(retain_graph=True)"),
                 FILENAME, "exec"), {})


def test_a_call_on_another_threads_graph_is_not_named_as_the_one_that_freed_the_buffers():
    """torch numbers each thread's nodes from its own counter: the thread's ``(x * 2).sum()``
    had the node keys of the main thread's, and the explanation named the thread's call
    (line 6) with line 9 as freeing what line 10 needed. After a thread started, the
    general wording stayed (shown less rather than wrong); the nodes are now told apart by
    their metadata dicts, so line 9 alone is named (statehunt5)."""
    from gradstep.autograd.runner import run_snippet

    source = ("import threading\nimport torch\nx = torch.ones(2, requires_grad=True)\n"
              "def work():\n    z = (x * 2).sum()\n    z.backward()\n"
              "t = threading.Thread(target=work); t.start(); t.join()\n"
              "y = (x * 2).sum()\ny.backward()\ny.backward()\n")
    run = run_snippet(source, filename=FILENAME)
    assert run.error["kind"] == "freed_buffers" and run.error["line"] == 10
    assert "line 6" not in run.error["explanation"] and "line 6" not in run.error["fix"]
    # line 9's call freed them (statehunt5: the nodes told apart by their metadata dicts, the
    # general wording stayed once a thread started); torch: with retain_graph=True there, the
    # snippet runs
    assert run.error["explanation"].startswith("The backward call at line 9, run without")
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        exec(compile(source, FILENAME, "exec"), {})
    exec(compile(source.replace("y.backward()\ny.backward()", "y.backward(retain_graph=True)\n"
                                "y.backward()"), FILENAME, "exec"), {})


def test_no_grad_inside_a_called_function_is_the_cause_named():
    """``loss = f()`` where ``f`` computes its result under ``torch.no_grad()``: the
    explanation said `loss` "was computed only from tensors that do not require grad",
    but ``w`` requires grad; no_grad inside ``f`` is the cause (its line is named). A cause
    not established (a comparison) is not asserted: the possibilities are named instead."""
    source = """
        w = torch.ones(2, requires_grad=True)
        x = torch.ones(2)
        def f():
            with torch.no_grad():
                return (w * x).sum()
        loss = f()
        loss.backward()
    """
    err = _fail(source)
    assert err["kind"] == "no_grad_fn" and err["line"] == 7
    explanation = str(err["explanation"])
    assert "only from tensors" not in explanation, explanation
    assert "`f` returned on line 6" in explanation and "of line 4" in explanation
    assert "no_grad" in str(err["fix"])
    decorated = _fail("""
        w = torch.ones(2, requires_grad=True)
        @torch.no_grad()
        def f():
            return (w * 2).sum()
        f().backward()
    """)
    assert "decorator of line 2" in str(decorated["explanation"]), decorated["explanation"]
    assert "Remove the no_grad decorator of line 2" in str(decorated["fix"]), decorated["fix"]
    assert "outside the no_grad block" in str(err["fix"]), err["fix"]  # the block's fix
    before = _fail(source.replace("            with torch.no_grad():\n                return (w * x).sum()",
                                  "            y = (w > 0).float()\n"
                                  "            with torch.no_grad():\n                return y"))
    assert "of line" not in str(before["explanation"]), before["explanation"]  # y: grad on
    compared = _fail("""
        w = torch.ones(2, requires_grad=True)
        loss = (w > 0).float().sum()
        loss.backward()
    """)
    assert "Either it was computed only from tensors" in str(compared["explanation"])
    assert "no_grad" in str(compared["explanation"]) and "requires_grad=True" in str(
        compared["fix"])



_NO_GRAD_F = """\
w = torch.ones(2, requires_grad=True)
def f():
    with torch.no_grad():
        return (w * 2).sum()
"""


@pytest.mark.parametrize("source", [
    _NO_GRAD_F + "f = lambda: (w > 0).float().sum()\n",  # rebound after the def
    _NO_GRAD_F + "class f:\n    def __new__(cls):\n        return (w > 0).float().sum()\n",
    _NO_GRAD_F + "def g():\n    global f\n    f = lambda: (w > 0).float().sum()\ng()\n",
    # the no_grad def comes last, under an ``if`` that never runs
    "w = torch.ones(2, requires_grad=True)\ndef f():\n    return (w > 0).float().sum()\n"
    "if False:\n" + textwrap.indent(_NO_GRAD_F.split("\n", 1)[1], "    "),
])
def test_a_function_name_bound_again_is_not_blamed(source):
    """``f`` names a ``def`` whose result is computed under no_grad, but another binding of
    ``f`` (the one that ran, or may have) returned the tensor: that def is not named."""
    err = _fail(source + "loss = f()\nloss.backward()\n")
    assert err["kind"] == "no_grad_fn", err
    assert "returned on line" not in str(err["explanation"]), err["explanation"]


@pytest.mark.parametrize("function", [
    "def f():\n    with torch.no_grad():\n        return s.y\n",       # an attribute
    "def f():\n    with torch.no_grad():\n        return store[0]\n",  # an element
    "@torch.no_grad()\ndef f():\n    return store[0]\n",
    "@torch.no_grad()\ndef f(x=store[0]):\n    return x\n",             # a parameter
    "from torch import enable_grad as on\n"                              # grad back on
    "def f():\n    with torch.no_grad():\n        with on():\n"
    "            return (w > 0).float().sum()\n",
])
def test_a_tensor_computed_outside_and_returned_under_no_grad_is_not_blamed(function):
    """A function returns, under no_grad, a tensor computed before with grad on (held in an
    attribute or a list, or a parameter), or computes it where grad is back on: its no_grad
    is not what left the tensor without a grad_fn (the comparison did)."""
    source = ("w = torch.ones(2, requires_grad=True)\n"
              "class S:\n    pass\ns = S()\ns.y = (w > 0).float().sum()\nstore = [s.y]\n"
              + function + "loss = f()\nloss.backward()\n")
    err = _fail(source)
    assert err["kind"] == "no_grad_fn", err
    assert "returned on line" not in str(err["explanation"]), err["explanation"]


@pytest.mark.parametrize("make_w", [
    "w = torch.ones(2, **{'requires_grad': True})",
    "w = torch.ones(2)\nsetattr(w, 'requires_grad', True)",
    "import torch.nn as tnn\nw = tnn.Linear(2, 1).weight[0]",
    "from torch import nn as layers\nw = layers.Linear(2, 1).weight[0]",
    "build = nn\nw = build.Linear(2, 1).weight[0]",
    "w = torch.ones(2)\nswitch = torch.Tensor.requires_grad_\nswitch(w)",
    "w = torch.autograd.Variable(torch.ones(2), True)",  # requires_grad positionally
    "w = torch.Tensor._make_subclass(torch.Tensor, torch.ones(2), True)",
])
def test_a_tensor_made_to_require_grad_another_way_is_not_denied(make_w):
    """``w`` requires grad (through ``**kwargs``, ``setattr``, an ``nn`` module under
    another name, an unbound ``requires_grad_``) and a comparison cut the graph: the
    explanation must not say the tensor "was computed only from tensors that do not
    require grad"; the possible causes are named instead."""
    err = _fail(make_w + "\nassert w.requires_grad\nloss = (w > 0).float().sum()\n"
                "loss.backward()\n")
    assert err["kind"] == "no_grad_fn", err
    assert "Either it was computed only from tensors" in str(err["explanation"]), err


@pytest.mark.parametrize("source", [
    "w = torch.ones(3, requires_grad=True)\nw += 1\n",  # a leaf
    "w = torch.ones(3, requires_grad=True)\nw[0].mul_(2)\n",  # a view of one
])
def test_a_leaf_changed_in_place_says_how_to_update_it(source):
    """A hand-written update without no_grad: it had 'The snippet raised this error at the
    marked line. / Read the message above and correct that line.' (walk 5)."""
    err = _fail(source)
    assert err["line"] == 2 and "leaf Variable" in err["message"]
    assert err["title"] in ("In-place change of a leaf that requires grad",
                            "In-place change of a view of a leaf that requires grad")
    assert "torch.no_grad()" in err["fix"] and "out of place" in err["fix"]


def test_a_matrix_product_names_the_two_inner_sizes():
    """'(3x4 and 5x2)' got only 'the tensors on this line have shapes that this operation
    cannot combine' (walk 5): the explanation says which sizes must be equal."""
    err = _fail("x = torch.ones(3, 4, requires_grad=True)\nw = torch.ones(5, 2)\ny = x @ w\n")
    assert err["line"] == 3 and err["title"] == "Shapes do not fit"
    assert "3x4 times 5x2" in err["explanation"] and "4 is not 5" in err["explanation"]
    assert "in_features (5)" in err["fix"] and "print(t.shape)" in err["fix"]
