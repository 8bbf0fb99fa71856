"""Backward calls made by the snippet itself: recorded with their line, then exactly torch's behaviour."""

import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradstep.autograd.backward import record_backward
from gradstep.autograd.calls import capture_backward_calls
from gradstep.autograd.frame_names import graph_ids
from gradstep.autograd.session import Session
from gradstep.autograd.trace import trace_graph
from gradstep.examples import get_example, load_example
from tests.autograd.backward_oracle import assert_same, assert_value, labels_for, torch_pass
from tests.plain_runs import plain_python

SEED_A = [0.1440, 0.5349, 0.7022]


def run(source, **kwargs):
    return Session().run(textwrap.dedent(source), filename="<snippet>", **kwargs)


def run_example(example_id, **kwargs):
    example = get_example(example_id)
    return Session().run(load_example(example_id), filename=str(example.path), **kwargs)


def softmax_row(i, retain_graph=True):
    a = torch.tensor(SEED_A, requires_grad=True)
    p = F.softmax(a, dim=0)
    return p[i], a


def test_softmax_lesson_records_both_grad_calls_as_torch_runs_them():
    # root="p": the calls keep their own graphs' numbering (with the default root they
    # are drawn on the traced graph instead: tests/autograd/test_call_graphs.py)
    result = run_example("softmax_jacobian", root="p")
    assert result["ok"], result["error"]
    first, second = result["calls"]
    assert (first["line"], first["api"], first["retain_graph"]) == (12, "torch.autograd.grad", True)
    assert (second["line"], second["retain_graph"]) == (13, False)
    assert "p[1]" in first["code"]
    for call, row in ((first, 1), (second, 2)):
        root, a = softmax_row(row)
        oracle = torch_pass(root, inputs=[a])
        assert_same(call["timeline"], oracle)
        assert_value(call["timeline"]["returned"][0], oracle["result"][0])
        assert call["timeline"]["leaf_grads"] == {"a": None}
    assert first["timeline"]["returned"][0] == pytest.approx([-0.0828, 0.2274, -0.1447], abs=1e-4)
    assert second["timeline"]["returned"][0] == pytest.approx([-0.0979, -0.1447, 0.2425], abs=1e-4)
    assert first["timeline"]["freed"] is False and second["timeline"]["freed"] is True


def test_retain_graph_error_stops_at_its_line_with_the_timeline_up_to_there():
    result = run_example("retain_graph_error", root="p")
    assert result["ok"] is False
    assert result["error"]["line"] == 13 and result["error"]["kind"] == "freed_buffers"
    first, second = result["calls"]
    assert first["error"] is None and first["timeline"]["freed"] is True
    assert second["error"]["kind"] == "freed_buffers" and second["error"]["line"] == 13
    steps = second["timeline"]["steps"]
    # torch on the same graph: the select node (nothing saved) runs, softmax needs its freed result
    root, a = softmax_row(1)
    order = torch_pass(root, retain_graph=False)["order"]
    names = {node_id: fn.name() for fn, node_id in graph_ids([root]).items()}
    assert [s["node"] for s in steps] == order[: len(steps)]
    assert [s["name"] for s in steps] == ["SelectBackward0", "SoftmaxBackward0"]
    assert names[steps[-1]["node"]] == "SoftmaxBackward0" and steps[-1]["error"] is True
    assert second["timeline"]["leaf_grads"]["a"] == first["timeline"]["leaf_grads"]["a"]


def test_retained_second_backward_accumulates():
    result = run_example("retain_graph_fixed")
    assert result["ok"], result["error"]
    first, second = result["calls"]
    root, a = softmax_row(1)
    root.backward(retain_graph=True)
    once = a.grad.clone()
    root.backward()
    assert_value(first["timeline"]["leaf_grads"]["a"], once)
    assert_value(second["timeline"]["leaf_grads"]["a"], a.grad)
    leaf = second["timeline"]["steps"][-1]
    assert leaf["name"] == "AccumulateGrad"
    assert_value(leaf["grad_before"], once)
    assert_value(leaf["grad_after"], 2 * once)


def test_no_grad_fn_error_is_recorded_and_raised_at_its_line():
    result = run_example("requires_grad_error")
    assert result["ok"] is False
    (call,) = result["calls"]
    assert call["line"] == 14 and call["error"]["kind"] == "no_grad_fn"
    assert call["timeline"]["steps"] == []
    assert result["error"]["line"] == 14


def test_stale_graph_is_told_apart_in_the_call_record():
    result = run_example("stale_graph_trap")
    assert result["calls"][-1]["error"]["kind"] == "stale_graph"


def test_zero_grad_sequence():
    result = run("""
        w = torch.full([1], 2., requires_grad=True)
        loss = F.mse_loss(torch.ones(1), torch.ones(1) * w)
        loss.backward(retain_graph=True)
        loss.backward(retain_graph=True)
        w.grad.zero_()
        loss.backward()
        """)
    assert result["ok"], result["error"]
    befores = [c["timeline"]["steps"][-1]["grad_before"] for c in result["calls"]]
    afters = [c["timeline"]["steps"][-1]["grad_after"] for c in result["calls"]]
    assert befores == [None, [2.0], [0.0]]
    assert afters == [[2.0], [4.0], [2.0]]
    assert [c["line"] for c in result["calls"]] == [4, 5, 7]


def test_calls_from_inside_torch_are_not_recorded():
    result = run("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        J = torch.autograd.functional.jacobian(lambda t: t ** 2, x)
        y = (x * 3).sum()
        """)
    assert result["ok"], result["error"]
    assert result["calls"] == []


def test_a_call_inside_a_snippet_function_names_that_line():
    result = run("""
        def train(w):
            loss = (w * w).sum()
            loss.backward()
            return loss

        w = torch.tensor([1.0, -2.0], requires_grad=True)
        train(w)
        """)
    (call,) = result["calls"]
    assert call["line"] == 4 and call["api"] == "Tensor.backward"
    assert call["timeline"]["leaf_grads"] == {"w": [2.0, -4.0]}


def test_torch_functions_are_restored_even_after_a_failure():
    originals = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
    with pytest.raises(ZeroDivisionError), capture_backward_calls("<x>"):
        assert torch.Tensor.backward is not originals[0]
        raise ZeroDivisionError
    assert (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad) == originals
    run("x = torch.ones(1, requires_grad=True)\n(x * 2).sum().backward()\n1 / 0\n")
    assert (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad) == originals


def test_the_exact_exception_object_reaches_the_snippet():
    session = Session()
    result = session.run(textwrap.dedent("""
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        p = a.exp()
        try:
            p.backward()
        except RuntimeError as exc:
            caught = exc
        """), filename="<snippet>")
    assert result["ok"], result["error"]
    (call,) = result["calls"]
    assert call["error"]["kind"] == "non_scalar" and call["line"] == 5
    caught = session.state.namespace["caught"]
    with pytest.raises(RuntimeError) as plain:
        torch.tensor([1.0], requires_grad=True).exp().expand(2).backward()
    assert type(caught) is RuntimeError and str(caught) == str(plain.value)
    assert call["error"]["message"] == str(caught).splitlines()[0]


def test_graph_ids_number_like_trace_graph():
    x = torch.randn(3, requires_grad=True)
    y = x.exp()
    root = (y * y + y.sin()).sum() + x.sum()
    assert graph_ids([root]) == trace_graph(root).id_of


def test_create_graph_gives_a_gradient_with_its_own_graph():
    result = run("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x ** 3).sum()
        g, = torch.autograd.grad(y, [x], create_graph=True)
        h = g.sum()
        """)
    assert result["ok"], result["error"]
    (call,) = result["calls"]
    assert call["create_graph"] is True and call["retain_graph"] is True
    assert call["timeline"]["returned"] == [[3.0, 12.0]]
    assert call["timeline"]["leaf_grads"] == {"x": None}
    # the traced root is h = sum(3 x^2): its graph reaches x again (second derivatives)
    names = [n["name"] for n in result["trace"]["nodes"]]
    assert "AccumulateGrad" in names and "PowBackward0" in names


def second_derivative_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (g,) = torch.autograd.grad((x**3).sum(), [x], create_graph=True)
    return g.sum(), x


def test_second_derivative_recorded_from_the_gradient_graph():
    h, x = second_derivative_graph()
    trace = trace_graph(h)
    got = record_backward(h, trace.id_of, labels=labels_for(trace, {"x": x}), mode="grad", inputs=[x])
    h2, x2 = second_derivative_graph()
    oracle = torch_pass(h2, inputs=[x2])
    assert_same(got, oracle)
    assert_value(got["returned"][0], oracle["result"][0])
    assert got["returned"][0] == [6.0, 12.0]  # d/dx sum(3 x^2) = 6 x


def test_gradsteps_own_failure_never_changes_the_snippets_result(monkeypatch):
    import gradstep.autograd.calls as calls_module
    import gradstep.autograd.step_hooks as hooks_module

    def broken(*args, **kwargs):
        raise TypeError("bookkeeping bug")

    source = """
        w = torch.tensor([1.0, -2.0], requires_grad=True)
        (w * w).sum().backward()
        g, = torch.autograd.grad((w ** 3).sum(), [w])
        loss = (w * 2).sum()
        """
    monkeypatch.setattr(calls_module, "graph_ids", broken)
    session = Session()
    result = session.run(textwrap.dedent(source), filename="<snippet>")
    assert result["ok"], result["error"]
    assert result["calls"] == []  # unrecorded, but run exactly as torch runs them
    assert session.state.namespace["w"].grad.tolist() == [2.0, -4.0]
    assert session.state.namespace["g"].tolist() == [3.0, 12.0]
    monkeypatch.undo()
    monkeypatch.setattr(hooks_module, "plain_values", broken)
    session = Session()
    result = session.run(textwrap.dedent(source), filename="<snippet>")
    assert result["ok"], result["error"]
    assert [c["timeline"]["steps"] for c in result["calls"]] == [[], []]
    assert session.state.namespace["g"].tolist() == [3.0, 12.0]


def test_parameters_are_named_in_a_snippets_training_step():
    result = run("""
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
        x = torch.randn(4, 3)
        loss = net(x).pow(2).mean()
        loss.backward()
        """)
    assert result["ok"], result["error"]
    (call,) = result["calls"]
    grads = call["timeline"]["leaf_grads"]
    assert set(grads) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    net(torch.randn(4, 3)).pow(2).mean().backward()
    for name, param in net.named_parameters():
        assert_value(grads[name], param.grad)


def test_a_long_training_loop_keeps_the_first_calls_only():
    from gradstep.autograd.calls import MAX_CALLS

    session = Session()
    result = session.run(textwrap.dedent(f"""
        w = torch.tensor([1.0], requires_grad=True)
        for step in range({MAX_CALLS + 7}):
            (w * 2).sum().backward()
        loss = (w * 2).sum()
        """), filename="<snippet>")
    assert result["ok"], result["error"]
    assert len(result["calls"]) == MAX_CALLS + 1
    last = result["calls"][-1]
    assert last["api"] == "skipped" and last["skipped_calls"] == 7 and last["timeline"] is None
    assert session.state.namespace["w"].grad.tolist() == [2.0 * (MAX_CALLS + 7)]  # all ran


def test_retained_non_leaf_grad_of_a_snippet_call():
    result = run("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward()
        """)
    (call,) = result["calls"]
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    assert_value(call["timeline"]["retained_grads"]["y"], y.grad)
    assert_value(call["timeline"]["leaf_grads"]["x"], x.grad)


def test_wrong_arguments_get_torchs_own_error():
    source = "x = torch.ones(1, requires_grad=True)\ny = x * 2\ny.backward(colour='red')\n"
    result = run(source)
    assert result["ok"] is False and result["calls"] == []
    with pytest.raises(TypeError) as plain:
        (torch.ones(1, requires_grad=True) * 2).backward(colour="red")
    assert result["error"]["type"] == "TypeError"
    assert result["error"]["message"] == str(plain.value).splitlines()[0]
    assert result["error"]["line"] == 3



WRONG_ARGUMENTS_CAUGHT = """\
import sys
import traceback

import torch

x = torch.ones(2, requires_grad=True)
y = (x * 2).sum()
try:
    y.backward(colour="red")
except TypeError:
    traceback.print_exc(file=sys.stdout)
try:
    torch.autograd.grad(y, x, 1, 2, 3, 4, 5, 6, 7, 8, 9)
except TypeError:
    traceback.print_exc(file=sys.stdout)
g = (t for t in [x])
try:
    torch.autograd.backward(y, g, oops=1)
except TypeError as e:
    print(type(e).__name__, e.__context__, list(g))
y.backward()
print(x.grad)
"""


def test_wrong_arguments_caught_and_printed_are_pythons_error(tmp_path):
    """A call with wrong arguments was passed to torch from inside gradstep's ``except
    TypeError`` of its own ``signature.bind``: the printed traceback showed ``inspect``'s error
    and "During handling of the above exception" where python shows torch's error alone, and
    a generator among the arguments was consumed before torch refused them."""
    path = tmp_path / "wrong_arguments.py"
    path.write_text(WRONG_ARGUMENTS_CAUGHT, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr == "" and "TypeError None [tensor(" in plain.stdout
    assert "During handling" not in plain.stdout
    result = Session().run(WRONG_ARGUMENTS_CAUGHT, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout


DEPRECATED_ARGUMENTS = """\
import torch

x = torch.ones(2, requires_grad=True)
loss = (x * 2).sum()


def grad_of(t):
    return torch.autograd.grad(t, x, retain_graph=True, only_inputs=False)


for i in range(2):
    torch.autograd.grad(loss, x, retain_graph=True, only_inputs=False)
    grad_of(loss)
torch.autograd.backward(loss, grad_variables=torch.tensor(1.0), retain_graph=True)
torch.autograd.functional.vjp(lambda t: t * 2, x.detach(), torch.ones(2))
loss
"""


def test_torchs_warnings_about_deprecated_arguments_name_the_callers_line(tmp_path):
    """``warnings.warn(..., stacklevel=2)`` inside ``torch.autograd.grad`` / ``backward`` (the
    ``only_inputs`` and ``grad_variables`` arguments) named gradstep's wrapper
    (``calls.py:271``, its ``lambda`` as the source line) where python names the snippet's
    line (a call from a function: that function's line), each once per location."""
    path = tmp_path / "deprecated.py"
    path.write_text(DEPRECATED_ARGUMENTS, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.stderr.count("FutureWarning") == 3  # once per location: the loop's once
    result = Session().run(DEPRECATED_ARGUMENTS, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout + plain.stderr


HOOK_WARNINGS = """\
import warnings

import torch
from torch import nn

m = nn.Linear(2, 2)
m.register_full_backward_hook(lambda module, grad_input, grad_output: None)
x = torch.ones(1, 2)  # needs no grad: torch warns from the hook, stacklevel=5
m(x).sum().backward()
m(x).sum().backward()
for _ in range(2):
    m(x).sum().backward()
a = torch.ones(2, requires_grad=True)
b = torch.ones(2, requires_grad=True)
ya, yb = a * 2, b * 3
ya.register_hook(lambda g: warnings.warn("hook of ya", stacklevel=4))
yb.register_hook(lambda g: warnings.warn("hook of yb", stacklevel=5))
(ga,) = torch.autograd.grad(ya.sum(), a, retain_graph=True)
(ga,) = torch.autograd.grad(ya.sum(), a, retain_graph=True)
yb.sum().backward(retain_graph=True)
yb.sum().backward()
loss = m(x).sum()
loss
"""


def test_a_warning_given_during_a_pass_names_the_line_python_names(tmp_path):
    """A warning given during the pass, with a ``stacklevel`` that reaches the caller of
    torch's function (``BackwardHook``'s "Full backward hook is firing ...", a hook's own
    ``warnings.warn``): it named gradstep's wrapper (``calls.py:369``) where python names the
    snippet's line, and so was shown once for all of them (fidhunt5)."""
    path = tmp_path / "hook_warnings.py"
    path.write_text(HOOK_WARNINGS, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.stderr.count("Full backward hook is firing") == 3  # the loop's line once
    assert plain.stderr.count("hook of y") == 4  # each line once
    result = Session().run(HOOK_WARNINGS, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout + plain.stderr
    assert [call["line"] for call in result["calls"]] == [9, 10, 12, 12, 18, 19, 20, 21]
    assert all(call["timeline"]["steps"] for call in result["calls"])


HOOK_IDENTITIES = """\
import threading
import warnings

import torch
import torch._tensor

g, b, tb = torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward
x = torch.ones(2, requires_grad=True)
warnings.showwarning = lambda message, category, file, line, *rest: print(file, line, message)
def hook(grad):
    print(torch.autograd.grad is g, torch.autograd.backward is b, torch.Tensor.backward is tb)
    warnings.warn("aimed at torch's Tensor.backward", stacklevel=4)
    return grad
y = (x * 2).sum()
y.register_hook(hook)
y.backward(retain_graph=True); print(len(vars(torch._tensor).get("__warningregistry__", ())))
y.backward(retain_graph=True)
torch.autograd.backward(y, retain_graph=True)
torch.autograd.grad(y, x, retain_graph=True)
t = threading.Thread(target=y.backward, kwargs={"retain_graph": True}); t.start(); t.join()
def mine(*args, **kwargs):
    print("the snippet's own autograd.backward")
    return b(*args, **kwargs)
torch.autograd.backward = mine
y.backward()
torch.autograd.backward = b
print(torch.autograd.grad is g, torch.Tensor.backward is tb, x.grad)
"""


def test_a_hook_reads_the_functions_the_snippet_read(tmp_path):
    """Inside a hook of a recorded call, ``torch.autograd.grad`` and the others are the very
    objects the snippet read before (fidhunt5 put torch's own there while a call was
    recorded: ``is`` gave False); a warning aimed at torch's ``Tensor.backward`` frame is
    noted in that module's registry (read after the call) as in python; a function of the
    snippet's put in
    ``torch.autograd.backward`` is what ``Tensor.backward`` calls."""
    path = tmp_path / "hook_identities.py"
    path.write_text(HOOK_IDENTITIES, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.stdout.count("True True True") == 5 and "_tensor.py 623" in plain.stdout
    result = Session().run(HOOK_IDENTITIES, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout + plain.stderr
    assert [call["line"] for call in result["calls"]] == [16, 17, 18, 19, 25]
    assert all(call["timeline"]["steps"] for call in result["calls"])


def test_the_step_budget_stops_recording_a_big_loop(monkeypatch):
    import gradstep.autograd.calls as calls_module

    monkeypatch.setattr(calls_module, "MAX_STEPS", 10)
    result = run("""
        w = torch.tensor([1.0], requires_grad=True)
        for step in range(5):
            (w * 2 + w * 3).sum().backward()
        loss = w * 2
        """)
    assert result["ok"], result["error"]
    kept = [c for c in result["calls"] if c["api"] != "skipped"]
    assert [len(c["timeline"]["steps"]) for c in kept] == [5, 5]  # sum, add, mul, mul, leaf
    assert result["calls"][-1]["skipped_calls"] == 3


def test_the_wrapped_functions_are_named_as_torch_names_them():
    from gradstep.autograd.runner import run_snippet

    names = ("__module__", "__qualname__", "__name__", "__doc__")
    functions = "(torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward)"
    plain = [[getattr(f, n) for n in names] for f in eval(functions)]  # noqa: S307
    result = run_snippet(f"seen = [[getattr(f, n) for n in {names!r}] for f in {functions}]\n"
                         "wrapped = hasattr(torch.autograd.grad, '__wrapped__')\n"
                         "y = torch.ones(1, requires_grad=True) * 2\n")
    assert result.error is None and result.namespace["wrapped"]  # the snippet saw the wrappers
    assert result.namespace["seen"] == plain


JIT_SCRIPTED_GRAD = """
import torch

@torch.jit.script
def input_grad(x: torch.Tensor) -> torch.Tensor:
    g = torch.autograd.grad([(x * x).sum()], [x])
    gx = g[0]
    assert gx is not None
    return gx

x = torch.tensor([1.0, 2.0], requires_grad=True)
print(input_grad(x).tolist())
loss = x.sum()
loss
"""


def test_torch_jit_script_compiles_a_wrapped_autograd_call_to_torch_s_op():
    # TorchScript finds torch.autograd.grad in its builtin table (aten::grad) by the function
    # object: it compiled gradstep's wrapper from source instead and failed
    result = run(JIT_SCRIPTED_GRAD)
    assert result["ok"], result["error"]
    assert result["output"] == "[2.0, 4.0]\n"
    assert result["calls"] == []  # the scripted call runs torch's op, unrecorded


@pytest.mark.parametrize("built", [True, False], ids=["table built", "table not built yet"])
def test_the_wrappers_are_torchscript_builtins_only_while_captured(built):
    from torch.jit import _builtins

    table, ops = _builtins._builtin_table, list(_builtins._builtin_ops)
    try:
        if not built:  # TorchScript builds its table on first use, from _builtin_ops
            _builtins._builtin_table = None
        with capture_backward_calls("<snippet>"):
            wrappers = [torch.autograd.grad, torch.autograd.backward]

            def input_grad(x: torch.Tensor) -> torch.Tensor:
                gx = torch.autograd.grad([(x * x).sum()], [x])[0]
                assert gx is not None
                return gx

            scripted = torch.jit.script(input_grad)
            assert [_builtins._find_builtin(w) for w in wrappers] == ["aten::grad", "aten::backward"]
        assert scripted(torch.tensor([1.0, 3.0], requires_grad=True)).tolist() == [2.0, 6.0]
        assert all(_builtins._find_builtin(w) is None for w in wrappers)
        assert not any(fn is w for fn, _ in _builtins._builtin_ops for w in wrappers)
    finally:
        _builtins._builtin_table = table
        _builtins._builtin_ops[:] = ops


def test_an_error_in_backward_or_grad_is_located_at_the_snippets_own_column():
    """The second ``loss.backward()`` of the retain_graph lesson, and an indented
    ``torch.autograd.grad`` that fails: the error names the column python's traceback
    marks (the call's start), also where a deprecated argument routes the call through
    a frame made at the snippet's line (``calls.as_if_called_from``)."""
    source = ("a = torch.ones(2, requires_grad=True)\nloss = (a * a).sum()\nloss.backward()\n"
              "loss.backward()\n")
    error = run(source)["error"]
    assert (error["kind"], error["line"], error["column"]) == ("freed_buffers", 4, 1)
    source = ("a = torch.ones(2, requires_grad=True)\nif True:\n"
              "    torch.autograd.grad(a * 2, a)\n")
    error = run(source)["error"]
    assert (error["line"], error["column"]) == (3, 5)
    source = ("a = torch.ones(2, requires_grad=True)\nloss = (a * a).sum()\nloss.backward()\n"
              "if True:\n    torch.autograd.grad(loss, a, only_inputs=False)\n")
    error = run(source)["error"]
    assert (error["line"], error["column"]) == (5, 5)


@pytest.mark.parametrize("before, caught", [
    ("loss.backward()", "RuntimeError"),
    # a hook's sys.exit(0): its traceback too (``calls.ended_by`` finds its call through
    # the frames' callers)
    ("loss.register_hook(lambda g: sys.exit(0))", "SystemExit"),
])
def test_a_traceback_the_snippet_prints_names_its_call_line_once(before, caught):
    """A snippet that catches torch's error and prints its traceback: the snippet's line
    appears once, as in plain python (the frame ``calls.as_if_called_from`` makes at that
    line is taken out of the traceback on its way)."""
    source = (f"import sys, traceback\na = torch.ones(2, requires_grad=True)\n"
              f"loss = (a * a).sum()\n{before}\ntry:\n    loss.backward()\n"
              f"except {caught}:\n    traceback.print_exc()\n")
    result = run(source)
    assert result["ok"], result["error"]
    assert result["output"].count("line 6, in <module>") == 1, result["output"]


def test_a_record_gradstep_cannot_build_leaves_the_call_as_torch_ran_it(monkeypatch, capsys):
    """gradstep's own failure while building a call's record (here its graph) leaves the
    record out; the snippet's ``backward`` returns as in plain python (it raised
    UnboundLocalError: the ``except ... as exc`` that caught the failure unbound the
    pass's own ``exc``)."""
    from gradstep.autograd import calls

    source = ("import torch\nx = torch.ones(2, requires_grad=True)\nloss = (x * x.exp()).sum()\n"
              "loss.backward()\nprint(x.grad)\n")
    exec(compile(source, "<snippet>", "exec"), {"__name__": "__main__"})
    plain = capsys.readouterr().out

    def fails(*args, **kwargs):
        raise ValueError("gradstep's own failure")

    monkeypatch.setattr(calls.CallGraph, "of", fails)
    result = run(source)
    assert result["ok"], result["error"]
    assert result["output"] == plain and "tensor(" in plain, plain


CAUGHT_ERRORS = """
import contextlib, io, threading, traceback
import torch

def frames(call):
    try:
        call()
    except Exception as e:
        print(type(e).__name__, [(f.filename.rsplit("/", 1)[-1], f.name) for f in traceback.extract_tb(e.__traceback__)])

x = torch.ones(2, requires_grad=True)
y = (x * 2).sum()
y.backward()
frames(lambda: y.backward())
frames(lambda: torch.autograd.grad(y, x))
frames(lambda: torch.ones(2).register_hook(print))
thread = threading.Thread(target=lambda: None)
thread.start()
thread.join()
frames(thread.start)
frames(lambda: torch.utils.swap_tensors(torch.ones(2), 3))
frames(lambda: torch.load(io.BytesIO(b"not a checkpoint")))
frames(lambda: torch.export.export(torch.nn.Linear(2, 2), (1,)))
loss = (x * 3).sum()
"""


def test_a_traceback_the_snippet_prints_shows_no_frame_of_gradsteps_wrappers(capsys):
    """torch's errors raised through gradstep's wrappers of torch's functions (backward,
    autograd.grad, register_hook, Thread.start, swap_tensors, torch.load, torch.export),
    caught by the snippet: their tracebacks hold the frames of the same code run plainly
    (fidhunt6: the wrappers' frames showed, ``calls.py`` ``wrapper`` and ``record``,
    ``backward.py`` ``_kept_error``, ``tensor_hooks.py`` ``register_hook``...)."""
    from gradstep.kernel.worker import guard_torch_load

    load = torch.load
    exec(compile(CAUGHT_ERRORS, "<snippet>", "exec"), {"__name__": "__main__"})
    plain = capsys.readouterr().out
    guard_torch_load()  # the kernel's torch.load, a wrapper too
    try:
        result = run(CAUGHT_ERRORS, root="loss")
    finally:
        torch.load = load
    assert result["ok"], result["error"]
    assert plain.count("\n") == 7 and "<snippet>" in plain, plain
    assert result["output"] == plain


CAUGHT_AND_PRINTED = CAUGHT_ERRORS.replace("""        print(type(e).__name__, [(f.filename.rsplit("/", 1)[-1], f.name) for f in traceback.extract_tb(e.__traceback__)])""", """        traceback.print_exc(file=sys.stdout)
        print([tuple(f) for f in traceback.extract_tb(e.__traceback__)])""").replace(
    "import contextlib,", "import sys, contextlib,")


def test_each_wrappers_error_printed_by_the_snippet_is_pythons_to_the_line(tmp_path):
    """``own_frames.frames_out``, the ``with`` each wrapper of torch's function calls it in,
    adds no frame of its own: the traceback of each wrapper's error, caught and printed by
    the snippet (``print_exc``, and ``extract_tb``'s file, line, function and source of
    each frame), is ``python FILE``'s output to the byte."""
    from gradstep.kernel.worker import guard_torch_load

    assert CAUGHT_AND_PRINTED.count("print_exc") == 1
    path = tmp_path / "caught.py"
    path.write_text(CAUGHT_AND_PRINTED, encoding="utf-8")
    plain = plain_python(path, timeout=180)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    assert plain.stdout.count("Traceback (most recent call last)") == 7, plain.stdout
    load = torch.load
    guard_torch_load()  # the kernel's torch.load, a wrapper too
    try:
        result = Session().run(CAUGHT_AND_PRINTED, filename=str(path), root="loss")
    finally:
        torch.load = load
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout


EXIT_CAUGHT_THEN_ENDING = """\
import sys
import traceback
import torch

a = torch.ones(2, requires_grad=True)
loss = (a * a).sum()
loss.register_hook(lambda g: sys.exit(0))
try:
    loss.backward()
except SystemExit:
    traceback.print_exc(file=sys.stdout)
    print([tuple(f) for f in traceback.extract_tb(sys.exc_info()[2])])
print(a.grad)
loss2 = (a * 3).sum()
loss2.register_hook(lambda g: sys.exit(0))
loss2.backward()
print("not reached")
"""


def test_a_hooks_exit_caught_and_printed_is_pythons_and_one_uncaught_still_ends_its_call(tmp_path):
    """A hook's ``sys.exit(0)`` the snippet catches and prints: python's traceback, with no
    frame of gradstep's (it kept ``wrapper``, ``record`` and ``_kept_error``: ``ended_by``
    read them there); a second one, uncaught, ends the snippet as the file's end would, its
    call with no error, the caught one's call still stopped by it."""
    path = tmp_path / "exits.py"
    path.write_text(EXIT_CAUGHT_THEN_ENDING, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    assert "gradstep" not in plain.stdout and plain.stdout.count("exits.py") == 4, plain.stdout
    result = Session().run(EXIT_CAUGHT_THEN_ENDING, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    assert [(call["line"], (call["error"] or {}).get("type")) for call in result["calls"]] == [
        (9, "SystemExit"), (16, None)]


def test_a_pass_a_hook_runs_inside_the_recorded_one_is_not_taken_for_its_steps():
    # the hook's own autograd.grad runs ExpBackward0 again, on this thread, as a pass of its
    # own: it was shown as a second ExpBackward0 step, and its grad_inputs as the first's
    result = run("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        sy = y.sum()
        z = y * 3
        z.register_hook(lambda g: torch.autograd.grad(sy, x, retain_graph=True) and None)
        loss = z.sum()
        loss.backward()
    """, root="loss")
    assert result["ok"], result["error"]
    [call] = result["calls"]
    steps = call["timeline"]["steps"]
    assert [s["name"] for s in steps] == ["SumBackward0", "MulBackward0", "ExpBackward0", "AccumulateGrad"]
    x = torch.tensor([1.0, 2.0])
    assert_value(steps[2]["grad_inputs"][0], 3 * x.exp())


def test_a_pass_a_hook_on_the_root_runs_first_shows_no_steps_rather_than_its_own():
    # the root's tensor hook runs before any node of the pass: its autograd.grad's
    # ExpBackward0 was the first hook call on this thread and was taken for the pass,
    # whose own steps were then all left out; now the pass shows none (show less)
    result = run("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        sy = y.sum()
        loss = (y * 3).sum()
        loss.register_hook(lambda g: torch.autograd.grad(sy, x, retain_graph=True) and None)
        loss.backward()
        print(x.grad)
    """, root="loss")
    assert result["ok"], result["error"]
    [call] = result["calls"]
    assert call["timeline"]["steps"] == []
    x = torch.tensor([1.0, 2.0])
    assert str(3 * x.exp()) in result["output"]


def test_a_pass_run_under_inference_mode_is_recorded_and_runs_as_in_python():
    """Under inference_mode the gradients are inference tensors, which have no version
    counter: the hooks read one to check their aliases, and the snippet's own backward
    raised "Inference tensors do not track version counter" (python runs it). They keep
    a copy of such a gradient instead."""
    result = run("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        with torch.inference_mode():
            y.backward()
        inference = x.grad.is_inference()
    """)
    assert result["ok"], result["error"]
    (call,) = result["calls"]
    steps = call["timeline"]["steps"]
    assert [s["name"] for s in steps] == ["SumBackward0", "MulBackward0", "ExpBackward0",
                                          "AccumulateGrad"]
    want = (torch.tensor([1.0, 2.0]).exp() * torch.tensor([2.0, 3.0])).tolist()
    assert steps[-1]["grad_outputs"][0] == pytest.approx(want)
    assert call["timeline"]["leaf_grads"]["x"] == pytest.approx(want)


LEAF_CALLS = """\
import torch
from torch._C._autograd import _get_sequence_nr
start = _get_sequence_nr()
x = torch.tensor([1.0, 2.0], requires_grad=True)
s = torch.tensor([3.0], requires_grad=True)
s.grad = torch.ones(1)
x.register_post_accumulate_grad_hook(lambda p: print("post", p.grad.tolist()))
x.backward(torch.tensor([0.5, 4.0]))
torch.autograd.backward([s, x], [torch.tensor([2.0]), torch.ones(2)])
print("nodes made", _get_sequence_nr() - start, (x * 2).grad_fn._sequence_nr() - start,
      x.grad.tolist(), s.grad.tolist())
"""


def _leaf_calls_in_torch() -> tuple:
    """LEAF_CALLS run by python (what it prints), and again with torch's own hooks on the
    leaves' AccumulateGrad nodes: per call, (leaf, what it received, .grad before, after)."""
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(LEAF_CALLS, {"__name__": "__main__"})
    seen: list = []
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    s = torch.tensor([3.0], requires_grad=True)
    s.grad = torch.ones(1)
    nodes = []  # held: the engine finds these very nodes
    for name, t in (("x", x), ("s", s)):
        node = torch.autograd.graph.get_gradient_edge(t).node
        nodes.append(node)
        node.register_prehook(lambda g, name=name, t=t: seen.append(
            [name, [g[0].clone()], None if t.grad is None else t.grad.clone()]))
        node.register_hook(lambda gi, go, t=t: seen[-1].append(t.grad.clone()))
    x.backward(torch.tensor([0.5, 4.0]))
    calls = [seen[:]]
    torch.autograd.backward([s, x], [torch.tensor([2.0]), torch.ones(2)])
    return printed.getvalue(), [calls[0], seen[len(calls[0]):]]


def test_a_backward_call_on_a_leaf_itself_shows_its_accumulate_grad_step():
    """``x.backward(g)`` on a leaf runs one node, x's AccumulateGrad, which no grad_fn leads
    to: the call showed no steps (core7). Its step is torch's (what it received, the .grad
    before and after, in torch's order for several leaves), and getting the node first
    changes nothing the snippet sees: the same output, the same sequence numbers."""
    plain_output, torch_calls = _leaf_calls_in_torch()
    result = run(LEAF_CALLS)
    assert result["output"] == plain_output
    assert [c["api"] for c in result["calls"]] == ["Tensor.backward", "torch.autograd.backward"]
    for call, steps in zip(result["calls"], torch_calls):
        got = call["timeline"]["steps"]
        assert [s["leaf"] for s in got] == [name for name, *_ in steps]
        assert all(s["name"] == "AccumulateGrad" and not s["error"] for s in got)
        for step, (_, received, before, after) in zip(got, steps):
            assert_value(step["grad_outputs"][0], received[0])
            assert step["grad_before"] is None if before is None else assert_value(
                step["grad_before"], before) is None
            assert_value(step["grad_after"], after)
        assert {n["label"] for n in call["nodes"]} == {name for name, *_ in steps}


CREATE_GRAPH_ON_A_TRANSPOSED_LEAF = """\\
import torch
from torch.overrides import TorchFunctionMode
from torch._C._autograd import _get_sequence_nr
class Count(TorchFunctionMode):
    calls = 0
    def __torch_function__(self, func, types, args=(), kwargs=None):
        Count.calls += 1
        return func(*args, **(kwargs or {}))
start = _get_sequence_nr()
w = torch.arange(120.0).reshape(10, 12).t().requires_grad_()  # its .grad: the same layout
x = torch.linspace(-1.0, 1.0, 120).reshape(12, 10)
(w * x).tanh().sum().backward(create_graph=True)
print(_get_sequence_nr() - start, w.grad.is_contiguous(), w.grad.requires_grad)
with Count():
    (w * x).sin().sum().backward(create_graph=True)
print(Count.calls, _get_sequence_nr() - start, (w.grad * 2).grad_fn._sequence_nr() - start)
"""


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_a_create_graph_call_makes_no_graph_node_of_its_own():
    """After ``backward(create_graph=True)`` a leaf's ``.grad`` requires grad, in the leaf's
    own layout (transposed here); its summary's row was ``g.permute(...)`` made with grad
    on: a graph node, which took one of the snippet's sequence numbers, so every later
    node's ``_sequence_nr()`` was one more than python's (review of trace7). Under the
    snippet's TorchFunctionMode the summary runs below it: the mode counts python's calls."""
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(CREATE_GRAPH_ON_A_TRANSPOSED_LEAF, "<snippet>", "exec"),
             {"__name__": "__main__"})
    assert printed.getvalue().splitlines()[0].endswith(" False True")  # the case it is about
    result = run(CREATE_GRAPH_ON_A_TRANSPOSED_LEAF)
    assert result["output"] == printed.getvalue()
    assert [c["api"] for c in result["calls"]] == ["Tensor.backward", "Tensor.backward"]


LEAF_CALL_UNDER_ANOMALY = """\
import warnings
import torch
torch.autograd.set_detect_anomaly(True)
x = torch.tensor([1.0, 2.0], requires_grad=True)
x.register_hook(lambda g: 1 / 0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        x.backward(torch.ones(2))
    except ZeroDivisionError:
        pass
torch.autograd.set_detect_anomaly(False)
text = "".join(str(w.message) for w in caught)
print("Error detected in" in text, '"<snippet>", line 9' in text, "leaf_root" in text)
"""


def test_a_backward_call_on_a_leaf_under_anomaly_mode_names_the_snippets_line():
    """Under anomaly mode a node keeps the stack of the thread that made it, and torch prints
    it when the node fails: the leaf's AccumulateGrad made on gradstep's own thread named
    gradstep's leaf_root.py only, not the snippet's line 9 (review of core7). The node is left
    for the engine to make there, as python makes it."""
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(LEAF_CALL_UNDER_ANOMALY, "<snippet>", "exec"), {"__name__": "__main__"})
    assert printed.getvalue() == "True True False\n"
    assert run(LEAF_CALL_UNDER_ANOMALY)["output"] == printed.getvalue()


def test_a_grad_call_on_a_leaf_itself_runs_no_step_and_is_explained_so():
    """``torch.autograd.grad(x, x, g)`` on a leaf runs no node (AccumulateGrad does not run
    in a grad call) and hands g back, x.grad left None: the call shows no step and returns
    torch's g, and the "nothing to draw" explanation says so (it said every leaf call "adds
    g into x.grad": review of core7)."""
    import contextlib
    import io

    source = ("import torch\nx = torch.ones(2, requires_grad=True)\n"
              "(g,) = torch.autograd.grad(x, x, torch.tensor([2.0, 3.0]))\nprint(g.tolist(), x.grad)\n")
    printed = io.StringIO()
    namespace: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(printed):
        exec(source, namespace)
    result = run(source)
    assert result["output"] == printed.getvalue() and namespace["x"].grad is None
    (call,) = result["calls"]
    assert call["timeline"]["steps"] == [] and call["timeline"]["leaf_grads"] == {"x": None}
    assert_value(call["returned"][0], namespace["g"])
    assert result["error"]["kind"] == "nothing_to_draw"
    assert "torch.autograd.grad(x, x, g) runs none" in result["error"]["explanation"]


HELPER_STEP = """
@torch.enable_grad()
def step(loss):
    loss.backward()
"""

SNIPPET_WITH_HELPER = """
import torch
import fidhelper
x = torch.tensor([1.0, 2.0], requires_grad=True)
loss = (x.exp() * 2).sum()
fidhelper.step(loss)
print(x.grad)
y = torch.autograd.functional.jacobian(lambda t: t ** 2, x)
loss
"""


def test_a_backward_call_in_the_snippets_own_helper_module_is_recorded(tmp_path, monkeypatch):
    """``loss.backward()`` inside a function of a file of the user's beside the snippet ran
    unrecorded: it freed the graph, and ``gradstep backward`` / ``check`` then ran a pass of
    their own that failed ("Trying to backward through the graph a second time", exit status
    1) where python ran without error. It is the snippet's call at the line that called the
    helper (also through torch's decorator frames); ``jacobian``'s own calls inside torch
    stay unrecorded."""
    (tmp_path / "fidhelper.py").write_text("import torch\n" + HELPER_STEP, encoding="utf-8")
    path = tmp_path / "snippet.py"
    path.write_text(SNIPPET_WITH_HELPER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fidhelper", raising=False)
    result = Session().run(SNIPPET_WITH_HELPER, filename=str(path))
    assert result["ok"], result["error"]
    (call,) = result["calls"]
    assert (call["line"], call["code"], call["api"]) == (6, "fidhelper.step(loss)", "Tensor.backward")
    assert call["drawn"] and call["timeline"]["freed"] is True
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2).sum()
    assert_same(call["timeline"], torch_pass(loss))
    assert call["timeline"]["leaf_grads"] == {"x": pytest.approx(x.grad.tolist())}


THREAD_FREES_THE_GRAPH = """
import threading
def work():
    w = torch.ones(3, requires_grad=True)
    (w * w).sum().backward()
t = threading.Thread(target=work); t.start(); t.join()
x = torch.ones(2, requires_grad=True)
loss = (x * x).sum()
t = threading.Thread(target=loss.backward); t.start(); t.join()
loss
"""


def test_a_graph_freed_by_a_call_gradstep_did_not_record_is_no_error_of_the_snippets():
    """``Thread(target=loss.backward)`` runs unrecorded (its caller is threading's ``run``)
    and frees the drawn graph; gradstep's own pass after the snippet then fails on the freed
    buffers. Its explanation named the line of a call on another graph ("The snippet itself
    already ran backward without retain_graph (line 5)"), and the command exited 1 where
    python ran without error. Now it says an unrecorded call freed them, exit status 0."""
    session = Session()
    result = session.run(textwrap.dedent(THREAD_FREES_THE_GRAPH), filename="<snippet>")
    assert result["ok"], result["error"]
    (work,) = result["calls"]
    assert work["line"] == 5 and work["timeline"]["freed"] and not work["drawn"]
    error = session.backward()["error"]
    assert error["kind"] == "freed_buffers" and error["exit_status"] == 0
    words = str(error["explanation"])
    assert "did not record" in words and "line 5" not in words


def test_a_graph_gradsteps_own_earlier_pass_freed_is_not_blamed_on_the_snippet():
    """A second pass of gradstep's own without retain_graph (the window's Backward button
    after the pass it made on a run) fails on the buffers its first pass freed: that is
    gradstep's error, not a call of the snippet's gradstep did not record (review of the
    fidelity hunt: it said so, with exit_status 0). torch: a second backward raises."""
    session = Session()
    result = session.run("import torch\nx = torch.ones(2, requires_grad=True)\n"
                         "loss = (x * x).sum()\nloss\n", filename="<snippet>")
    assert result["ok"] and not result["calls"], result["error"]
    assert session.backward()["error"] is None
    error = session.backward()["error"]
    x = torch.ones(2, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    assert error["kind"] == "freed_buffers" and "exit_status" not in error
    assert "did not record" not in str(error["explanation"])


GRADIENT_EDGE = """\
import torch
from torch.autograd.graph import get_gradient_edge

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
h = x.exp()
y = h.sin()
(gx,) = torch.autograd.grad(get_gradient_edge(y), x, grad_outputs=torch.ones(3), retain_graph=True)
y
"""


def test_a_grad_call_from_a_gradient_edge_shows_the_steps_torch_ran():
    """``grad(get_gradient_edge(y), x)`` starts the pass at y's node: the call showed no
    nodes and no steps (an edge is no tensor, and ``_as_list`` read the one edge as the
    tuple ``(node, 0)``), where torch ran SinBackward0 and ExpBackward0."""
    result = Session().run(GRADIENT_EDGE, root="y")
    assert result["ok"], result["error"]
    (call,) = result["calls"]
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x.exp().sin()
    oracle = torch_pass(y, gradient=torch.ones(3), retain_graph=True, inputs=[x])
    assert [step["name"] for step in call["timeline"]["steps"]] == ["SinBackward0", "ExpBackward0"]
    assert_same(call["timeline"], oracle)
    assert_value(call["timeline"]["returned"][0], oracle["result"][0])
    assert call["timeline"]["returned_inputs"] == ["x"]


EDGE_HEAD = """\
import torch
from torch.autograd.graph import get_gradient_edge

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
h = x.exp()
y = h.sin()
z = h.cos()
"""
EDGE_CALLS = {
    "a tuple of edges": "torch.autograd.grad((get_gradient_edge(y), get_gradient_edge(z)), x, "
                        "grad_outputs=(torch.ones(3), torch.ones(3)), retain_graph=True)",
    "a list of a tensor and an edge": "torch.autograd.backward([get_gradient_edge(y), z], "
                                      "grad_tensors=[torch.ones(3), torch.ones(3)], retain_graph=True)",
}


@pytest.mark.parametrize("call", list(EDGE_CALLS), ids=list(EDGE_CALLS))
def test_a_call_from_several_edges_shows_the_steps_torch_ran(call):
    """Outputs read as torch reads them (``torch/autograd/__init__.py``: a sequence of
    tensors and edges): the steps are the nodes torch's own pre-hooks saw, in their order."""
    source = EDGE_HEAD + EDGE_CALLS[call] + "\ny\n"
    result = Session().run(source, root="y")
    assert result["ok"], result["error"]
    (record,) = result["calls"]
    namespace: dict = {}
    exec(EDGE_HEAD, namespace)
    accumulate = namespace["h"].grad_fn.next_functions[0][0]
    ran = []
    for fn in (namespace["y"].grad_fn, namespace["z"].grad_fn, namespace["h"].grad_fn, accumulate):
        # gradstep names a node without torch's C++ namespace (torch::autograd::AccumulateGrad)
        fn.register_prehook(lambda grads, fn=fn: ran.append(fn.name().rsplit("::", 1)[-1]))
    exec(EDGE_CALLS[call], namespace)
    assert ran and [step["name"] for step in record["timeline"]["steps"]] == ran


def test_a_call_root_held_through_its_loss_is_that_loss_node_while_it_is_one():
    """``l1`` of ``l1.backward()``: the call's root is ``l1``'s node as the snippet ends,
    none once ``l1`` is detached in place, changed in place or gone, and it keeps nothing
    alive (``h``, saved by l1's graph only, is freed as in python)."""
    import gc
    import weakref

    from gradstep.autograd.calls import CallGraph

    x = torch.ones(2, requires_grad=True)
    for how in ("kept", "detach_", "mul_", "del"):
        h = x.sigmoid()
        l1 = (h * h).sum()
        graph = CallGraph.of([l1], {}, {"l1": l1})
        freed = []
        weakref.finalize(h, freed.append, how)
        del h
        if how == "detach_":
            l1.detach_()
        elif how == "mul_":
            l1.mul_(2)
        elif how == "del":
            del l1
        gc.collect()
        assert graph.roots == ([l1.grad_fn] if how == "kept" else []), how
        assert freed == ([how] if how in ("detach_", "del") else []), how  # (mul_: l1 holds it)
