"""The typed records of gradstep/schema.py against real outputs, and docs/api.md against them.

Every record a command or the Python API writes has every required key of its type and
no key its type does not name; every key of every type is described in docs/api.md.
The outputs come from torch: a snippet run by the command line's session (trace, a
two-pass timeline that fails in its second pass, so errors are checked too), the Python
API on live tensors, and an exported JSON file at a step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

import gradstep
from gradstep import schema
from gradstep.autograd.session import Session

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"
SNIPPET = ("import torch\n"
           "a = torch.tensor([0.5, -1.0, float('inf')], requires_grad=True)\n"
           "b = torch.nn.functional.softmax(a[:2], dim=0)\n"
           "p = (b * b.exp()).sum()\n")


def check(record: dict, kind: type, where: str) -> None:
    required, optional = schema.json_keys(kind)
    keys = set(record)
    assert required <= keys, f"{where}: missing {sorted(required - keys)}"
    assert keys <= required | optional, f"{where}: not in {kind.__name__}: {sorted(keys - required - optional)}"


def check_value(value, where: str) -> None:
    if value is None:
        return
    check(value, schema.ValueJSON, where)
    for i, output in enumerate(value.get("outputs") or []):
        check_value(output, f"{where}.outputs[{i}]")


def check_trace(data: dict, where: str, *, export: bool = False) -> None:
    check(data, schema.ExportJSON if export else schema.TraceJSON, where)
    node_kind = schema.ExportNodeJSON if export else schema.NodeJSON
    edge_kind = schema.ExportEdgeJSON if export else schema.EdgeJSON
    for node in data["nodes"]:
        check(node, node_kind, f"{where} node {node['id']}")
        check_value(node["value"], f"{where} node {node['id']} value")
        for saved in node["saved"]:
            check(saved, schema.SavedJSON, f"{where} node {node['id']} saved {saved['name']}")
    for edge in data["edges"]:
        check(edge, edge_kind, f"{where} edge")
    if export and "step_state" in data:
        check(data["step_state"], schema.StepStateJSON, f"{where} step_state")


def check_timeline(timeline: dict, where: str) -> None:
    check(timeline, schema.TimelineJSON, where)
    for step in timeline["steps"]:
        check(step, schema.StepJSON, f"{where} step {step['index']}")
    for summary in timeline["passes"]:
        check(summary, schema.PassSummaryJSON, f"{where} pass {summary['pass']}")
        if summary["error"] is not None:
            check(summary["error"], schema.ErrorJSON, f"{where} pass error")
    if timeline["error"] is not None:
        check(timeline["error"], schema.ErrorJSON, f"{where} error")


@pytest.fixture(scope="module")
def session_outputs():
    session = Session()
    result = session.run(SNIPPET, root="p")
    assert result["ok"], result["error"]
    timeline = session.backward(passes=2)  # the second pass raises: freed buffers
    assert timeline["error"]["kind"] == "freed_buffers"
    return result["trace"], timeline


def test_the_command_lines_trace_and_timeline_match_their_types(session_outputs):
    trace, timeline = session_outputs
    check_trace(trace, "trace")
    check_timeline(timeline, "backward")
    assert any(n["value"] and n["value"].get("inf") for n in trace["nodes"])  # a, with its inf


def test_the_apis_records_match_their_types(tmp_path):
    a = torch.tensor([0.5, -1.0], requires_grad=True)
    p = (torch.nn.functional.softmax(a, dim=0) ** 2).sum()
    check_trace(gradstep.to_json(gradstep.trace(p)), "gradstep.trace")
    timeline = gradstep.backward(p, mode="grad", inputs=[a])
    check_timeline(timeline, "gradstep.backward")
    assert "returned" in timeline
    gradstep.draw(p, timeline=timeline, step=2, collapse=1).save(tmp_path / "step.json")
    check_trace(json.loads((tmp_path / "step.json").read_text()), "export", export=True)


def test_docs_describe_every_field_of_every_record():
    text = DOCS.read_text(encoding="utf-8")
    described = set(re.findall(r"`([a-z_]+)`", text))
    records = [getattr(schema, name) for name in dir(schema) if name.endswith("JSON")]
    for record in records:
        assert f"`{record.__name__}`" in text, f"docs/api.md does not describe {record.__name__}"
        required, optional = schema.json_keys(record)
        missing = (required | optional) - described
        assert not missing, f"docs/api.md lacks {record.__name__} fields {sorted(missing)}"
