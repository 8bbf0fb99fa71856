"""Every op node of every case resolves to a formula: torch's (in the trace JSON's
``formula`` field, readable where written in ``formula_math``), or a reason it has none
(``formula_note``: a custom autograd.Function, CopySlices, ...). The numbers are the
same ``scripts/formula_coverage.py --corpus`` prints; the runs are the suite's own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from params import PARAMS

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.autograd.formula_models import run_coverage  # noqa: E402

pytest.importorskip("yaml")


@pytest.mark.parametrize("case", PARAMS)
def test_every_op_node_has_a_formula_or_says_why(run):
    trace = run.gradstep.get("trace")
    if trace is None:
        pytest.skip(f"{run.case.name} draws no graph")
    problems = []
    for node in trace["nodes"]:
        if node["kind"] != "op":
            continue
        if not node.get("formula") and not node.get("formula_note"):
            problems.append(f"{node['id']} {node['name']}: neither a formula nor a reason")
        if node.get("formula_math") and set(node["formula_math"]["inputs"]) - set(node["formula"]):
            problems.append(f"{node['id']} {node['name']}: a readable form for an input torch's has not")
    counts = run_coverage(run.gradstep)
    if counts["unresolved"]:
        problems.append(f"{counts['unresolved']} op nodes gradstep knows nothing about")
    assert not problems, "\n".join(problems)
    assert counts["ops"] == counts["formula"] + counts["custom"] + counts["explained"]
