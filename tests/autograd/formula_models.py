"""Real graphs for checking formula coverage: the seed lessons and a few real models.

Used by tests/autograd/test_formula_coverage.py and scripts/formula_coverage.py
(which prints the numbers). Models are small and seeded so a run takes seconds.
"""

from __future__ import annotations

import importlib.util
from collections import Counter

import torch
import torch.nn.functional as F
from torch import nn

from gradstep.autograd.formula_math import node_math
from gradstep.autograd.formulas import backward_entry, no_formula_reason, plain_name
from gradstep.examples import EXAMPLES_DIR


def walk(roots) -> list:
    """Return every grad_fn reachable from ``roots`` (tensors), each once, with an explicit stack."""
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    seen: dict[int, object] = {}
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        stack.extend(nxt for nxt, _ in fn.next_functions if nxt is not None)
    return list(seen.values())


def small_cnn() -> list:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Dropout(0.1), nn.Linear(8, 10),
    )
    loss = F.cross_entropy(net(torch.rand(2, 3, 16, 16)), torch.tensor([1, 3]))
    return walk([loss])


def transformer_encoder_layer() -> list:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True)
    return walk([layer(torch.rand(2, 5, 16)).sum()])


def lstm() -> list:
    torch.manual_seed(0)
    model = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    out, (h, c) = model(torch.rand(2, 5, 8))
    return walk([out.sum() + h.sum() + c.sum()])


def attention_and_embedding() -> list:
    torch.manual_seed(0)
    embed, attention = nn.Embedding(20, 16), nn.MultiheadAttention(16, 2, batch_first=True)
    x = F.layer_norm(embed(torch.tensor([[1, 5, 7], [2, 2, 9]])), (16,))
    y, _ = attention(x, x, x)
    z = F.scaled_dot_product_attention(y, y, y, is_causal=True)
    return walk([F.gelu(z).mean()])


def resnet18() -> list | None:
    """ResNet-18 from torchvision, or None when torchvision cannot be imported."""
    if importlib.util.find_spec("torchvision") is None:
        return None
    try:
        import torchvision
    except RuntimeError as exc:  # the CUDA wheel on CPU torch: its compiled ops are missing
        if "torchvision::nms" not in str(exc):
            return None
        try:  # declaring the two ops its import registers fakes for is enough for the models
            library = torch.library.Library("torchvision", "DEF")
            for op in ("nms", "qnms"):
                library.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            import torchvision
        except Exception:
            return None
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    return walk([model(torch.rand(1, 3, 64, 64)).sum()])


MODELS = {
    "small CNN": small_cnn,
    "nn.TransformerEncoderLayer": transformer_encoder_layer,
    "nn.LSTM (2 layers)": lstm,
    "embedding + MultiheadAttention + SDPA": attention_and_embedding,
    "torchvision ResNet-18": resnet18,
}


def lesson_node_names() -> dict[str, list[str]]:
    """Return the node names of each seed lesson's traced graph (through gradstep's Session)."""
    from gradstep.autograd.session import Session

    names = {}
    for path in sorted(EXAMPLES_DIR.glob("*.py")):
        result = Session().run(path.read_text(encoding="utf-8"), filename=str(path))
        nodes = (result.get("trace") or {}).get("nodes", [])
        call_nodes = [n for call in result.get("calls", []) for n in call.get("nodes", [])]
        names[path.stem] = [n["name"] for n in nodes + call_nodes]
    return names


def coverage(names) -> dict:
    """Count, over node names: ``nodes`` (all), ``ops`` (not AccumulateGrad), ``formula``
    (a derivatives.yaml entry), ``readable`` (a readable formula too), ``explained`` (no
    formula but a reason), and ``missing_readable`` (op classes without a readable formula)."""
    names = [plain_name(n) for n in names]
    ops = [n for n in names if n != "AccumulateGrad"]
    with_formula = [n for n in ops if backward_entry(n) is not None]
    return {
        "nodes": len(names),
        "ops": len(ops),
        "formula": len(with_formula),
        "readable": sum(1 for n in with_formula if node_math(n) is not None),
        "explained": sum(1 for n in names if backward_entry(n) is None and no_formula_reason(n)),
        "missing_readable": sorted(Counter(n for n in with_formula if node_math(n) is None)),
    }


def run_coverage(result: dict) -> dict:
    """Count the formulas of every op node of a run (``Session.run``'s result): the drawn
    graph's nodes and those of the snippet's backward calls on other graphs, each once.

    ``ops``: op nodes; ``formula``: with torch's formula (the trace's ``formula`` field);
    ``readable``: with a readable one too; ``custom``: custom autograd.Functions (their
    backward's source is shown); ``explained``: hand-written nodes without a formula and
    a reason (CopySlices, ...); ``unresolved``: names gradstep knows nothing about (should
    be none); ``missing_readable``: op classes with torch's formula but no readable one.
    """
    trace = result.get("trace") or {}
    names = {n["id"]: n["name"] for n in trace.get("nodes", []) if n.get("kind") == "op"}
    seen_calls = set()
    for call in result.get("calls") or []:
        for node in call.get("nodes") or []:
            key = (call.get("index"), node["id"])
            if node["id"] not in names and key not in seen_calls and node["name"] != "AccumulateGrad":
                seen_calls.add(key)
                names[f"call{call.get('index')}:{node['id']}"] = node["name"]
    counts = Counter()
    missing: Counter = Counter()
    for name in names.values():
        plain = plain_name(name)
        counts["ops"] += 1
        if backward_entry(plain) is not None:
            counts["formula"] += 1
            if node_math(plain) is not None:
                counts["readable"] += 1
            else:
                missing[plain] += 1
            continue
        reason = no_formula_reason(plain) or ""
        if "custom torch.autograd.Function" in reason:
            counts["custom"] += 1
        elif reason.startswith("not made from torch's derivatives.yaml"):
            counts["unresolved"] += 1
        else:
            counts["explained"] += 1
    return {key: counts[key] for key in ("ops", "formula", "readable", "custom", "explained",
                                         "unresolved")} | {"missing_readable": sorted(missing)}
