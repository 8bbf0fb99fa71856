"""`gradstep backward FILE --json`: strict JSON on stdout, plain words on stderr, exit codes.

The commands run as typed in this process, their snippets in one kernel process made as
a command's own (tests/command_runs.py); the numbers are checked against torch run here.
(Torch's error for a non-scalar root without ``--gradient`` is checked in
tests/autograd/test_backward_session.py, where it is cheap.)
"""

import json

import pytest
import torch
import torch.nn.functional as F

from tests.command_runs import commands_on, run_command
from tests.plain_runs import plain_python

pytestmark = pytest.mark.slow  # a kernel process

MSE = "x = torch.ones(1)\nw = torch.full([1], 2., requires_grad=True)\nmse = F.mse_loss(torch.ones(1), x * w)\n"
SOFTMAX = "a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)\np = F.softmax(a, dim=0)\n"
# a training loop inside main() (nothing left to draw) that made passes and then raised,
# and two passes on a graph drawn at the top level: both print their passes, as they fail
UNDRAWN_FAILS = ("import torch\ndef main():\n    w = torch.ones(2, requires_grad=True)\n"
                 "    for i in range(2):\n        (w * torch.tensor([3., 4.])).sum().backward()\n"
                 "        seen.append(w.grad.clone())\n    raise ValueError('boom')\n"
                 "seen = []\nmain()\n")
DRAWN_FAILS = ("import torch\nw = torch.ones(2, requires_grad=True)\nseen = []\n"
               "loss = (w * torch.tensor([3., 4.])).sum()\nfor i in range(2):\n"
               "    loss.backward(retain_graph=True)\n    seen.append(w.grad.clone())\n"
               "raise ValueError('boom')\n")

# pdb run from the snippet's own top-level code, its commands read from a string
DEBUGGED = ("import io, pdb, sys\nimport torch\n"
            "sys.stdin = io.StringIO('p loss\\nn\\np x.grad\\nc\\np y\\nn\\nc\\n')\n"
            "x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\nbreakpoint()\n"
            "loss.backward()\nprint(x.grad)\nfor i in range(1):\n    y = (x * 3).sum()\n"
            "    pdb.Pdb().set_trace()\n    print(y)\n")

RUNS = {
    "debugged": (DEBUGGED, []),
    "mse": (MSE, []),
    "twice": (MSE, ["--passes", "2"]),
    "softmax_ones": (SOFTMAX, ["--mode", "grad", "--gradient", "ones"]),
    "zero_passes": (MSE, ["--passes", "0"]),
    "undrawn_fails": (UNDRAWN_FAILS, []),
    "drawn_fails": (DRAWN_FAILS, []),
    # a call torch refused before its first step, inside main(): no pass ran, no JSON
    "undrawn_refused": ("import torch\ndef main():\n    x = torch.ones(2)\n"
                        "    torch.autograd.grad(x.sum(), [x])\nmain()\n", []),
}


def _refuse(name):
    raise ValueError(f"non-standard JSON constant {name}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, module_command_kernel) -> dict:
    """Return {name: (exit status, parsed stdout JSON or None, stderr)} for RUNS."""
    folder = tmp_path_factory.mktemp("cli_backward")
    done = {}
    with commands_on(module_command_kernel):
        for name, (source, options) in RUNS.items():
            path = folder / f"{name}.py"
            path.write_text(source, encoding="utf-8")
            status, out, err = run_command(["backward", str(path), "--json", *options])
            data = json.loads(out, parse_constant=_refuse) if out.strip() else None
            done[name] = (status, data, err)
    return done


def test_pdb_stops_at_the_snippets_next_line_as_under_python(runs, tmp_path_factory):
    """``breakpoint()`` / ``pdb.set_trace()`` trace their caller from their return on and
    stop at the next event. The rewrite's ``__gradstep_see__(breakpoint())`` was that
    event: pdb stopped in gradstep's ``observe.py`` ("--Call--"), ``p loss`` raised
    NameError and ``n`` walked gradstep's code (fidhunt10). The oracle: the same file under
    plain python, its pdb session read from the same commands."""
    status, _, err = runs["debugged"]
    path = next(tmp_path_factory.getbasetemp().glob("cli_backward[0-9]*/debugged.py"))
    plain = plain_python(path, merged=True)
    assert "(Pdb) tensor(4., grad_fn=<SumBackward0>)" in plain.stdout  # the session ran
    assert status == plain.returncode == 0
    assert err == plain.stdout


def test_mse_pass_as_torch_runs_it(runs):
    status, data, _ = runs["mse"]
    assert status == 0
    w = torch.full([1], 2.0, requires_grad=True)
    loss = F.mse_loss(torch.ones(1), torch.ones(1) * w)
    arrived = []
    loss.grad_fn.register_prehook(lambda g: arrived.append(g[0].item()))
    loss.backward()
    assert [s["name"] for s in data["steps"]] == ["MseLossBackward0", "MulBackward0", "AccumulateGrad"]
    assert data["steps"][0]["grad_outputs"] == arrived
    assert data["leaf_grads"] == {"w": w.grad.tolist()}
    assert data["freed"] is True and data["error"] is None and data["calls"] == []


def test_second_pass_without_retain_graph_fails_like_torch(runs):
    status, data, stderr = runs["twice"]
    assert status == 1
    assert data["error"]["kind"] == "freed_buffers"
    assert [p["steps"] for p in data["passes"]] == [3, 1]
    assert "Trying to backward through the graph a second time" in stderr
    assert "retain_graph=True" in stderr and "pass 2 of 2" in stderr


def test_non_scalar_root_with_gradient_ones(runs):
    status, data, _ = runs["softmax_ones"]
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    (expected,) = torch.autograd.grad(F.softmax(a, dim=0), [a], torch.ones(3))
    assert status == 0
    # autograd.grad leaves .grad as it was (None) and returns the gradient, in input order
    assert data["leaf_grads"] == {"a": a.grad} and a.grad is None
    assert data["returned_inputs"] == ["a"]
    assert torch.allclose(torch.tensor(data["returned"][0]), expected, atol=1e-6)


def test_bad_passes_is_usage(runs):
    status, data, stderr = runs["zero_passes"]
    assert status == 2 and data is None
    assert "--passes 0" in stderr


@pytest.mark.parametrize("name", ["undrawn_fails", "drawn_fails"])
def test_a_snippet_that_made_passes_and_then_failed_prints_them_drawn_or_not(runs, name):
    status, data, stderr = runs[name]
    namespace = {"torch": torch}
    with pytest.raises(ValueError, match="boom"):  # plain python: the passes, then the error
        exec(RUNS[name][0], namespace)
    assert status == 1  # python's exit status for an uncaught error
    assert "ValueError: boom" in stderr
    assert data is not None and data["from_snippet"] is True
    assert [p["steps"] for p in data["passes"]] == [3, 3]
    for got, want in zip(data["passes"], namespace["seen"], strict=True):
        (grad,) = got["leaf_grads"].values()
        assert grad == want.tolist()


def test_a_snippet_whose_only_call_torch_refused_prints_its_error_alone(runs):
    status, data, stderr = runs["undrawn_refused"]
    namespace = {}
    with pytest.raises(RuntimeError) as raised:  # plain python: torch's error, no pass
        exec(RUNS["undrawn_refused"][0], namespace)
    assert status == 1 and data is None
    assert str(raised.value) in stderr
