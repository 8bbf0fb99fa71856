"""Which tensor is drawn when the snippet calls backward itself, and no pass of gradstep's own.

A top-level tensor with a ``grad_fn`` (``h = x.exp()``) won over the tensor the snippet
called backward on (``out.loss``, a loss in a dict, one a name holds while a later
variable is bound, one local to a function): gradstep drew ``h``, and ``gradstep backward``
then ran a pass of its own from the non-scalar ``h`` and failed (exit 1) where ``python
FILE`` exits 0. Now the drawn root is a tensor one of the snippet's calls ran on, and the
command prints the snippet's own passes: its stderr and exit status are python's (the
oracle: ``python FILE``), its graph torch's walk from that tensor, its ``.grad`` torch's.
"""

from __future__ import annotations

import json

import pytest
import torch

from gradstep.cli import main
from tests.plain_runs import plain_python
from tests.step_oracle import oracle_run, reachable

pytestmark = pytest.mark.usefixtures("in_process")  # (tests/conftest.py)

TOP = "import torch\nx = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)\nh = x.exp()\n"
OUT = "class Out:\n    def __init__(self, loss):\n        self.loss = loss\n"

# name -> (source, the root drawn with no --root: a name or path of the oracle's namespace)
CASES = {
    "dict_from_function": (TOP + "def f():\n    return {'loss': (x * 2).sin().sum()}\n"
                           "out = f()\nout['loss'].backward()\nprint(x.grad)\n", "out['loss']"),
    "output_object": (TOP + OUT + "out = Out((x * 3).sum())\nout.loss.backward()\n"
                      "print(x.grad)\n", "out.loss"),
    "name_then_later_tensor": (TOP.replace("h = x.exp()\n", "") + "loss = (x * x).sum()\n"
                               "loss.backward()\npred = x.exp()\nprint(x.grad)\n", "loss"),
    "underscore_name": (TOP + OUT + "_out = Out((x * 4).sum())\n_out.loss.backward()\n"
                        "print(x.grad)\n", "_out.loss"),
    "users_module": (TOP + "import helper\nhelper.run(x)\nprint(x.grad)\n",
                     "helper.out['loss']"),
    # the call's tensor is gone when the snippet ends: h is drawn, the snippet's pass printed
    "local_loss": (TOP + "def step():\n    loss = (x * 5).sum()\n    loss.backward()\n"
                   "step()\nprint(x.grad)\n", "h"),
    # the call ran on h's graph (its root joins it): h as before
    "sum_of_drawn": (TOP + "h.sum().backward()\nprint(x.grad)\n", "h"),
}
HELPER = "out = None\ndef run(x):\n    global out\n    out = {'loss': (x * 6).sum()}\n" \
         "    out['loss'].backward()\n"


def _write(tmp_path, name: str):
    (tmp_path / "helper.py").write_text(HELPER, encoding="utf-8")
    path = tmp_path / f"{name}.py"
    path.write_text(CASES[name][0], encoding="utf-8")
    return path


def _command(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _oracle(tmp_path, name: str):
    """Return the plain run's namespace (the helper module imported from ``tmp_path``)."""
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        return oracle_run(CASES[name][0]).namespace
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("helper", None)


@pytest.mark.parametrize("name", list(CASES))
def test_backward_prints_the_snippets_passes_as_python_ran_them(capsys, tmp_path, name):
    path = _write(tmp_path, name)
    plain = plain_python(path, merged=True)
    status, out, err = _command(capsys, "backward", str(path), "--json")
    assert status == plain.returncode == 0 and err == plain.stdout
    data = json.loads(out)
    assert data["from_snippet"] is True and data["error"] is None
    ns = _oracle(tmp_path, name)
    assert torch.allclose(torch.tensor(data["leaf_grads"]["x"]), ns["x"].grad)


@pytest.mark.parametrize("name", list(CASES))
def test_trace_draws_a_tensor_the_snippets_call_ran_on(capsys, tmp_path, name):
    path = _write(tmp_path, name)
    status, out, err = _command(capsys, "trace", str(path), "--json")
    assert status == 0, err
    trace = json.loads(out)
    root = next(n for n in trace["nodes"] if n["id"] == trace["root"])
    expected = CASES[name][1]
    assert root["label"] == expected
    ns = _oracle(tmp_path, name)
    drawn = eval(expected, ns)  # noqa: S307 (the test's own path into the oracle's namespace)
    roots = [drawn.grad_fn]
    if name == "sum_of_drawn":  # the call's root joins the drawn graph (call_graphs)
        assert len(trace["nodes"]) == len(reachable(roots)) + 1
        return
    assert sorted(n["name"] for n in trace["nodes"]) == sorted(
        type(fn).__name__ for fn in reachable(roots))


def test_check_and_export_start_no_pass_where_the_calls_tensors_are_gone(capsys, tmp_path):
    path = _write(tmp_path, "local_loss")
    status, out, err = _command(capsys, "check", str(path))
    assert status == 0 and "Gradients not checked: the snippet's backward call at line 6" in out
    status, out, err = _command(capsys, "export", str(path), "-o", str(tmp_path / "g.svg"),
                                "--step", "1")
    assert status == 2 and "runs no backward pass of its own" in err
    assert not (tmp_path / "g.svg").exists()
    status, out, err = _command(capsys, "export", str(path), "-o", str(tmp_path / "g.svg"),
                                "--step", "0", "--root", "h")  # a root chosen: its own pass
    assert "ran itself from the root" in err  # (from the non-scalar h: torch's error, exit 1)


def test_export_steps_through_the_snippets_own_pass_on_the_drawn_call(capsys, tmp_path):
    path = _write(tmp_path, "output_object")
    status, out, err = _command(capsys, "export", str(path), "-o", str(tmp_path / "g.json"),
                                "--step", "2")
    assert status == 0 and "ran itself" not in err, err


def test_a_non_scalar_root_of_gradsteps_own_pass_names_its_line_and_the_options(capsys, tmp_path):
    """No call in the snippet: gradstep's own pass from a non-scalar root fails as before, now
    naming the line that made the root and what to pass (python runs no pass there)."""
    path = tmp_path / "no_call.py"
    path.write_text(TOP + "print('ok')\n", encoding="utf-8")
    status, out, err = _command(capsys, "backward", str(path), "--json")
    assert status == 1 and err.startswith("ok\n")
    error = json.loads(out)["error"]
    assert error["kind"] == "non_scalar" and error["line"] == 3 and error["code"] == "h = x.exp()"
    assert "gradstep's own backward pass starts from the drawn root `h`, which has 3 " in err
    assert "--gradient ones" in error["fix"] and "--root NAME" in error["fix"]
    status, out, _err = _command(capsys, "backward", str(path), "--json", "--gradient", "ones")
    assert status == 0
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    x.exp().backward(torch.ones(3))
    assert torch.allclose(torch.tensor(json.loads(out)["leaf_grads"]["x"]), x.grad)


@pytest.mark.parametrize("last, what", [("z = (x * 1j).sum()", "a complex tensor is none"),
                                        ("x.exp(), x * 2", "more than one element is none")])
def test_a_complex_root_or_two_roots_of_gradsteps_own_pass_are_told_alike(capsys, tmp_path,
                                                                         last, what):
    """A complex root said "The snippet raised this error at the marked line" with none
    marked; two roots a made-up `out`. Both name the root's line and gradstep's options."""
    path = tmp_path / "roots.py"
    path.write_text(TOP.replace("h = x.exp()\n", last + "\n"), encoding="utf-8")
    status, out, err = _command(capsys, "backward", str(path), "--json")
    error = json.loads(out)["error"]
    assert status == 1 and error["line"] == 3 and error["code"] == last
    assert what in error["explanation"] and "python never ran this pass" in error["explanation"]
    assert "--gradient ones" in error["fix"] and "`out" not in err
    status, out, _err = _command(capsys, "backward", str(path), "--json", "--gradient", "ones")
    assert status == 0 and json.loads(out)["error"] is None


THREAD = ("import threading\nimport torch\nx = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)\n"
          "loss = None\ndef work():\n    global loss\n    loss = x.exp().sum()\n    loss.backward()\n"
          "t = threading.Thread(target=work)\nt.start()\nt.join()\nh = x.exp()\nprint(x.grad)\n")


def test_a_threads_call_is_told_from_a_top_level_tensor_of_the_same_numbers(capsys, tmp_path):
    # the thread's x.exp() and the main thread's h are both ExpBackward0 number 0 (torch
    # numbers each thread's nodes from its own counter): told by key, the call seemed to run
    # on h's graph, and h was drawn where a top-level name holds the call's own tensor
    path = tmp_path / "thread_loss.py"
    path.write_text(THREAD, encoding="utf-8")
    status, out, err = _command(capsys, "trace", str(path), "--json")
    assert status == 0, err
    trace = json.loads(out)
    ns = oracle_run(THREAD).namespace
    capsys.readouterr()  # (the oracle's print)
    assert sorted(n["name"] for n in trace["nodes"]) == sorted(
        type(fn).__name__ for fn in reachable([ns["loss"].grad_fn]))
    plain = plain_python(path, merged=True)
    status, out, err = _command(capsys, "backward", str(path), "--json")
    assert status == plain.returncode == 0 and err == plain.stdout
    data = json.loads(out)
    assert [call["drawn"] for call in data["calls"]] == [True] and data["from_snippet"] is True
    assert torch.allclose(torch.tensor(data["leaf_grads"]["x"]), ns["x"].grad)
