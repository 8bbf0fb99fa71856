"""Every node of the seed lessons and of real models resolves to torch's formula (or
says why it has none), and its class's saved attributes are the entry's saved names.
scripts/formula_coverage.py prints the same numbers."""

from __future__ import annotations

import json

import pytest
import torch

from gradstep.autograd.formulas import (
    backward_entry,
    input_slots,
    no_formula_reason,
    plain_name,
    trace_formula_fields,
)
from gradstep.autograd.session import Session
from tests.autograd.formula_models import EXAMPLES_DIR, MODELS, coverage, lesson_node_names, walk

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


def _functional_outputs():
    """A broad sample of what users call: torch.nn.functional, linalg, fft, indexing."""
    import torch.nn.functional as F

    torch.manual_seed(0)
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    v = torch.rand(4, 6, requires_grad=True)
    m = torch.rand(3, 3, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
    m.requires_grad_()
    t = torch.tensor([1, 0, 2, 3])
    p = torch.rand(4, 6)
    return [
        F.l1_loss(v, p), F.smooth_l1_loss(v, p), F.huber_loss(v, p), F.kl_div(v.log_softmax(1), p, reduction="batchmean"),
        F.binary_cross_entropy(v.sigmoid(), p), F.binary_cross_entropy_with_logits(v, p),
        F.cross_entropy(v, t, label_smoothing=0.1), F.cosine_embedding_loss(v, v.flip(0), torch.ones(4)),
        F.margin_ranking_loss(v[0], v[1], torch.ones(6)), F.triplet_margin_loss(v, v * 2, v + 1),
        F.elu(v), F.selu(v), F.celu(v), F.softplus(v), F.softsign(v), F.hardswish(v), F.mish(v),
        F.silu(v), F.glu(v), F.logsigmoid(v), F.hardsigmoid(v), F.leaky_relu(v), F.hardtanh(v),
        F.conv1d(v[None], torch.rand(2, 4, 3, requires_grad=True)),
        F.conv_transpose2d(x, torch.rand(3, 2, 3, 3, requires_grad=True)),
        F.conv3d(x[None], torch.rand(1, 2, 1, 3, 3, requires_grad=True)),
        F.avg_pool2d(x, 2), F.max_pool1d(v[None], 2), F.adaptive_max_pool2d(x, 3), F.lp_pool2d(x, 2, 2),
        F.interpolate(x, scale_factor=2, mode="bilinear"), F.interpolate(x, size=5, mode="bicubic"),
        F.interpolate(x, scale_factor=2, mode="nearest"), F.pad(x, (1, 1, 1, 1), mode="reflect"),
        F.pad(v[None], (1, 1), mode="replicate"), F.pad(x, (1, 1, 1, 1), mode="circular"), F.normalize(v),
        F.dropout(v, 0.3), F.linear(v, torch.rand(5, 6, requires_grad=True)),
        F.grid_sample(x, torch.rand(2, 4, 4, 2) * 2 - 1, align_corners=False), F.pixel_shuffle(x[:, :1].repeat(1, 4, 1, 1), 2),
        F.unfold(x, 3), F.fold(F.unfold(x, 3), (8, 8), 3), F.cosine_similarity(v, p), F.pairwise_distance(v, p),
        F.group_norm(x, 3), F.instance_norm(x), F.local_response_norm(x, 2), F.embedding_bag(t[None], v),
        torch.linalg.inv(m), torch.linalg.det(m), torch.linalg.svd(m)[1], torch.linalg.qr(m)[1],
        torch.linalg.cholesky(m @ m.T), torch.linalg.eigh(m + m.T)[0], torch.linalg.solve(m, m[0]),
        torch.linalg.norm(m), torch.fft.rfft(v).abs(), torch.einsum("ij,kj->ik", v, v),
        v.cumsum(1), v.sort(1)[0], v.topk(2)[0], v[t], v[v > 0.5], v.scatter(1, t[:, None], 1.0),
        v.masked_select(v > 0.5), torch.take_along_dim(v, t[:, None], 1), torch.where(v > 0.5, v, -v),
        torch.lerp(v, p, 0.3), v.sin().cos().tan(), v.lgamma(), v.erf(), v.clamp_min(0.5), v.amax(1),
        v.std(1), v.var(), v.norm(), v.prod(1), v.logsumexp(1), v.max(1)[0], v.min(), v.median(),
        torch.cdist(v, p), torch.kron(m, m), torch.trace(m), torch.diag(m), m.triu(), v.roll(1, 0),
        v.unflatten(1, (2, 3)), v.chunk(2)[1], v.split(2)[0], v.unbind()[0], v.narrow(1, 1, 2),
        v.movedim(0, 1), v.flatten(), v.repeat_interleave(2, 0), torch.atan2(v, p + 1), v.float().half(),
    ]


def test_a_broad_sample_of_functional_nodes_resolves():
    nodes = walk([out.sum() if out.is_floating_point() or out.is_complex() else out for out in _functional_outputs()])
    assert len({fn.name() for fn in nodes}) > 100  # distinct node classes
    for fn in nodes:
        name = plain_name(fn.name())
        entry = backward_entry(name)
        if entry is None:
            assert no_formula_reason(name), name
            assert name in ("AccumulateGrad", "CopySlices"), name  # nothing else here is hand-written
            continue
        assert type(fn).__name__ == name
        assert input_slots(name, len(fn.next_functions)) is not None, name
        attributes = {a.removeprefix("_saved_") for a in dir(type(fn)) if a.startswith("_saved_")}
        assert attributes <= {s.name for d in entry.derivatives for s in d.saved}, name
