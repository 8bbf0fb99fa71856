"""Gradient flow on real models: the norms gradstep reports are torch's own (the same
snippet run plainly, ``p.grad.norm()``), and the thresholds flag the networks they should."""

from __future__ import annotations

import contextlib
import importlib.util
import io

import pytest
import torch

from gradstep.autograd.findings import diagnose
from gradstep.autograd.session import Session

MLP = """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
loss = F.mse_loss(model(torch.randn(16, 4)), torch.randn(16, 1))
loss.backward()
"""

SMALL_CNN = """\
torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Linear(8, 10),
)
loss = F.cross_entropy(net(torch.rand(4, 3, 16, 16)), torch.tensor([1, 3, 0, 9]))
loss.backward()
"""

TRANSFORMER_LAYER = """\
torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True,
                                   dropout=0.0)
x = torch.randn(2, 5, 16)
loss = F.mse_loss(layer(x), torch.randn(2, 5, 16))
loss.backward()
"""

LSTM = """\
torch.manual_seed(0)
lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
out, (h, c) = lstm(torch.randn(3, 5, 8))
loss = out.pow(2).mean() + h.sum()
loss.backward()
"""

RESNET18 = """\
import torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
loss = F.cross_entropy(model(torch.rand(2, 3, 64, 64)), torch.tensor([1, 7]))
loss.backward()
"""

GPT2 = """\
from transformers import GPT2Config, GPT2LMHeadModel
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=64,
                                   n_positions=16, bos_token_id=0, eos_token_id=0))
ids = torch.randint(0, 64, (2, 8))
loss = model(ids, labels=ids).loss
loss.backward()
"""


def deep_mlp(activation: str, init: str = "", depth: int = 10) -> str:
    """A ``depth``-layer MLP snippet (width 64, batch 64) with an optional init line."""
    return f"""\
torch.manual_seed(0)
layers = []
for i in range({depth}):
    linear = nn.Linear(64 if i else 16, 64)
    {init or "pass"}
    layers += [linear, nn.{activation}()]
model = nn.Sequential(*layers, nn.Linear(64, 1))
loss = F.mse_loss(model(torch.randn(64, 16)), torch.randn(64, 1))
loss.backward()
"""


KAIMING = "nn.init.kaiming_normal_(linear.weight, nonlinearity='relu'); nn.init.zeros_(linear.bias)"


def flow(source: str):
    session = Session()
    result = session.run(source)
    assert result["ok"], result["error"]
    stats = session.grad_stats()
    passes = [c["timeline"] for c in result["calls"] if c.get("timeline")][:1]
    return session, stats, diagnose(result["trace"], passes, stats)


def torchvision_ready() -> bool:
    """Import torchvision, declaring its two compiled ops when the CPU torch lacks them."""
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        import torchvision  # noqa: F401
    except RuntimeError:
        library = torch.library.Library("torchvision", "DEF")
        for op in ("nms", "qnms"):
            library.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _LIBRARIES.append(library)
        import torchvision  # noqa: F401
    return True


_LIBRARIES: list = []  # kept alive: dropping a Library removes its definitions


def models():
    yield pytest.param(MLP, id="MLP")
    yield pytest.param(SMALL_CNN, id="small CNN")
    yield pytest.param(TRANSFORMER_LAYER, id="TransformerEncoderLayer")
    yield pytest.param(LSTM, id="LSTM")
    yield pytest.param(RESNET18, id="ResNet-18", marks=pytest.mark.slow)
    yield pytest.param(GPT2, id="GPT-2 (2 layers, random init)", marks=pytest.mark.slow)


@pytest.mark.parametrize("source", list(models()))
def test_gradient_norms_are_torch_s(source, monkeypatch):
    if "torchvision" in source and not torchvision_ready():
        pytest.skip("torchvision is not installed")
    if "transformers" in source:
        pytest.importorskip("transformers")
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    session, stats, diagnosis = flow(source)
    plain = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "__name__": "__main__"}
    exec(compile(source, "<plain>", "exec"), plain)
    module_name = next(k for k, v in plain.items() if isinstance(v, torch.nn.Module))
    expected = {name: p.grad.norm().item() for name, p in plain[module_name].named_parameters()
                if p.grad is not None}
    ours = {p["label"]: p["grad_norm"] for p in stats["params"] if p["grad_norm"] is not None}
    assert ours == expected  # the same numbers, to the last bit
    weights = {name: p.norm().item() for name, p in plain[module_name].named_parameters()}
    assert {p["label"]: p["weight_norm"] for p in stats["params"]} == weights
    zeros = {name: int((p.grad == 0).sum()) for name, p in plain[module_name].named_parameters()
             if p.grad is not None}
    assert {p["label"]: p["zeros"] for p in stats["params"] if p["grad_norm"] is not None} == zeros
    assert not [f for f in diagnosis.findings if f.kind in ("vanishing", "exploding")]


def test_rows_run_from_the_input_to_the_output():
    _session, _stats, diagnosis = flow(deep_mlp("ReLU", KAIMING, depth=3))
    assert [r.name for r in diagnosis.rows] == ["0", "2", "4", "6"]
    assert [r.name for r in diagnosis.params][:2] == ["0.weight", "0.bias"]


def test_deep_sigmoid_mlp_vanishes_and_a_well_initialised_one_does_not():
    _session, _stats, sigmoid = flow(deep_mlp("Sigmoid"))
    vanishing = [f.label for f in sigmoid.findings if f.kind == "vanishing"]
    assert vanishing[:2] == ["0", "2"] and len(vanishing) >= 4  # the input side
    assert "18" not in vanishing and "20" not in vanishing  # the output side learns
    ratios = [r.ratio for r in sigmoid.rows]
    assert ratios[0] < 1e-6 * ratios[-1]  # torch's own numbers, several orders apart
    _session, _stats, kaiming = flow(deep_mlp("ReLU", KAIMING))
    assert not [f for f in kaiming.findings if f.kind in ("vanishing", "exploding")]
    assert not sigmoid.failed and not kaiming.failed  # warnings only


def test_exploding_and_dead_layers_are_flagged():
    big = KAIMING + "; linear.weight.data *= 2"
    _session, _stats, exploding = flow(deep_mlp("ReLU", big))
    assert {f.label for f in exploding.findings if f.kind == "exploding"} >= {"0", "2", "4"}
    dead = "nn.init.constant_(linear.bias, -10.0 if i == 2 else 0.0)"
    _session, _stats, diagnosis = flow(deep_mlp("ReLU", dead, depth=3))
    flagged = {f.label: f for f in diagnosis.findings if f.kind == "dead"}
    assert "4" in flagged and flagged["4"].extra["zero_fraction"] == 1.0  # after the dead ReLU


def test_an_embedding_table_s_unused_rows_are_not_dead_units():
    """An embedding's gradient is zero on the rows of ids not in the batch (torch's own
    ``.grad``): a BERT's word, position and token-type tables were flagged "dead ReLUs?"
    (78%, 50%, 50%). The zeros column keeps torch's count; no dead finding. A table that
    an output layer shares (tied weights) is read by a matmul too and stays checked."""
    source = """\
torch.manual_seed(0)
table = nn.Embedding(16, 4)
head = nn.Linear(4, 3)
loss = head(table(torch.tensor([[1, 2], [2, 5]]))).square().mean()
loss.backward()
"""
    _session, _stats, diagnosis = flow(source)
    plain = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(source, "<plain>", "exec"), plain)
    zeros = (plain["table"].weight.grad == 0).float().mean().item()
    rows = {row.name: row for row in diagnosis.rows}
    assert rows["table"].zero_fraction == zeros == 13 / 16  # ids 1, 2, 5 of 16
    assert rows["table"].lookup and not rows["head"].lookup
    assert not [f for f in diagnosis.findings if f.kind == "dead"]
    tied = source.replace("head(table(", "F.linear(table(").replace(
        "[2, 5]]))).square()", "[2, 5]])), table.weight).square()")
    _session, _stats, diagnosis = flow(tied)
    assert not diagnosis.rows[0].lookup  # read by the matmul as well: a dense gradient


def test_weights_an_optimizer_step_wrote_after_the_pass_are_said_to_be_new():
    """check reads |weight| when the snippet has ended: after ``opt.step()`` a ResNet-18
    trained at lr=1e6 showed every ratio as 1e-6 (1/lr; the pass's weights give 1e4)
    and nothing exploding. The rows say their weights were written after the pass."""
    from gradstep.commands.check import format_report

    source = """\
torch.manual_seed(0)
model = nn.Linear(3, 2)
for step in range(2):
    model.zero_grad()
    loss = model(torch.ones(4, 3)).square().mean()
    loss.backward()
    {after}
loss
"""  # (a step by hand, as SGD's: torch.optim's first use costs a second of imports)
    stepped = source.format(after="with torch.no_grad(): [p.sub_(1e6 * p.grad) for p in "
                                  "model.parameters()]")
    _session, stats, diagnosis = flow(stepped)
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(stepped, "<plain>", "exec"), plain)
    weights = {n: p.norm().item() for n, p in plain["model"].named_parameters()}
    assert {p["label"]: p["weight_norm"] for p in stats["params"]} == weights  # torch's, now
    assert [p["written_after"] for p in stats["params"]] == [True, True]
    assert diagnosis.rows[0].written_after
    text = format_report(diagnosis, {"nodes": []})
    assert "2 of these layers were written in place after the first recorded backward" in text
    assert [p["written_during"] for p in stats["params"]] == [False, False]
    _session, stats, diagnosis = flow(source.format(after="pass"))  # no step after the pass
    assert [p["written_after"] for p in stats["params"]] == [False, False]
    assert "written in place" not in format_report(diagnosis, {"nodes": []})


def test_weights_a_hook_s_step_wrote_during_the_pass_are_said_to_be_written_during_it():
    """An optimizer step in a post-accumulate-grad hook writes the weights while the call
    runs: check says "during" that call (after it only: "after"; both: "during or after"),
    each leaf's version against a plain run of the same snippet."""
    from gradstep.commands.check import format_report

    source = """\
torch.manual_seed(0)
model = nn.Linear(3, 2)
def step(t):
    t.data.sub_(0.5 * t.grad)
for p in {stepped}:
    p.register_post_accumulate_grad_hook(step)
loss = model(torch.ones(4, 3)).square().mean()
began = [p._version for p in model.parameters()]
loss.backward()
{after}
"""
    during = source.format(stepped="model.parameters()", after="")
    _session, stats, diagnosis = flow(during)
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(during, "<plain>", "exec"), plain)
    assert [p._version for p in plain["model"].parameters()] == plain["began"]  # p.data
    assert [p["written_during"] for p in stats["params"]] == [True, True]
    text = format_report(diagnosis, {"nodes": []})
    assert "2 of these layers were written in place during a recorded backward call" in text
    both = source.format(stepped="[model.weight]",
                         after="with torch.no_grad(): model.bias.sub_(model.bias.grad)")
    _session, stats, diagnosis = flow(both)
    assert {p["label"]: p["written_during"] for p in stats["params"]} == {
        "weight": True, "bias": False}
    assert all(p["written_after"] for p in stats["params"])
    text = format_report(diagnosis, {"nodes": []})
    assert ("2 of these layers were written in place during a recorded backward call "
            "made after this graph's forward, or after the first such call") in text


def test_a_write_during_another_graph_s_call_is_not_said_to_be_through_this_graph():
    """The graph shown is ``loss_a``'s; the hook's step wrote ``p`` during a later call
    through another graph (torch: ``p`` unchanged by ``loss_a``'s call, written in the next
    one). check said "during a recorded backward call through this graph": it says what is
    known, a call made after this graph's forward."""
    from gradstep.commands.check import format_report

    source = """\
p = nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
opt = torch.optim.SGD([p], lr=0.1)
loss_a = (p * p).sum()
loss_a.backward()
after_a = p._version
p.register_post_accumulate_grad_hook(lambda t: opt.step())
(p * 3).sum().backward()
"""
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(source, "<plain>", "exec"), plain)
    assert plain["after_a"] == 0 < plain["p"]._version  # written in the other graph's call
    session, stats, diagnosis = flow(source)
    result = session.run(source)  # the older graph is shown
    assert [n["label"] for n in result["trace"]["nodes"]][0] == "loss_a"
    assert [p["written_during"] for p in stats["params"]] == [True]
    text = format_report(diagnosis, {"nodes": []})
    assert "through this graph" not in text
    assert ("1 of these layers were written in place during a recorded backward call made "
            "after this graph's forward") in text


def test_a_dead_layer_behind_an_embedding_is_still_flagged():
    """The lookup rule spares the table alone: a Linear after it whose ReLU is off for
    every token (bias -10), and the head that reads only those zeros, are flagged dead
    exactly where torch's own ``.grad`` is half zero or more."""
    source = """\
torch.manual_seed(0)
table = nn.Embedding(16, 8)
hidden = nn.Linear(8, 8)
nn.init.constant_(hidden.bias, -10.0)
head = nn.Linear(8, 1)
loss = head(torch.relu(hidden(table(torch.tensor([1, 2, 5]))))).square().mean()
loss.backward()
"""
    _session, _stats, diagnosis = flow(source)
    plain = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(source, "<plain>", "exec"), plain)
    modules = ("table", "hidden", "head")
    share = {name: sum(int((p.grad == 0).sum()) for p in plain[name].parameters())
             / sum(p.numel() for p in plain[name].parameters()) for name in modules}
    assert share["table"] >= 0.5 and share["hidden"] >= 0.5  # torch: both half zero or more
    assert {f.label for f in diagnosis.findings if f.kind == "dead"} == {
        name for name in modules if name != "table" and share[name] >= 0.5}
    assert "hidden" in {f.label for f in diagnosis.findings if f.kind == "dead"}


def test_weights_a_step_through_data_wrote_after_the_pass_are_said_to_be_new():
    """``p.data.sub_(lr * p.grad)`` (many tutorials' step) and torch's fused optimizers
    (``fused=True``) write the weights without moving ``p._version``: check passed their
    ratios off as the pass's. The norm noted at the pass sees the write."""
    source = """\
torch.manual_seed(0)
model = nn.Linear(3, 2)
loss = model(torch.ones(4, 3)).square().mean()
loss.backward()
versions = [p._version for p in model.parameters()]
norms = [p.norm().item() for p in model.parameters()]
for p in model.parameters():
    p.data.sub_(0.5 * p.grad)
"""
    _session, stats, diagnosis = flow(source)
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(source, "<plain>", "exec"), plain)
    params = list(plain["model"].parameters())
    assert [p._version for p in params] == plain["versions"]  # torch's counter did not move
    assert [p.norm().item() for p in params] != plain["norms"]  # the weights did
    assert [p["written_after"] for p in stats["params"]] == [True, True]
    assert diagnosis.rows[0].written_after


def test_a_norm_the_note_cannot_take_never_fails_the_snippet_s_call(monkeypatch):
    """The note at a recorded call takes each leaf's norm; where torch cannot (the device
    out of memory) the call still returns torch's result, and only the note is left out."""
    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")

    source = """\
w = torch.ones(3, requires_grad=True)
loss = (w * 2).sum()
loss.backward()
print(w.grad.tolist())
loss
"""
    with monkeypatch.context() as patch:
        patch.setattr(torch.linalg, "vector_norm", out_of_memory)
        result = Session().run(source)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "<plain>", "exec"), {"torch": torch})
    assert result["ok"], result["error"]
    assert result["output"] == printed.getvalue()  # the gradient python prints
