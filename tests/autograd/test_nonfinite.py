"""Planted NaN/Inf sources: gradstep names the op and line where each really starts,
side by side with what ``torch.autograd.detect_anomaly`` reports on the same snippet.

torch is the oracle twice: the element values a finding quotes are recomputed here
with torch, and detect_anomaly's own report is parsed from its error and warning.
"""

from __future__ import annotations

import math

import pytest
import torch

from gradstep.autograd.findings import diagnose
from gradstep.autograd.session import Session
from tests.autograd.anomaly_oracle import detect_anomaly_report
from tests.autograd.planted import CLEAN_MODEL, MODEL_WITH_NAN, PLANTED


def check(source: str, **kw):
    """Run ``source`` through gradstep; return (session, run result, Diagnosis of its first pass)."""
    session = Session()
    result = session.run(source, **kw)
    assert result["ok"], result["error"]
    passes = [c["timeline"] for c in result["calls"] if c.get("timeline")][:1]
    return session, result, diagnose(result["trace"], passes, session.grad_stats())


def plain_namespace(source: str) -> dict:
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "__name__": "__main__"}
    exec(compile(source, "<plain>", "exec"), namespace)
    return namespace


def same(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    if a is None or b is None:
        return a is b
    return torch.equal(torch.nan_to_num(a, 7.0, 8.0, 9.0), torch.nan_to_num(b, 7.0, 8.0, 9.0)) \
        and torch.equal(a.isnan(), b.isnan())


@pytest.mark.parametrize("case", list(PLANTED))
def test_planted_origin_is_found(case):
    planted = PLANTED[case]
    session, result, diagnosis = check(planted.source)
    first = diagnosis.nonfinite()[0]
    assert (first.kind, first.name, first.line) == (planted.kind, planted.name, planted.line)
    assert first.certain and diagnosis.marks[first.node] == "origin"
    element = first.elements[0]
    assert element["index"] == planted.index
    assert element["inputs"] == planted.inputs
    # the element the finding quotes is the one torch computed (NaN/Inf text as JSON writes it)
    assert element["value"] in ("NaN", "Infinity", "-Infinity")
    if first.kind.endswith("forward"):
        tensor = _tensor_of(session, result, first.node)
        value = tensor[tuple(element["index"])].item()
        assert element["value"] == _text(value)
    assert diagnosis.failed


def _tensor_of(session, result, node_id):
    """Return the snippet's tensor whose grad_fn is the node (found by label in its namespace)."""
    label = next(n["label"] for n in result["trace"]["nodes"] if n["id"] == node_id)
    return session.state.namespace[label]


def _text(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


@pytest.mark.parametrize("case", list(PLANTED))
def test_side_by_side_with_detect_anomaly(case):
    """Where torch's detect_anomaly names a node, gradstep saw that node too: as the origin
    when torch named the right one, else as a carrier of the real origin it names."""
    planted = PLANTED[case]
    _session, result, diagnosis = check(planted.source)
    report = detect_anomaly_report(planted.source)
    first = diagnosis.nonfinite()[0]
    if report.node is None:
        # detect_anomaly checks backward outputs for NaN only: nothing to say here
        # (log1p's gradient at -2 is a finite -2)
        assert case in ("log(0)", "log1p below -1"), report
        return
    named = [n["id"] for n in result["trace"]["nodes"]
             if n["name"] == report.node and n["line"] == report.line]
    assert named, (report, "detect_anomaly named a node gradstep's trace does not have")
    marks = {diagnosis.marks.get(n) for n in named}
    if (report.node, report.line) == (first.name, first.line):
        assert "origin" in marks
    else:
        assert marks and marks <= {"carrier", "grad_carrier"}, (report, first.message)


def test_detect_anomaly_names_a_later_op_where_gradstep_names_the_source():
    """docs/commands.md's side-by-side (pytorch issue 160016): sqrt(x - 2) is the source."""
    planted = PLANTED["sqrt of a negative"]
    report = detect_anomaly_report(planted.source)
    _session, _result, diagnosis = check(planted.source)
    assert (report.node, report.line) == ("SqrtBackward0", 4)  # the later sqrt, a carrier
    assert diagnosis.nonfinite()[0].line == 2


@pytest.mark.parametrize("case", list(PLANTED))
def test_finding_the_origin_changes_nothing_the_snippet_does(case):
    source = PLANTED[case].source
    session, _result, _diagnosis = check(source)
    plain = plain_namespace(source)
    ours = session.state.namespace
    leaves = [k for k, v in plain.items() if isinstance(v, torch.Tensor) and v.is_leaf and v.requires_grad]
    assert leaves
    for name in leaves:
        assert same(ours[name].grad, plain[name].grad), name
        assert same(ours[name].detach(), plain[name].detach()), name


def test_clean_model_has_no_findings():
    _session, _result, diagnosis = check(CLEAN_MODEL)
    assert diagnosis.findings == [] and diagnosis.marks == {}
    assert detect_anomaly_report(CLEAN_MODEL).node is None


def test_a_value_inside_a_module_not_captured_is_the_first_known_point_only():
    _session, result, diagnosis = check(MODEL_WITH_NAN)
    first = diagnosis.nonfinite()[0]
    assert first.name == "AddBackward0" and first.scope == "2" and first.line == 14
    assert not first.certain
    assert {u["why"] for u in first.unseen} == {"not_captured", "no_grad"}
    log = next(n for n in result["trace"]["nodes"] if n["name"] == "LogBackward0")
    assert log["value"] is None and {"node": log["id"], "why": "not_captured"}.items() <= \
        next(u for u in first.unseen if u["why"] == "not_captured").items()
    assert "--deep-values" in first.note and "first seen" in first.message


def test_deep_values_find_the_op_inside_the_module():
    session, _result, diagnosis = check(MODEL_WITH_NAN, deep_values=True)
    first = diagnosis.nonfinite()[0]
    assert (first.name, first.line, first.scope, first.certain) == ("LogBackward0", 14, "2", True)
    # torch's own numbers: the Linear output at the first NaN element is negative
    torch.manual_seed(0)
    model = session.state.namespace["model"]
    x = session.state.namespace["x"]
    with torch.no_grad():
        h = model[2].linear(model[1](model[0](x)))
    index = tuple(first.elements[0]["index"])
    assert torch.log(h)[index].isnan() and first.elements[0]["inputs"] == [h[index].item()]
    assert (torch.log(h).isnan().nonzero()[0].tolist()) == list(index)


def test_backward_nan_from_the_forward_is_not_a_second_origin():
    """sqrt(-1) is NaN forward; its backward step sends NaN because of it: one origin."""
    _session, _result, diagnosis = check(PLANTED["sqrt of a negative"].source)
    assert [f.kind for f in diagnosis.nonfinite()] == ["nan_forward"]
    assert "n1" in diagnosis.marks and diagnosis.marks["n1"] == "carrier"


def test_infinity_turning_into_nan_is_named():
    _session, _result, diagnosis = check(PLANTED["sqrt at 0, backward only"].source)
    first = diagnosis.nonfinite()[0]
    assert "becomes NaN at pow" in first.message and "line 4" in first.message
    assert first.elements[0]["arriving"] == 1.0 and first.elements[0]["output"] == 0.0


WIDE_SQRT_AT_ZERO = """\
x = torch.linspace(-1.0, 1.0, 101, requires_grad=True)
r = x.relu()
s = (r * r).sqrt()             # = relu(x); at 0 its gradient 1/(2*sqrt(0)) is Infinity
loss = s.sum()
loss.backward()
"""


def test_a_backward_origin_in_a_summarised_tensor_says_what_torch_did_with_no_unknowns():
    """101 elements: the recorded tensors keep a summary (NaN/Inf counts and where), not each
    value. The finding said "sqrt backward at input ? (output ?): gradient ? arrived,
    Infinity sent" (the shape of every origin in a real model's layer); it now says what
    torch's own hooks show: a finite gradient arrived and Infinity went to slot 0 there."""
    from gradstep.autograd.values import SMALL

    _session, _result, diagnosis = check(WIDE_SQRT_AT_ZERO)
    first = diagnosis.nonfinite()[0]
    assert (first.kind, first.name, first.line) == ("inf_grad", "SqrtBackward0", 3)
    assert "?" not in first.cause and "?" not in first.message
    # torch: what arrived at SqrtBackward0 and what it sent, from its own hooks
    plain = {"torch": torch}
    exec(compile(WIDE_SQRT_AT_ZERO.replace("loss.backward()\n", ""), "<plain>", "exec"), plain)
    seen = {}
    plain["s"].grad_fn.register_hook(lambda sent, arrived: seen.update(sent=sent, arrived=arrived))
    plain["loss"].backward()
    assert plain["s"].numel() > SMALL  # the case is the summarised one
    assert all(bool(g.isfinite().all()) for g in seen["arrived"])
    index = first.elements[0]["index"]
    assert math.isinf(seen["sent"][0][tuple(index)].item())
    assert not torch.isfinite(seen["sent"][0]).all()
    assert first.cause == ("sqrt backward: a finite gradient arrived, "
                           f"{first.elements[0]['value']} was sent to input slot 0")
