"""Trace nodes written from templates (``kernel.trace_text``) are the text ``json`` wrote:
``write_json_line(..., templates=NodeTexts)`` against ``json_line`` of the same trace, and
the numbers in it against torch's own."""

from __future__ import annotations

import json

import pytest
import torch

from gradstep.autograd.session import Session
from gradstep.examples import EXAMPLES, load_example
from gradstep.kernel.trace_text import SUMMARY_FIELDS, NodeTexts, NotPlain
from gradstep.policies.strict_json import dumps, json_line, write_json_line
from gradstep.schema.graph import FORMULA_FIELDS

ODD_VALUES = """
x = torch.tensor([0.5, -0.0, 3.25], requires_grad=True)
zero = x * 0.0
neg = -x
ints = torch.arange(3) * 2
wide = torch.linspace(-1, 1, 100, requires_grad=True).reshape(10, 10)
double = torch.tensor([1e-300, 2.5e300], dtype=torch.float64, requires_grad=True)
parts = torch.ones(4, requires_grad=True).split(2)
one = x.sum() * 1.0
loss = (zero.sum() + neg.sum() + wide.sum() + double.sum() * 0 + parts[0].sum() + one
        + ints.sum())
"""


def _sources():
    return [pytest.param(load_example(e.id), id=e.id) for e in EXAMPLES] + [
        pytest.param("x = torch.tensor([-1.0, 0.0, 4.0], requires_grad=True)\n"
                     "loss = (torch.sqrt(x) + torch.log(x) * float('inf')).sum()\n", id="nan"),
        pytest.param(ODD_VALUES, id="odd_values")]


def _written(data, tmp_path, batch=2) -> bytes:
    path = tmp_path / "t.json"
    write_json_line(data, path, batch=batch, shared=FORMULA_FIELDS, templates=NodeTexts)
    return path.read_bytes()


@pytest.mark.parametrize("source", _sources())
def test_a_trace_written_from_templates_is_the_text_json_wrote(source, tmp_path):
    trace = Session().run(source)["trace"]
    if not trace:
        pytest.skip("no trace")
    assert _written(trace, tmp_path) == json_line(trace)
    texts, written = NodeTexts(), 0
    for node in trace["nodes"]:
        try:
            text = texts.text(node)
        except NotPlain:  # a NaN somewhere: strict JSON spells it as text (plain)
            assert "NaN" in dumps(node) or "Infinity" in dumps(node)
            continue
        assert text == dumps(node)
        written += 1
    assert written >= len(trace["nodes"]) // 2


def test_the_numbers_written_are_torchs_own(tmp_path):
    session = Session()
    trace = session.run(ODD_VALUES)["trace"]
    text = _written(trace, tmp_path, batch=1).decode("utf-8")
    nodes = {node["label"]: node for node in json.loads(text)["nodes"]}
    namespace = session.state.namespace
    for label in ("x", "zero", "neg", "one"):
        tensor = namespace[label].detach()
        value = nodes[label]["value"]
        assert value["data"] == tensor.tolist()
        assert [value["min"], value["max"]] == [tensor.min().item(), tensor.max().item()]
        assert value["mean"] == pytest.approx(tensor.double().mean().item())
    # 0.0 and -0.0 are equal, but written apart, as torch holds them
    signs = [str(v) for v in namespace["zero"].detach().tolist()]
    assert '"data": [' + ", ".join(signs) + "]" in text and "-0.0" in signs
    assert nodes["double"]["value"]["data"] == namespace["double"].tolist()


HOSTILE = [
    {"extra": 1},  # fields out of place: encoded as before
    {"label": None},
    {"label": True},
    {"value": {"shape": [3], "data": [1.0, -0.0, 0.0], "min": -0.0}},
    {"value": {"data": [1.0, 1, True], "min": 1.0, "max": 1, "mean": True}},
    {"value": {"data": 2.0, "min": float("nan")}},
    {"value": {"data": [1e308 * 10], "std": float("inf")}},
    {"value": {"shape": [1], "data": [2.5], "min": 2.5, "max": 2.5, "mean": 2.5, "std": None}},
    {"value": {"shape": [], "data": -0.0, "min": -0.0, "max": -0.0, "mean": -0.0, "std": None}},
    {"shape": [True, 2]},
    {"shape": [2.0]},
    {"seq": True, "line": None, "slots": 1.0},
    {"label": type("Name", (str,), {})("x")},
    {"scope": ["a"]},
    {"saved": [{"name": "self", "value": float("nan")}]},
    {"saved": [{"name": "self", "value": object()}]},
    {"formula": {True: "g", None: 1}},
    {"name": "Mul\u0000\"Backward\u2202"},
]


def _node(i: int, **changes) -> dict:
    value = {"shape": [3], "dtype": "float32", "device": "cpu", "min": 1.0 + i, "max": 2.5,
             "mean": 1.75, "std": 0.0, "nan": 0, "inf": 0, "data": [1.0 + i, 2.5, 1.75]}
    formula = {"self": "grad * other"}
    node = {"id": f"n{i}", "name": "MulBackward0", "kind": "op", "label": "y", "scope": "",
            "shape": [3], "dtype": "float32", "device": "cpu", "value": value,
            "saved": [{"name": "other", "shape": [], "dtype": "float64", "freed": False}],
            "formula": formula, "formula_math": None, "formula_note": None, "seq": 9 - i,
            "line": 2, "slots": 2}
    for key, new in changes.items():
        node[key] = {**value, **new} if key == "value" else new
    return node


@pytest.mark.parametrize("changes", HOSTILE, ids=range(len(HOSTILE)))
def test_a_node_the_templates_cannot_vouch_for_keeps_its_text(changes, tmp_path):
    nodes = [_node(i) for i in range(5)]
    nodes[3] = _node(3, **changes)
    data = {"root": "n0", "nodes": nodes, "edges": []}
    for batch in (1, 2, 5):
        assert _written(data, tmp_path, batch=batch) == json_line(data), batch
    assert NodeTexts().text(nodes[0]) == dumps(nodes[0])  # the template's own case


EDGE_FLOATS = [-0.0, 0.0, 1e-300, -1e-300, 5e-324, 2.2250738585072014e-308, 1e16, 1e-05,
               0.1, 1 / 3, 2.5e300, float(torch.tensor(0.1, dtype=torch.float32)),
               float(torch.tensor(-1e-40, dtype=torch.float32))]  # float32 data, a subnormal one


def _summary(data, std=0.5, **more) -> dict:
    return {"shape": [len(data)], "dtype": "float32", "device": "cpu", "min": min(data),
            "max": max(data), "mean": data[0], "std": std, "nan": 0, "inf": 0, "data": data,
            **more}


def test_summaries_met_again_are_written_from_their_first_text(tmp_path):
    """A summary whose numbers and fields were met already is written from the text kept
    for them (``NodeTexts.summaries``, keyed by the numbers' bytes): the text ``json``
    writes, also where 0.0 and -0.0 (equal numbers, spelled apart) or an int or a bool
    in place of a float meet a kept one, and for the edge cases of ``repr``."""
    values = [_summary([x, 1.0]) for x in EDGE_FLOATS] + [_summary([1.0, x]) for x in EDGE_FLOATS]
    values += [_summary([0.0, 0.0], std=-0.0), _summary([-0.0, 0.0], std=0.0),
               _summary([0.0, 1.0], std=None), _summary([0.0, 1.0], std=0.0),
               _summary([1, 1.0]), _summary([True, 1.0]), _summary([1.0, 1.0], nan=True),
               {**_summary([2.0]), "shape": [], "data": 2.0}, {**_summary([2.0]), "shape": [True]},
               _summary([float("nan"), 1.0]), _summary([1.0, 2.0], std=float("inf"))]
    nodes = [_node(i, value=value) for i, value in enumerate(values * 3)]
    data = {"root": "n0", "nodes": nodes, "edges": []}
    for batch in (1, 7, len(nodes)):
        assert _written(data, tmp_path, batch=batch) == json_line(data), batch
    texts = NodeTexts()
    for node in nodes[:2 * len(EDGE_FLOATS)]:
        assert json.loads(texts.text(node))["value"]["data"] == node["value"]["data"]
        assert texts.text(node) == dumps(node)  # the second time: found
    assert texts.summaries.found == 2 * len(EDGE_FLOATS)


def test_summary_texts_are_dropped_when_values_do_not_repeat(monkeypatch):
    """After a round of ``KEPT`` summaries that found fewer than one in ``RARE`` met
    before, no more keys are made for the rest of the write; the texts stay the same."""
    monkeypatch.setattr("gradstep.kernel.trace_text._SummaryTexts.KEPT", 4)
    texts = NodeTexts()
    nodes = [_node(i, value=_summary([float(i), 1.0])) for i in range(12)]
    assert [texts.text(node) for node in nodes] == [dumps(node) for node in nodes]
    assert texts.summaries is None
    repeated = NodeTexts()
    nodes = [_node(i, value=_summary([float(i % 2), 1.0])) for i in range(12)]
    assert [repeated.text(node) for node in nodes] == [dumps(node) for node in nodes]
    assert repeated.summaries.found == 10


def test_a_trace_past_the_small_means_limit_is_written_from_templates(monkeypatch, tmp_path):
    """Small values with no mean and no std (``values.SMALL_MEANS_LIMIT``) are written as
    null from the templates, the text json writes, not each through ``json`` (slower)."""
    from gradstep.autograd import values

    monkeypatch.setattr(values, "SMALL_MEANS_LIMIT", 1)
    trace = Session().run(ODD_VALUES)["trace"]
    assert _written(trace, tmp_path) == json_line(trace)
    texts = NodeTexts()
    capped = [node for node in trace["nodes"] if isinstance(node["value"], dict)
              and isinstance(node["value"].get("data"), list) and node["value"]["mean"] is None]
    assert len(capped) >= 3
    for node in capped:
        assert texts.value(node["value"]) == dumps(node["value"])
        assert '"mean": null, "std": null' in texts.text(node)
    texts.encode = None  # the templates alone: json's path would fail
    plain = [node for node in capped if tuple(node["value"]) == SUMMARY_FIELDS]
    assert len(plain) >= 3
    for node in plain:
        texts.value(node["value"])
