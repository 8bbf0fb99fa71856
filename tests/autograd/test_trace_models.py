"""Whole snippets through Session.run, checked against torch's graph and values."""

from __future__ import annotations

import json

import pytest

from gradstep.autograd.session import Session
from tests.autograd.trace_oracle import assert_matches_torch, data_close

SEED_MSE = """
x = torch.ones(1)
w = torch.full([1], 2., requires_grad=True)
mse = F.mse_loss(torch.ones(1), x*w)
"""

CNN = """
from torch.nn import Sequential, Conv2d, MaxPool2d, Flatten, Linear
torch.manual_seed(0)

class MyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.model1 = Sequential(
            Conv2d(3, 32, 5, padding=2), MaxPool2d(2),
            Conv2d(32, 32, 5, padding=2), MaxPool2d(2),
            Conv2d(32, 64, 5, padding=2), MaxPool2d(2),
            Flatten(), Linear(1024, 64), Linear(64, 10),
        )

    def forward(self, x):
        x = self.model1(x)
        return x

loss = nn.CrossEntropyLoss()
net = MyNet()
imgs = torch.randn(1, 3, 32, 32)
targets = torch.tensor([3])
outputs = net(imgs)
res_loss = loss(outputs, targets)
"""


def run(source: str, **kw) -> tuple[Session, dict]:
    session = Session()
    result = session.run(source, **kw)
    json.dumps(result, allow_nan=False)  # plain, strict data
    assert result["ok"], result["error"]
    return session, result


def nodes_by_label(trace: dict) -> dict:
    return {n["label"]: n for n in trace["nodes"]}


def test_seed_mse():
    session, result = run(SEED_MSE)
    trace = result["trace"]
    ns = session.state.namespace
    assert_matches_torch(trace, ns["mse"])
    labels = nodes_by_label(trace)
    assert labels["mse"]["value"]["data"] == ns["mse"].item() == 1.0
    assert labels["w"]["kind"] == "leaf" and labels["w"]["value"]["data"] == [2.0]
    assert labels["mul"]["value"]["data"] == (ns["x"] * ns["w"]).tolist()
    assert result["root_name"] == "mse"


def test_cnn_named_modules_scopes_and_values():
    session, result = run(CNN)
    trace, ns = result["trace"], session.state.namespace
    assert_matches_torch(trace, ns["res_loss"])
    leaves = {n["label"] for n in trace["nodes"] if n["kind"] == "leaf"}
    assert leaves == {name for name, _ in ns["net"].named_parameters()}
    assert "model1.0.weight" in leaves and "model1.8.bias" in leaves
    scopes = {n["scope"] for n in trace["nodes"] if n["kind"] == "op"}
    assert {"model1.0", "model1.1", "model1.6", "model1.7", "model1.8", "loss"} <= scopes
    root = trace["nodes"][0]
    assert root["label"] == "res_loss" and root["scope"] == "loss"
    assert data_close(root["value"]["data"], ns["res_loss"])
    # the logits: recomputed here by torch, compared with what the recorder kept
    outputs = next(n for n in trace["nodes"] if n["label"] == "outputs")
    assert outputs["scope"] == "model1.8" and outputs["shape"] == [1, 10]
    assert data_close(outputs["value"]["data"], ns["net"](ns["imgs"]))
    conv = next(n for n in trace["nodes"] if n["scope"] == "model1.0")
    assert conv["name"] == "ConvolutionBackward0" and conv["shape"] == [1, 32, 32, 32]
    expected = ns["net"].model1[0](ns["imgs"])
    assert "data" not in conv["value"]  # large: summary only
    # a summary shows what the snippet's own x.mean() and x.std() print, to the last bit
    assert (conv["value"]["mean"], conv["value"]["std"]) == (expected.mean().item(), expected.std().item())
    assert conv["value"]["max"] == expected.max().item()
    params = dict(ns["net"].named_parameters())
    large = [n for n in trace["nodes"] if n["kind"] == "leaf" and "data" not in n["value"]]
    assert len(large) >= 4
    for leaf in large:
        p = params[leaf["label"]]
        assert (leaf["value"]["mean"], leaf["value"]["std"]) == (p.mean().item(), p.std().item())


def test_two_models_get_their_variable_names_as_prefix():
    source = """
a = nn.Linear(2, 2)
b = nn.Sequential(nn.Linear(2, 1))
y = b(a(torch.ones(1, 2))).sum()
"""
    session, result = run(source)
    leaves = {n["label"] for n in result["trace"]["nodes"] if n["kind"] == "leaf"}
    assert leaves == {"a.weight", "a.bias", "b.0.weight", "b.0.bias"}
    assert {n["scope"] for n in result["trace"]["nodes"]} >= {"a", "b.0"}


def test_lstm():
    source = """
torch.manual_seed(0)
lstm = nn.LSTM(4, 3, num_layers=2)
x = torch.randn(5, 2, 4)
out, (h, c) = lstm(x)
loss = out.pow(2).mean() + h.sum()
"""
    session, result = run(source)
    ns = session.state.namespace
    assert_matches_torch(result["trace"], ns["loss"])
    leaves = {n["label"] for n in result["trace"]["nodes"] if n["kind"] == "leaf"}
    assert leaves == {name for name, _ in ns["lstm"].named_parameters()}
    out_node = nodes_by_label(result["trace"])["out"]
    assert out_node["scope"] == "" and out_node["shape"] == [5, 2, 3]
    assert out_node["value"]["mean"] == pytest.approx(ns["out"].mean().item(), abs=1e-6)


TRANSFORMER = """
torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
src = torch.randn(3, 2, 8)
y = layer(src)
loss = y.square().mean()
"""


def test_transformer_encoder_layer():
    session, result = run(TRANSFORMER)
    ns = session.state.namespace
    nodes = assert_matches_torch(result["trace"], ns["loss"])
    assert len(nodes) > 30
    scopes = {n["scope"] for n in result["trace"]["nodes"]}
    assert {"self_attn", "linear1", "norm2"} <= scopes
    # nodes made inside one torch call (F.multi_head_attention_forward) get their scope
    # from the module call whose span of sequence numbers holds them
    inner = [n for n in result["trace"]["nodes"] if n["name"].startswith("ScaledDotProduct")]
    assert inner and all(n["scope"] == "self_attn" and n["shape"] for n in inner)
    for node in result["trace"]["nodes"]:
        assert node["value"] is None or node["value"]["shape"] == node["shape"], node
    leaf_scopes = {n["label"]: n["scope"] for n in result["trace"]["nodes"] if n["kind"] == "leaf"}
    assert leaf_scopes["self_attn.out_proj.weight"] == "self_attn.out_proj"
    assert leaf_scopes["linear1.bias"] == "linear1"
    y = nodes_by_label(result["trace"])["y"]
    assert y["value"]["mean"] == pytest.approx(ns["y"].mean().item(), abs=1e-6)
    # the saved result of the attention softmax is that node's own output
    fn_by_id = session.state.trace.node_of
    for node in result["trace"]["nodes"]:
        if node["name"] == "SoftmaxBackward0" and node["value"] is not None:
            want = fn_by_id[node["id"]]._saved_result
            assert node["value"]["max"] == want.max().item()
            assert node["value"]["mean"] == pytest.approx(want.mean().item(), abs=1e-7)


def test_deep_values_add_values_and_agree_where_both_have_one():
    """--deep-values sees every torch call (it may change kernels: not the default)."""
    _, faithful = run(TRANSFORMER)
    _, deep = run(TRANSFORMER, deep_values=True)
    assert [n["name"] for n in deep["trace"]["nodes"]] == [n["name"] for n in faithful["trace"]["nodes"]]
    plain = {n["id"]: n["value"] for n in faithful["trace"]["nodes"] if n["value"] is not None}
    more = {n["id"]: n["value"] for n in deep["trace"]["nodes"] if n["value"] is not None}
    assert len(more) > len(plain)
    for node_id, value in plain.items():
        if node_id in more:
            assert more[node_id] == value, node_id


def test_in_place_does_not_rewrite_recorded_history():
    source = """
w = torch.tensor([1., 2., 3.], requires_grad=True)
a = w * 2
kept = a.detach().clone()
b = a + 1
a.mul_(10)
a[0] = 7.
total = (a * b).sum()
"""
    session, result = run(source)
    ns = session.state.namespace
    nodes = assert_matches_torch(result["trace"], ns["total"])
    names = [n["name"] for n in result["trace"]["nodes"]]
    assert "CopySlices" in names
    by_name = {}
    for node in result["trace"]["nodes"]:
        by_name.setdefault(node["name"], []).append(node)
    first_mul = [n for n in by_name["MulBackward0"] if n["label"] == "a"]
    assert first_mul and first_mul[0]["value"]["data"] == ns["kept"].tolist()
    copy = by_name["CopySlices"][0]
    assert copy["value"]["data"] == ns["a"].tolist()
    assert len(nodes) == len(result["trace"]["nodes"])


def test_rebound_names_label_every_step():
    source = """
a = torch.tensor([2.], requires_grad=True)
a = ((a * 3) / (a - 1))
a
"""
    session, result = run(source)
    labels = [n["label"] for n in result["trace"]["nodes"]]
    assert labels[0] == "a" and result["trace"]["nodes"][0]["name"] == "DivBackward0"
    assert labels.count("a") == 2  # the division and the leaf
    assert result["trace"]["nodes"][0]["value"]["data"] == [6.0]


def test_meta_device_has_shapes_but_no_values():
    source = """
w = torch.ones(3, 4, requires_grad=True)
y = (w @ torch.ones(4, 2)).relu().sum()
"""
    session, result = run(source, device="meta")
    trace = result["trace"]
    assert trace["device"] == "meta"
    assert_matches_torch(trace, session.state.namespace["y"])
    mm = next(n for n in trace["nodes"] if n["name"] == "MmBackward0")
    assert mm["shape"] == [3, 2] and mm["device"] == "meta"
    assert mm["value"] == {"shape": [3, 2], "dtype": "float32", "device": "meta"}


def test_ten_thousand_op_snippet():
    source = "w = torch.ones(1, requires_grad=True)\na = w\nfor i in range(10000):\n    a = a * 1.0\n"
    session, result = run(source)
    nodes = result["trace"]["nodes"]
    assert len(nodes) == 10_001 and result["root_name"] == "a"
    assert_matches_torch(result["trace"], session.state.namespace["a"])
    assert all(n["label"] == "a" for n in nodes[:-1]) and nodes[-1]["label"] == "w"


def test_custom_function_in_a_snippet_keeps_its_own_value():
    source = """
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g

x = torch.tensor([2.0, 1.0], requires_grad=True)
c = Cube.apply(x)
k = torch.full([2], 7.0)  # made after the custom node, needs no grad
y = (c * k).sum()
"""
    session, result = run(source)
    ns = session.state.namespace
    assert_matches_torch(result["trace"], ns["y"])
    cube = nodes_by_label(result["trace"])["c"]
    assert cube["name"] == "CubeBackward" and cube["value"]["data"] == ns["c"].tolist()
    assert nodes_by_label(result["trace"])["mul"]["value"]["data"] == (ns["c"] * ns["k"]).tolist()


def test_multi_output_values_per_output():
    source = """
w = torch.tensor([[1., 5.], [3., 2.]], requires_grad=True)
top, idx = w.max(dim=1)
a, b = w.unbind(0)
y = top.sum() + (a * b).sum()
"""
    session, result = run(source)
    ns = session.state.namespace
    assert_matches_torch(result["trace"], ns["y"])
    by_name = {n["name"]: n for n in result["trace"]["nodes"]}
    assert by_name["MaxBackward0"]["value"]["data"] == ns["top"].tolist()
    unbind = by_name["UnbindBackward0"]["value"]
    assert [o["data"] for o in unbind["outputs"]] == [ns["a"].tolist(), ns["b"].tolist()]
