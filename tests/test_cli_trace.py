"""`python -m gradstep trace ... --json` in a real subprocess: strict JSON, stdout clean, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

MSE = """
x = torch.ones(1)
权重 = torch.full([1], 2., requires_grad=True)
print("this goes to stderr, not into the JSON")
mse = F.mse_loss(torch.ones(1), x*权重)
"""


def gradstep(*args: str, stdin: str | None = None, env: dict | None = None
             ) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gradstep", "trace", *args], cwd=ROOT, input=stdin,
        capture_output=True, text=True, encoding="utf-8", timeout=120,
        env={**os.environ, **(env or {})},
    )


def strict_json(text: str):
    def reject(name):
        raise ValueError(f"non-strict JSON constant {name}")
    return json.loads(text, parse_constant=reject)


@pytest.mark.slow  # a CLI process and its kernel process both import torch
def test_trace_file_prints_only_strict_json(tmp_path):
    snippet = tmp_path / "均方误差.py"
    snippet.write_text(MSE, encoding="utf-8")
    done = gradstep(str(snippet), "--json")
    assert done.returncode == 0, done.stderr
    data = strict_json(done.stdout)
    assert "this goes to stderr" in done.stderr
    # the oracle: the same snippet run by torch here
    x, w = torch.ones(1), torch.full([1], 2.0, requires_grad=True)
    mse = torch.nn.functional.mse_loss(torch.ones(1), x * w)
    assert [n["name"] for n in data["nodes"]] == [
        mse.grad_fn.name(), mse.grad_fn.next_functions[1][0].name(), "AccumulateGrad"]
    assert data["nodes"][0]["value"]["data"] == mse.item()
    assert [n["label"] for n in data["nodes"]] == ["mse", "mul", "权重"]
    assert data["edges"] == [
        {"source": "n0", "target": "n1", "slot": 1, "input_nr": 0},
        {"source": "n1", "target": "n2", "slot": 1, "input_nr": 0},
    ]


@pytest.mark.slow
def test_stdin_and_non_finite_values():
    code = "梯度 = torch.tensor([float('nan'), 1.], requires_grad=True)\n梯度 * float('inf')"
    # an ASCII console: the JSON on stdout is UTF-8 all the same
    done = gradstep("-", "--json", stdin=code, env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    data = strict_json(done.stdout)
    assert data["nodes"][1]["label"] == "梯度"
    assert data["nodes"][1]["value"]["data"] == ["NaN", 1.0]
    product = torch.tensor([float("nan"), 1.0]) * float("inf")  # torch: [nan, inf]
    assert product.isnan()[0] and product[1] == float("inf")
    assert data["nodes"][0]["value"]["data"] == ["NaN", "Infinity"]


def test_failing_snippet_exits_1_with_its_line_and_no_internals(tmp_path):
    snippet = tmp_path / "bad.py"
    snippet.write_text("w = torch.ones(2)\ny = (w * 2).sum()\ny.backward()\n", encoding="utf-8")
    done = gradstep(str(snippet), "--json")
    assert done.returncode == 1 and done.stdout == ""
    assert f"{snippet}:3" in done.stderr
    assert "does not require grad" in done.stderr
    assert "Traceback" not in done.stderr and "site-packages" not in done.stderr
    assert "gradstep/autograd" not in done.stderr


def test_nothing_to_draw_exits_1():
    done = gradstep("-c", "x = torch.ones(2) * 3", "--json")
    assert done.returncode == 1 and done.stdout == ""
    assert "Nothing to draw" in done.stderr and "requires_grad=True" in done.stderr


def test_bad_usage_exits_2():
    missing = gradstep("no/such/file.py", "--json")
    assert missing.returncode == 2 and missing.stdout == ""
    root = gradstep("-c", "w = torch.ones(1, requires_grad=True)\ny = w * 2", "--root", "z")
    assert root.returncode == 2 and "'z'" in root.stderr


def test_cuda_without_cuda_exits_2_saying_so():
    if torch.cuda.is_available():
        return  # nothing to check on a machine that has CUDA
    done = gradstep("-c", "w = torch.ones(1, requires_grad=True)\nw * 2", "--device", "cuda")
    assert done.returncode == 2 and done.stdout == ""
    assert "CUDA is not available" in done.stderr


@pytest.mark.slow  # a CLI process and its kernel process both import torch
def test_the_snippet_reads_the_commands_standard_input(tmp_path):
    """As under ``python FILE``: ``echo 3 | gradstep trace FILE`` gives input() the 3."""
    snippet = tmp_path / "steps.py"
    snippet.write_text("import torch\nn = int(input('steps? '))\n"
                       "x = torch.ones(2, requires_grad=True)\nloss = (x * n).sum()\n"
                       "print(loss.item())\n", encoding="utf-8")
    plain = subprocess.run([sys.executable, str(snippet)], input="3\n", capture_output=True,
                           text=True, timeout=120)
    done = gradstep(str(snippet), "--json", stdin="3\n")
    assert done.returncode == plain.returncode == 0, done.stderr
    assert done.stderr == plain.stdout == "steps? 6.0\n"


@pytest.mark.slow  # CLI processes and their kernel processes import torch
@pytest.mark.parametrize("command", ["trace", "backward"])
@pytest.mark.parametrize("body", ["y = torch.ones(1, requires_grad=True) * 2\n", "raise ValueError(1)\n"])
def test_the_command_ends_its_kernel_without_a_resource_warning(tmp_path, command, body):
    """A kernel left to the collector warned "subprocess N is still running" into the
    snippet's stderr under PYTHONWARNINGS=default (python FILE prints nothing there)."""
    snippet = tmp_path / "s.py"
    snippet.write_text("import torch\n" + body, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "gradstep", command, str(snippet)], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "default"})
    assert "ResourceWarning" not in done.stderr, done.stderr
