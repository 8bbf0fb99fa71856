"""`gradstep backward LESSON` on a lesson that calls backward itself prints the lesson's own
passes (what torch did), not a pass of gradstep's that torch never ran and that fails.

The command runs as typed (``gradstep.cli.main``) with its session in this process (the
kernel process is tested in tests/test_cli_backward.py).
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from gradstep.cli import main
from gradstep.examples import EXAMPLES_DIR
from tests.plain_runs import plain_python
from tests.step_oracle import reachable

pytestmark = pytest.mark.usefixtures("in_process")  # (tests/conftest.py)


def backward(capsys, *argv) -> tuple[int, dict, str]:
    status = main(["backward", *argv])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def backward_noting_order(loss, order: list) -> None:
    """Run ``loss.backward()``, appending each node's class name to ``order`` as torch's
    engine runs it (a node pre-hook on every node it can reach, removed after)."""
    handles = [node.register_prehook(lambda g, node=node: order.append(type(node).__name__))
               for node in reachable([loss.grad_fn])]
    loss.backward()
    for handle in handles:
        handle.remove()


def test_retain_graph_fixed_prints_its_two_passes(capsys):
    status, data, err = backward(capsys, str(EXAMPLES_DIR / "retain_graph_fixed.py"))
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    p[1].backward(retain_graph=True)
    first = a.grad.clone()
    p[1].backward()
    assert status == 0, err
    assert data["from_snippet"] is True and data["error"] is None
    assert [s["name"] for s in data["steps"]] == ["SelectBackward0", "SoftmaxBackward0",
                                                 "AccumulateGrad"] * 2
    assert [p["steps"] for p in data["passes"]] == [3, 3]
    assert torch.allclose(torch.tensor(data["passes"][0]["leaf_grads"]["a"]), first)
    assert torch.allclose(torch.tensor(data["leaf_grads"]["a"]), a.grad)
    assert "non_scalar" not in json.dumps(data) and "implicitly" not in err


def test_mse_backward_prints_its_pass(capsys):
    status, data, err = backward(capsys, str(EXAMPLES_DIR / "mse_backward.py"))
    assert status == 0, err
    assert data["from_snippet"] is True and data["error"] is None
    assert [s["name"] for s in data["steps"]] == ["MseLossBackward0", "MulBackward0",
                                                 "AccumulateGrad"]
    assert data["leaf_grads"] == {"w": [2.0]} and len(data["calls"]) == 1


def test_a_pass_option_still_runs_gradsteps_own_pass(capsys):
    status, data, err = backward(capsys, str(EXAMPLES_DIR / "mse_backward.py"), "--passes", "1")
    assert status == 1 and "from_snippet" not in data
    assert data["error"]["kind"] == "freed_buffers"  # the lesson's own backward freed them


def test_check_says_why_a_leaf_has_no_grad(capsys):
    """mse_autograd_grad's pass is torch.autograd.grad: w.grad stays None, and the table's
    row read "w ? ? ?" with nothing to say why."""
    status = main(["check", str(EXAMPLES_DIR / "mse_autograd_grad.py")])
    out = capsys.readouterr().out
    assert status == 0
    assert "?: no .grad after the pass (torch.autograd.grad returns the gradients" in out
    main(["check", str(EXAMPLES_DIR / "mse_backward.py")])
    assert "no .grad after the pass" not in capsys.readouterr().out  # w.grad is there


HOOK_RAISES = """\
import torch
x = torch.ones(3, requires_grad=True)
y = (x * 2).exp()
y.register_hook(lambda g: 1 / 0)
try:
    y.sum().backward()
except ZeroDivisionError:
    pass
"""


def test_check_says_a_backward_that_raised_stopped_before_the_leaf(capsys, tmp_path):
    """The snippet's .backward() raised in a hook before x's AccumulateGrad ran (python:
    x.grad stays None): the footnote named torch.autograd.grad, which the snippet never
    called."""
    env: dict = {}
    exec(compile(HOOK_RAISES, "hook.py", "exec"), env)
    assert env["x"].grad is None  # torch's own run: the pass stopped before x
    path = tmp_path / "hook.py"
    path.write_text(HOOK_RAISES)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "?: no .grad after the pass (it raised before it reached this leaf" in out
    assert "autograd.grad" not in out


def test_retain_graph_error_prints_its_two_passes_and_exits_1(capsys):
    """The lesson's second backward fails as torch's does; the command printed only the
    error, no JSON, while the window steps both passes and where the second stopped."""
    status, data, err = backward(capsys, str(EXAMPLES_DIR / "retain_graph_error.py"))
    assert status == 1 and "retain_graph=True" in err
    assert data["from_snippet"] is True and len(data["passes"]) == 2
    assert data["passes"][0]["error"] is None and data["error"]["kind"] == "freed_buffers"


def test_a_snippet_pass_whose_error_the_snippet_caught_is_explained_and_exits_0(capsys, tmp_path):
    """The snippet catches p.backward()'s non-scalar error and calls p[1].backward(): torch
    failed in the first pass (the JSON shows it, stderr explains it), but the snippet did not
    fail (``python caught.py`` exits 0), and the command exited 1, "the snippet failed"
    (DESIGN.md's exit status). It says the snippet caught it, and exits 0."""
    snippet = tmp_path / "caught.py"
    snippet.write_text(
        "import torch\nimport torch.nn.functional as F\n"
        "a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)\n"
        "p = F.softmax(a, dim=0)\ntry:\n    p.backward()\nexcept RuntimeError:\n    pass\n"
        "p[1].backward()\n", encoding="utf-8")
    status, data, err = backward(capsys, str(snippet))
    assert data["from_snippet"] and [bool(p["error"]) for p in data["passes"]] == [True, False]
    assert status == 0 and "scalar" in err
    assert err.rstrip().endswith("The snippet caught this error and went on, as it does under "
                                 "python: exit status 0.")


def test_a_backward_call_on_a_leaf_itself_prints_its_step_and_exits_0(capsys, tmp_path):
    """``x.backward(g)`` on a leaf: torch runs x's AccumulateGrad, python exits 0. gradstep
    said "Nothing to draw: the snippet made no tensor with a grad_fn" ("Did you set
    requires_grad=True?") and exited 1 (core7); it prints that one step, as torch ran it."""
    path = tmp_path / "leaf.py"
    path.write_text("import torch\nx = torch.ones(2, requires_grad=True)\n"
                    "x.backward(torch.tensor([2.0, 3.0]))\nprint(x.grad)\n")
    status, data, err = backward(capsys, str(path))
    x = torch.ones(2, requires_grad=True)
    x.backward(torch.tensor([2.0, 3.0]))
    assert status == 0 and err == f"{x.grad}\n"
    assert data["from_snippet"] is True and data["error"] is None
    (step,) = data["steps"]
    assert step["name"] == "AccumulateGrad" and step["leaf"] == "x" and step["grad_before"] is None
    assert step["grad_outputs"] == [[2.0, 3.0]] and step["grad_after"] == x.grad.tolist()
    assert data["leaf_grads"] == {"x": x.grad.tolist()}


def test_a_graph_freed_by_an_unrecorded_call_exits_0_and_a_pass_option_1(capsys, tmp_path):
    """``Thread(target=loss.backward)`` frees the drawn graph unrecorded (its caller is
    threading's ``run``); python ends well. gradstep's own pass then fails on the freed
    buffers: explained, exit 0; with ``--retain-graph`` the pass asked for could not run:
    exit 1 (fidelity hunt; this exit 1 had no test). torch: the pass after it raises."""
    snippet = tmp_path / "thread.py"
    snippet.write_text(
        "import threading\nimport torch\nx = torch.ones(2, requires_grad=True)\n"
        "loss = (x * x).sum()\nt = threading.Thread(target=loss.backward)\nt.start()\n"
        "t.join()\nloss\n", encoding="utf-8")
    x = torch.ones(2, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    status, data, err = backward(capsys, str(snippet))
    assert status == 0 and data["error"]["kind"] == "freed_buffers" and not data["calls"]
    assert "did not record" in err
    status, data, err = backward(capsys, str(snippet), "--retain-graph")
    assert status == 1 and data["error"]["kind"] == "freed_buffers"


CAUGHT_THEN_INF = """import torch
x = torch.tensor([0.0, 4.0], requires_grad=True)
y = x.sqrt()
b = y.exp()
b.add_(0)
try:
    b.sum().backward(retain_graph=True)
except RuntimeError:
    pass
loss = y.sum()
loss.backward()
loss
"""


def test_check_steps_through_the_pass_the_snippet_made_after_one_it_caught(capsys, tmp_path):
    """The snippet's first call on the drawn graph raises (``b`` was changed in place) and is
    caught; its ``loss.backward()`` then sends an inf through sqrt at 0. check took the
    caught pass, which stopped before sqrt, as its pass: "no recorded step shows where they
    started" (review of fidhunt). It takes the pass torch finished. torch: x.grad[0] is inf."""
    snippet = tmp_path / "caught_inf.py"
    snippet.write_text(CAUGHT_THEN_INF, encoding="utf-8")
    namespace: dict = {}
    exec(compile(CAUGHT_THEN_INF, str(snippet), "exec"), namespace)
    assert torch.isinf(namespace["x"].grad[0])
    status = main(["check", str(snippet), "--json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert status == 1
    assert [(f["kind"], f["op"], f["line"]) for f in findings] == [("inf_grad", "sqrt", 3)]


MAIN_LOOP = """import torch

def main():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(2):
        loss = model(torch.arange(6.0).view(2, 3)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(step, loss.item())

if __name__ == "__main__":
    main()
"""


def test_a_training_loop_inside_main_prints_its_passes_and_exits_0(capsys, tmp_path):
    """The loss lives only in ``main()``'s locals: the snippet leaves no graph to draw, and
    python exits 0. gradstep backward said "Nothing to draw", printed no JSON and exited 1
    (fidhunt8); it prints the snippet's recorded passes, as for calls on leaves (core7).
    torch: the same loop run here, each pass's ``.grad``."""
    path = tmp_path / "main_loop.py"
    path.write_text(MAIN_LOOP, encoding="utf-8")
    status, data, err = backward(capsys, str(path))
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    printed, grads, order = [], [], []
    for step in range(2):
        loss = model(torch.arange(6.0).view(2, 3)).pow(2).mean()
        opt.zero_grad()
        backward_noting_order(loss, order)
        grads.append(sorted((p.grad.tolist() for p in model.parameters()), key=str))
        opt.step()
        printed.append(f"{step} {loss.item()}\n")
    assert status == 0 and err == "".join(printed)
    assert data["from_snippet"] is True and data["error"] is None
    assert [s["name"] for s in data["steps"]] == order
    assert [sorted(p["leaf_grads"].values(), key=str) for p in data["passes"]] == grads
    assert [c["line"] for c in data["calls"]] == [10, 10]


LOOP_THEN_PREDICT = """import torch
torch.manual_seed(0)
model = torch.nn.Linear(3, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 3), torch.randn(8, 2)
for epoch in range(2):
    loss = ((model(x) - y) ** 2).mean()
    opt.zero_grad(); loss.backward(); opt.step()
    print(epoch, loss.item())
pred = model(torch.randn(2, 3))
print(pred.shape)
"""


def test_a_training_loop_then_a_prediction_draws_the_loops_loss_and_exits_0(capsys, tmp_path):
    """After a training loop at top level, ``pred = model(x_test)`` (grad mode on) was the
    drawn root: a non-scalar tensor the snippet never called backward on. gradstep ran its
    own pass from it, torch refused it ("grad can be implicitly created only for scalar
    outputs", put on the snippet's file) and the command exited 1 where python exits 0
    (fidhunt10). The loop's last ``loss``, which its last call ran on, is drawn now
    (``runner._pick_root``, rootcall) and that call's pass printed; ``--root pred
    --gradient ones`` still asks for gradstep's own pass from ``pred``. The oracles: the file
    under plain python; the same loop run here, the last pass's node order and ``.grad``."""
    path = tmp_path / "loop_then_predict.py"
    path.write_text(LOOP_THEN_PREDICT, encoding="utf-8")
    plain = plain_python(path, merged=True)
    status, data, err = backward(capsys, str(path))
    assert status == plain.returncode == 0 and err == plain.stdout
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 3), torch.randn(8, 2)
    for _ in range(2):
        loss, order = ((model(x) - y) ** 2).mean(), []
        opt.zero_grad()
        backward_noting_order(loss, order)
        grads = {"weight": model.weight.grad.tolist(), "bias": model.bias.grad.tolist()}
        opt.step()
    assert data["from_snippet"] is True and data["error"] is None
    assert [s["name"] for s in data["steps"]] == order
    assert [p["leaf_grads"] for p in data["passes"]] == [grads]
    assert [(c["line"], c["drawn"]) for c in data["calls"]] == [(8, False), (8, True)]
    status = main(["backward", str(path), "--root", "pred", "--gradient", "ones"])
    data = json.loads(capsys.readouterr().out)  # asked for: gradstep's own
    pred = model(torch.randn(2, 3))  # the snippet's last line, here
    assert status == 0 and "from_snippet" not in data
    assert data["steps"][0]["name"] == type(pred.grad_fn).__name__


LATE_THREAD = """import os, threading, time
import torch

w = torch.tensor([1.0, 2.0], requires_grad=True)

def later():
    time.sleep(0.3)
    loss = (w * w).sum()
    loss.backward()
    print("thread grad", w.grad)
    with open(os.path.join(os.path.dirname(__file__), "grad.txt"), "w") as f:
        f.write(repr(w.grad.tolist()))

threading.Thread(target=later).start()
print("main done")
"""


def test_a_thread_still_running_when_the_main_code_ends_is_waited_for(capsys, tmp_path):
    """python waits for the snippet's non-daemon threads when its main code is done: the
    thread's backward runs, prints and writes its file. gradstep went on at once: "Nothing
    to draw", the thread's output and file cut off with the kernel, exit 1 (fidhunt8). The
    oracle: the same file under plain python."""
    path = tmp_path / "late_thread.py"
    path.write_text(LATE_THREAD, encoding="utf-8")
    plain = plain_python(path, merged=True)
    written = (tmp_path / "grad.txt").read_text()
    (tmp_path / "grad.txt").unlink()
    status, data, err = backward(capsys, str(path))
    assert status == plain.returncode == 0 and err == plain.stdout
    assert (tmp_path / "grad.txt").read_text() == written
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert data["from_snippet"] is True and data["error"] is None
    assert list(data["leaf_grads"].values()) == [w.grad.tolist()]


def test_a_thread_still_running_when_the_main_code_fails_is_waited_for(capsys, tmp_path):
    """python waits for the snippet's threads after an uncaught error too (it prints the
    traceback first): the thread's output and file are there, exit 1. gradstep waits, then
    explains the error (docs/fidelity.md). The oracle: the same file under plain python."""
    path = tmp_path / "late_thread_error.py"
    path.write_text(LATE_THREAD + "raise ValueError('main failed')\n", encoding="utf-8")
    plain = plain_python(path, check=False)
    written = (tmp_path / "grad.txt").read_text()
    (tmp_path / "grad.txt").unlink()
    status = main(["backward", str(path)])
    err = capsys.readouterr().err
    assert status == plain.returncode == 1 and "thread grad" in plain.stdout
    assert err.startswith(plain.stdout) and "ValueError: main failed" in plain.stderr
    assert "main failed" in err[len(plain.stdout):]
    assert (tmp_path / "grad.txt").read_text() == written
