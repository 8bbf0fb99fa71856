"""Every node of the seed lessons and of real models resolves to torch's formula (or
says why it has none), and its class's saved attributes are the entry's saved names.
scripts/formula_coverage.py prints the same numbers."""

from __future__ import annotations

import json

import pytest

from app.autograd.formulas import (
    backward_entry,
    no_formula_reason,
    plain_name,
    trace_formula_fields,
)
from app.autograd.session import Session
from tests.autograd.formula_models import EXAMPLES_DIR, MODELS, coverage, lesson_node_names

pytest.importorskip("yaml")


def test_every_lesson_node_has_torchs_formula_and_a_readable_one():
    lessons = lesson_node_names()
    assert len(lessons) >= 10
    for lesson, names in lessons.items():
        counted = coverage(names)
        assert counted["formula"] == counted["ops"], lesson
        assert counted["missing_readable"] == [], lesson
        assert counted["explained"] == counted["nodes"] - counted["ops"], lesson  # AccumulateGrad


@pytest.mark.parametrize("lesson", ["mse_backward", "softmax_jacobian", "losses_reduction", "cifar_cnn"])
def test_trace_fields_for_a_lesson(lesson):
    """What the trace JSON would carry: torch's expression per input, the readable form, or why not."""
    source = (EXAMPLES_DIR / f"{lesson}.py").read_text(encoding="utf-8")
    result = Session().run(source)
    for node in result["trace"]["nodes"]:
        fields = trace_formula_fields(node)
        json.dumps(fields, allow_nan=False, ensure_ascii=False)
        if node["kind"] == "leaf":
            assert fields["formula"] is None and ".grad" in fields["formula_note"]
            continue
        entry = backward_entry(node["name"])
        assert list(fields["formula"]) == [i.name for i in entry.inputs]
        assert set(fields["formula_math"]["inputs"]) <= set(fields["formula"])
        assert fields["formula_note"] is None


@pytest.mark.parametrize("model", sorted(MODELS))
def test_model_nodes_resolve_and_saved_attributes_match(model):
    nodes = MODELS[model]()
    if nodes is None:
        pytest.skip("torchvision is not importable here")
    counted = coverage([fn.name() for fn in nodes])
    assert counted["formula"] + counted["explained"] == counted["nodes"], counted
    for fn in nodes:
        name = plain_name(fn.name())
        entry = backward_entry(name)
        if entry is None:
            assert no_formula_reason(name), name
            continue
        assert type(fn).__name__ == name
        attributes = {a.removeprefix("_saved_") for a in dir(type(fn)) if a.startswith("_saved_")}
        used = {s.name for d in entry.derivatives for s in d.saved}  # names the formulas use
        assert attributes <= used, (name, attributes - used)
