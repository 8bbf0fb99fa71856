"""Every node of the seed lessons and of real models resolves to torch's formula (or
says why it has none), and its class's saved attributes are the entry's saved names.
scripts/formula_coverage.py prints the same numbers."""

from __future__ import annotations

import json

import pytest
import torch

from app.autograd.formulas import (
    backward_entry,
    input_slots,
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


def _same_tensor(a, b) -> bool:
    return a.shape == b.shape and a.data_ptr() == b.data_ptr()


@pytest.mark.parametrize("model", sorted(MODELS))
def test_model_slot_maps_point_at_the_nodes_that_made_the_saved_inputs(model):
    """For every node that saves an input, the saved tensor's own grad_fn (or its leaf) is
    the node in the slot input_slots names: the map is right on real graphs too."""
    nodes = MODELS[model]()
    if nodes is None:
        pytest.skip("torchvision is not importable here")
    checked = 0
    for fn in nodes:
        entry = backward_entry(fn.name())
        if entry is None:
            continue
        slots = input_slots(fn.name(), len(fn.next_functions))
        assert slots is not None, fn.name()
        for name, slot in slots.items():
            saved = getattr(fn, f"_saved_{name}", None) if isinstance(slot, int) else None
            if not isinstance(saved, torch.Tensor):
                continue
            producer = fn.next_functions[slot][0]
            if producer is None:
                assert not saved.requires_grad, (fn.name(), name)
            elif hasattr(producer, "variable"):
                assert saved.grad_fn is None and _same_tensor(saved, producer.variable), (fn.name(), name)
            else:
                assert saved.grad_fn is producer, (fn.name(), name)
            checked += 1
    assert checked >= 5, checked
