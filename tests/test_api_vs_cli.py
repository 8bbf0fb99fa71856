"""The Python API gives what the command line gives: ``gradstep.trace`` on the live root of
a seed lesson or a conformance case, run in this process, against ``gradstep trace FILE
--root NAME --json`` (the kernel that command runs, one for all files).

Compared: node names by id and edges (torch's graph, so they must be equal), labels
where both name a node after a variable or a parameter, values where both show one
(the command line also sees the snippet's top-level expressions; the API sees what can
be proven after the fact and what ``record()`` saw). The API side runs the file as
``python FILE`` would, with its folder first on ``sys.path``, inside ``gradstep.record()``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import sys
import warnings
from pathlib import Path

import pytest

import gradstep
from gradstep.autograd.trace import short_op_name
from gradstep.policies.strict_json import dumps
from tests.test_examples import ROOT as EXAMPLE_ROOTS

pytestmark = pytest.mark.slow  # about a minute: a kernel run and an in-process run per file

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "gradstep" / "resources" / "examples"
CASES = REPO / "tests" / "conformance" / "cases"
FILES = {
    **{f"example_{name}": (EXAMPLES / f"{name}.py", root) for name, root in EXAMPLE_ROOTS.items()},
    "example_retain_graph_error": (EXAMPLES / "retain_graph_error.py", "p"),  # fails after its graph
    "case_custom_function": (CASES / "custom_function.py", "loss"),
    "case_inplace_views": (CASES / "inplace_views.py", "loss"),
    "case_saved_tensor_hooks": (CASES / "saved_tensor_hooks.py", "loss"),
    "case_nn_transformer_train": (CASES / "nn_transformer_train.py", "loss"),
    "case_timm_resnet10t": (CASES / "timm_resnet10t.py", "loss"),  # a small CNN, timm's
}


@pytest.fixture(scope="module")
def kernel():
    from gradstep.kernel.client import Kernel

    with Kernel(restart_eagerly=False) as session:
        yield session


def cli_trace(kernel, path: Path, root: str) -> dict:
    """Return what ``gradstep trace PATH --root ROOT --json`` prints, parsed."""
    result = kernel.run(path.read_text(encoding="utf-8"), filename=str(path), root=root)
    assert result["trace"] is not None, result["error"]
    return json.loads(dumps(result["trace"]))


def api_trace(path: Path, root: str) -> dict:
    """Run ``path`` here as ``python PATH`` would, inside ``gradstep.record()``, and return
    ``gradstep.to_json(gradstep.trace(root tensor))``."""
    namespace = {"__name__": "__main__", "__file__": str(path), "__builtins__": __builtins__}
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    sys.path.insert(0, str(path.parent))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings(), gradstep.record() as recording:
            warnings.simplefilter("default")  # as under python: warnings print, never raise
            try:
                exec(code, namespace)
            except Exception:  # a lesson that fails on purpose, after building its graph
                pass
    finally:
        sys.path.remove(str(path.parent))
    graph = gradstep.trace(namespace[root], names=namespace, recording=recording)
    return json.loads(json.dumps(gradstep.to_json(graph), allow_nan=False))


@pytest.mark.parametrize("name", sorted(FILES))
def test_api_trace_equals_the_command_lines(kernel, name):
    path, root = FILES[name]
    if "timm" in name and importlib.util.find_spec("timm") is None:  # the case imports vision_shim first
        pytest.skip("timm is not installed")
    cli, api = cli_trace(kernel, path, root), api_trace(path, root)
    assert [(n["id"], n["name"], n["kind"]) for n in api["nodes"]] == \
        [(n["id"], n["name"], n["kind"]) for n in cli["nodes"]]
    assert api["edges"] == cli["edges"]
    assert api["root"] == cli["root"] and api["device"] == cli["device"]
    assert forward_order(api) == forward_order(cli)  # sequence numbers count per process
    compared = 0
    for a, c in zip(api["nodes"], cli["nodes"]):
        for field in ("shape", "dtype", "device", "slots", "formula", "formula_math"):
            assert a.get(field) == c.get(field), (a["id"], field, a.get(field), c.get(field))
        assert [s.get("name") for s in a["saved"]] == [s.get("name") for s in c["saved"]]
        assert [s.get("freed") for s in a["saved"]] == [s.get("freed") for s in c["saved"]]
        if _named(a) and _named(c):
            assert a["label"] == c["label"], (a["id"], a["label"], c["label"])
        if a["value"] is not None and c["value"] is not None:
            assert same_value(a["value"], c["value"]), (a["id"], a["value"], c["value"])
            compared += 1
    assert compared >= 1  # at least the leaves show a value on both sides
    root_node = api["nodes"][0]
    assert root_node["label"] == root or len(api.get("roots", [])) > 1


def forward_order(trace: dict) -> list[str]:
    """Return the op nodes' ids in the order the forward ops ran (by sequence number)."""
    return [n["id"] for n in sorted((n for n in trace["nodes"] if n["seq"] is not None),
                                    key=lambda n: n["seq"])]


def _named(node: dict) -> bool:
    """True when the label is a variable or a parameter name (not a short op name)."""
    return node["label"] not in (short_op_name(node["name"]), "leaf")


def same_value(a: dict, b: dict) -> bool:
    """Two value summaries of the same tensor from two runs of the same seeded code."""
    if (a["shape"], a["dtype"]) != (b["shape"], b["dtype"]):
        return False
    if a.get("nan") != b.get("nan") or a.get("inf") != b.get("inf"):
        return False
    if "data" in a or "data" in b:
        return _close_data(a.get("data"), b.get("data"))
    return all(_close(a.get(k), b.get(k)) for k in ("min", "max", "mean", "std"))


def _close_data(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close_data(x, y) for x, y in zip(a, b))
    return _close(a, b)


def _close(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)
    return a == b
