"""The records of gradstep/schema are what the code really sends, and docs/schema.md is
generated from them: real replies of every request, for every lesson, fit their records;
failures keep their request's shape; the page is up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradstep.autograd.findings import check_json, diagnose
from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.drawing.graph_files import to_json
from gradstep.drawing.layout import layout
from gradstep.examples import EXAMPLES, load_example
from gradstep.schema import errors, findings, graph, kernel, markdown, timeline
from gradstep.schema.validate import problems

ROOT = Path(__file__).resolve().parents[1]


def test_docs_schema_md_is_generated_from_the_records():
    page = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert page == markdown.render(), (
        "docs/schema.md is out of date: python -m gradstep.schema.markdown > docs/schema.md")


@pytest.fixture(scope="module")
def lesson_replies():
    """Every reply of every request for every lesson, in one in-process session each."""
    replies = []
    for example in EXAMPLES:
        session = Session()
        run = session.run(load_example(example.id), filename=f"{example.id}.py")
        replies.append((example.id, "run", run))
        if run["trace"] is None:
            continue
        replies.append((example.id, "grad_stats", session.grad_stats()))
        replies.append((example.id, "backward", session.backward(passes=2)))
        replies.append((example.id, "backward", session.backward(mode="grad", retain_graph=True)))
        for node in run["trace"]["nodes"][:6]:
            replies.append((example.id, "inspect", session.inspect(node["id"])))
        replies.append((example.id, "inspect", session.inspect("n99999")))
        replies.append((example.id, "zero_grad", session.zero_grad()))
    return replies


def test_every_reply_of_every_lesson_fits_its_record(lesson_replies):
    methods = {method for _, method, _ in lesson_replies}
    assert methods == set(kernel.METHODS) - {"reset", "write"}  # write: tests/kernel/test_writing.py
    wrong = [f"{lesson} {method}: {p}" for lesson, method, reply in lesson_replies
             for p in problems(reply, kernel.REPLIES[method])]
    assert wrong == []


def test_the_records_are_strict_not_permissive():
    run = {"ok": True, "trace": None, "error": None, "calls": [], "output": "",
           "root_name": None, "root_candidates": [], "exit_code": 0}
    assert problems(run, kernel.RunReply) == []
    assert problems({**run, "surprise": 1}, kernel.RunReply) == ["$: RunReply has no field 'surprise'"]
    assert problems({k: v for k, v in run.items() if k != "ok"}, kernel.RunReply) == [
        "$: RunReply lacks 'ok'"]
    assert problems({**run, "exit_code": "0"}, kernel.RunReply)
    assert problems({**run, "error": {"kind": "nope"}}, kernel.RunReply)


def test_a_failed_request_keeps_its_requests_shape():
    error = errors.error_record("crash", "The kernel process died.", title="The kernel crashed")
    params = {"node_id": "n3", "mode": "grad", "retain_graph": True}
    for method in kernel.METHODS:
        reply = kernel.failure_reply(method, error, params)
        assert problems(reply, kernel.REPLIES[method]) == [], method
        assert reply["error"] is error
    backward = kernel.failure_reply("backward", error, params)
    assert (backward["mode"], backward["retain_graph"], backward["steps"]) == ("grad", True, [])
    assert not timeline.pass_ran(backward)
    assert kernel.failure_reply("inspect", error, params)["id"] == "n3"


def test_the_check_json_and_graph_files_fit_their_records(lesson_replies):
    for lesson, method, reply in lesson_replies:
        if method != "run" or reply["trace"] is None:
            continue
        passes = [c["timeline"] for c in reply["calls"] if c.get("timeline")]
        report = check_json(diagnose(reply["trace"], passes))
        assert problems(report, findings.CheckJSON) == [], lesson
        drawn = graph_from_json(reply["trace"])
        assert problems(to_json(drawn, layout(drawn)), graph.GraphFileJSON) == [], lesson


def test_findings_of_a_planted_nan_fit_their_record():
    session = Session()
    run = session.run("x = torch.tensor([-1.0, 4.0], requires_grad=True)\n"
                      "a = torch.sqrt(x)\nloss = a.sum()\nloss.backward()\n")
    stats = session.grad_stats()
    report = check_json(diagnose(run["trace"], [c["timeline"] for c in run["calls"]], stats), stats)
    assert {f["kind"] for f in report["findings"]} >= {"nan_forward"}
    assert report["layers"]
    assert problems(report, findings.CheckJSON) == []


def test_node_fields_are_the_trace_nodes_fields():
    assert set(graph.NODE_FIELDS) | set(graph.OPTIONAL_FIELDS) == (
        graph.TraceNode.__required_keys__ | graph.TraceNode.__optional_keys__)
    assert set(graph.FORMULA_FIELDS) <= set(graph.NODE_FIELDS)


def test_the_python_apis_records_fit_the_same_records(tmp_path):
    """gradstep.to_json, gradstep.backward and Drawing.save write what the command line does."""
    import json

    import torch

    import gradstep

    a = torch.tensor([0.5, -1.0], requires_grad=True)
    p = (torch.nn.functional.softmax(a, dim=0) ** 2).sum()
    assert problems(gradstep.to_json(gradstep.trace(p)), graph.TraceJSON) == []
    passed = gradstep.backward(p, mode="grad", inputs=[a])
    expected = torch.autograd.grad((torch.nn.functional.softmax(a, dim=0) ** 2).sum(), [a])[0]
    assert passed["returned"] and a.grad is None
    assert torch.allclose(torch.tensor(passed["returned"][0]), expected)
    assert problems(passed, kernel.BackwardReply) == []
    gradstep.draw(p, timeline=passed, step=2, collapse=1).save(tmp_path / "step.json")
    saved = json.loads((tmp_path / "step.json").read_text(encoding="utf-8"))
    assert problems(saved, graph.GraphFileJSON) == []
