"""Print the numbers behind `gradstep check`: detect_anomaly side by side with gradstep
on the planted NaN/Inf sources, and the gradient-flow ratios the thresholds rest on.

    .venv/bin/python scripts/diagnose_numbers.py [--flow] [--anomaly]

Planted sources: tests/autograd/planted.py (the tests assert the same). Flow: seeded
models, batch 64 unless said, loss F.mse_loss / cross entropy, parameters folded by
module as `check` folds them (gradstep/autograd/grad_flow.py); ResNet-18 and GPT-2 when
torchvision / transformers import.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def anomaly_table() -> None:
    from gradstep.autograd.elements import torch_words
    from gradstep.autograd.findings import diagnose
    from gradstep.autograd.session import Session
    from tests.autograd.anomaly_oracle import detect_anomaly_report
    from tests.autograd.planted import PLANTED

    print("| planted source | detect_anomaly names | gradstep check finds |")
    print("| --- | --- | --- |")
    for case, planted in PLANTED.items():
        report = detect_anomaly_report(planted.source)
        session = Session()
        result = session.run(planted.source)
        passes = [c["timeline"] for c in result["calls"] if c.get("timeline")][:1]
        with torch_words():  # as check's text report writes it
            first = diagnose(result["trace"], passes).nonfinite()[0]
        theirs = f"`{report.node}`, line {report.line}" if report.node else "nothing (no NaN in backward)"
        ours = f"`{first.kind}` at `{first.name}`, line {first.line}: {first.cause}"
        print(f"| {case} | {theirs} | {ours} |")


def flow_table() -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    def mlp(activation, depth=10, init=None):
        layers = []
        for i in range(depth):
            linear = nn.Linear(64 if i else 16, 64)
            if init:
                init(linear)
            layers += [linear, activation()]
        return nn.Sequential(*layers, nn.Linear(64, 1))

    def kaiming(linear, gain=1.0):
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        linear.weight.data *= gain
        nn.init.zeros_(linear.bias)

    def xavier_tanh(linear):
        nn.init.xavier_normal_(linear.weight, gain=5 / 3)
        nn.init.zeros_(linear.bias)

    def regression(model):
        return F.mse_loss(model(torch.randn(64, 16)), torch.randn(64, 1))

    cases = [
        ("sigmoid MLP, 10 layers, default init", lambda: mlp(nn.Sigmoid), regression),
        ("sigmoid MLP, 6 layers, default init", lambda: mlp(nn.Sigmoid, 6), regression),
        ("ReLU MLP, 10 layers, default init", lambda: mlp(nn.ReLU), regression),
        ("ReLU MLP, 10 layers, Kaiming", lambda: mlp(nn.ReLU, init=kaiming), regression),
        ("tanh MLP, 10 layers, Xavier", lambda: mlp(nn.Tanh, init=xavier_tanh), regression),
        ("ReLU MLP, 10 layers, 2x Kaiming", lambda: mlp(nn.ReLU, init=lambda m: kaiming(m, 2.0)),
         regression),
        ("small CNN (batch 8)", _small_cnn, _cnn_loss),
    ]
    cases += _optional_models()
    print("| model | smallest ratio / largest | smallest / median | largest ratio |")
    print("| --- | --- | --- | --- |")
    for name, build, loss_of in cases:
        torch.manual_seed(0)
        model = build()
        loss_of(model).backward()
        ratios = _module_ratios(model)
        values = sorted(ratios.values())
        median = values[len(values) // 2]
        print(f"| {name} | {values[0] / values[-1]:.2g} | {values[0] / median:.2g} | {values[-1]:.3g} |")


def _module_ratios(model) -> dict:
    groups: dict = {}
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        g = groups.setdefault(name.rpartition(".")[0], [0.0, 0.0])
        g[0] += p.grad.norm().item() ** 2
        g[1] += p.norm().item() ** 2
    return {k: math.sqrt(a) / math.sqrt(b) for k, (a, b) in groups.items() if b > 0}


def _small_cnn():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 10))


def _cnn_loss(model):
    import torch
    import torch.nn.functional as F

    return F.cross_entropy(model(torch.rand(8, 3, 16, 16)), torch.randint(0, 10, (8,)))


def _optional_models() -> list:
    import torch
    import torch.nn.functional as F

    cases = []
    from tests.autograd.test_grad_flow import torchvision_ready

    if torchvision_ready():
        import torchvision

        cases.append(("ResNet-18 (batch 4, 64x64)", lambda: torchvision.models.resnet18(num_classes=10),
                      lambda m: F.cross_entropy(m(torch.rand(4, 3, 64, 64)), torch.tensor([1, 2, 3, 4]))))
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        return cases
    config = GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=64, n_positions=16,
                        bos_token_id=0, eos_token_id=0)
    ids = torch.randint(0, 64, (2, 8), generator=torch.Generator().manual_seed(0))
    cases.append(("GPT-2, 2 layers, random init", lambda: GPT2LMHeadModel(config),
                  lambda m: m(ids, labels=ids).loss))
    return cases


def main(argv: list[str]) -> None:
    both = not argv
    if both or "--anomaly" in argv:
        anomaly_table()
        print()
    if both or "--flow" in argv:
        flow_table()


if __name__ == "__main__":
    main(sys.argv[1:])
