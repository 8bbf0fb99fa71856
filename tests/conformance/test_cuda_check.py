"""bench/cuda_check.py runs here on CPU: one line per case, a summary, skipped cases."""

from __future__ import annotations

import importlib.util
import re
import sys

import procs
from corpus import HERE, Case

SCRIPT = HERE.parents[1] / "bench" / "cuda_check.py"
LINE = re.compile(r"^(\S+) +(same|DIFF .+|skipped \(no module \S+\))(  [\d.]+s)?$")


def _load_script():
    spec = importlib.util.spec_from_file_location("cuda_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cuda_check_on_cpu_prints_one_line_per_case_and_a_summary():
    finished = procs.run([sys.executable, str(SCRIPT), "--device", "cpu", "--cases",
                          "example_grad_fn_chain,example_mse_autograd_grad"],
                         cwd=str(HERE), timeout=600)
    lines = finished.output.strip().splitlines()
    assert len(lines) == 3, finished.output
    verdicts = {}
    for line in lines[:2]:
        match = LINE.match(line)
        assert match, line
        verdicts[match.group(1)] = match.group(2)
    assert set(verdicts) == {"example_grad_fn_chain", "example_mse_autograd_grad"}
    same = sum(v == "same" for v in verdicts.values())
    assert lines[2].startswith(f"summary: {same} same, {2 - same} differ, 0 skipped on cpu")
    assert verdicts["example_grad_fn_chain"] == "same", finished.output
    assert finished.returncode == (0 if same == 2 else 1)


def test_a_case_whose_imports_are_missing_is_skipped():
    cuda_check = _load_script()
    case = Case("needs_missing", HERE / "cases" / "sdpa.py", "loss", ("no_such_package_xyz",))
    verdict, line = cuda_check.check_case(case, "cpu", 60)
    assert verdict == "skipped"
    assert line.split() == ["needs_missing", "skipped", "(no", "module", "no_such_package_xyz)"]
