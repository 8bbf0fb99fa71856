"""trace_graph against torch's own grad_fn graph: names, edges with slots, values."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gradstep.autograd.serialize import graph_to_json
from gradstep.autograd.trace import node_key, short_op_name, trace_graph
from tests.autograd.trace_oracle import assert_matches_torch, torch_graph


def traced(roots, **kw) -> dict:
    return graph_to_json(trace_graph(roots, **kw))


def test_seed_mse_graph_matches_torch():
    x = torch.ones(1)
    w = torch.full([1], 2.0, requires_grad=True)
    mse = F.mse_loss(torch.ones(1), x * w)
    data = traced(mse)
    nodes = assert_matches_torch(data, mse)
    assert [n.name().removeprefix("torch::autograd::") for n in nodes] == ["MseLossBackward0", "MulBackward0", "AccumulateGrad"]
    # x needs no grad: slot 0 of MulBackward0 is None in torch and has no edge here
    assert nodes[1].next_functions[0][0] is None
    assert data["edges"][1] == {"source": "n1", "target": "n2", "slot": 1, "input_nr": 0}
    leaf = data["nodes"][2]
    assert leaf["kind"] == "leaf" and leaf["shape"] == [1] and leaf["value"]["data"] == w.tolist()


def test_x_times_x_keeps_both_edges():
    x = torch.tensor([3.0], requires_grad=True)
    y = x * x
    trace = trace_graph(y)
    assert trace.graph.number_of_edges("n0", "n1") == 2
    assert sorted(k for _, _, k in trace.graph.edges(keys=True)) == [0, 1]
    assert_matches_torch(graph_to_json(trace), y)


def test_multi_output_ops():
    x = torch.randn(6, requires_grad=True)
    a, _b, c = x.split(2)
    values, indices = x.max(0)
    u0, u1 = torch.randn(2, 3, requires_grad=True).unbind()
    total = a.sum() + c.sum() * values + u1.sum() - u0.sum()
    data = traced(total)
    nodes = assert_matches_torch(data, total)
    names = [n.name().removeprefix("torch::autograd::") for n in nodes]
    assert names.count("SplitBackward0") == 1  # a and c come from one node
    assert names.count("UnbindBackward0") == 1
    assert "MaxBackward0" in names
    split_edges = [e for e in data["edges"] if data["nodes"][int(e["target"][1:])]["name"] == "SplitBackward0"]
    assert sorted(e["input_nr"] for e in split_edges) == [0, 2]  # output_nr of a and c
    assert indices.grad_fn is None


def test_views_and_in_place_copy_slices():
    x = torch.randn(4, requires_grad=True)
    y = x * 2
    y[1:3] = torch.ones(2) * 5  # CopySlices on y
    z = y.view(2, 2)
    z.mul_(3)  # in place on a view: y's node becomes CopySlices again, z's AsStrided/View
    out = y.sum() + z.sum()
    data = traced(out)
    nodes = assert_matches_torch(data, out)
    names = [n.name().removeprefix("torch::autograd::") for n in nodes]
    assert "CopySlices" in names


def test_custom_function():
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.power = 3
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = torch.tensor([2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    data = traced(y)
    nodes = assert_matches_torch(data, y)
    cube = data["nodes"][1]
    assert cube["name"] == nodes[1].name() == "CubeBackward"
    assert cube["label"] == "cube"
    assert {"name": "ctx.power", "value": 3} in cube["saved"]
    assert cube["saved"][0]["shape"] == [1] and cube["saved"][0]["freed"] is False


def test_detach_and_no_grad_stop_the_graph():
    w = torch.ones(3, requires_grad=True)
    a = (w * 2).detach()
    with torch.no_grad():
        b = w * 3
    c = (w + a + b).sum()
    data = traced(c)
    nodes = assert_matches_torch(data, c)
    assert [n.name().removeprefix("torch::autograd::") for n in nodes] == ["SumBackward0", "AddBackward0", "AddBackward0", "AccumulateGrad"]


def test_ten_thousand_op_chain_has_no_recursion_error():
    w = torch.ones(1, requires_grad=True)
    a = w
    for _ in range(10_000):
        a = a * 1.0
    trace = trace_graph(a)
    assert trace.graph.number_of_nodes() == 10_001
    assert trace.graph.number_of_edges() == 10_000
    nodes, edges = torch_graph(a)
    assert trace.node_of["n10000"] is nodes[-1] and nodes[-1].variable is w


def test_multiple_roots_share_nodes():
    w = torch.ones(2, requires_grad=True)
    h = w * 3
    a, b = h.sum(), h.prod()
    trace = trace_graph([a, b])
    assert trace.root_ids == ["n0", "n1"]
    data = graph_to_json(trace)
    assert data["roots"] == ["n0", "n1"]
    assert_matches_torch(data, [a, b])


def test_recorded_values_labels_and_scopes_are_used():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    h = w * 3
    key = node_key(h.grad_fn)
    data = traced(h, values={key: {0: {"shape": [2], "data": [3.0, -6.0]}}},
                  labels={key: "h"}, scopes={key: "block"})
    assert data["nodes"][0]["value"]["data"] == [3.0, -6.0]
    assert data["nodes"][0]["label"] == "h" and data["nodes"][0]["scope"] == "block"
    assert data["nodes"][0]["shape"] == [2] and data["nodes"][0]["dtype"] == "float32"


def test_saved_tensors_freed_after_backward():
    w = torch.tensor([2.0], requires_grad=True)
    y = (w * w).sum()
    before = traced(y)["nodes"][1]["saved"]
    assert {s["name"] for s in before} == {"self", "other"}
    assert all(s["freed"] is False for s in before)
    y.backward()
    after = traced(y)["nodes"][1]["saved"]
    assert after == [{"name": "other", "freed": True}, {"name": "self", "freed": True}]


def test_saved_values_that_are_not_tensors_and_never_saved():
    x = torch.randn(2, 3, requires_grad=True)
    y = x.sum(dim=1)  # SumBackward1 saves dims and sizes, no tensor
    saved = traced(y)["nodes"][0]["saved"]
    by_name = {s["name"]: s for s in saved}
    assert by_name["self_sym_sizes"]["value"] == [2, 3]
    assert by_name["dim"]["value"] == [1]
    z = x * 2  # mul by a Python number: `self` is never saved (None), so it is not listed
    names = [s["name"] for s in traced(z)["nodes"][0]["saved"]]
    assert "self" not in names


def test_short_op_names():
    assert short_op_name("MulBackward0") == "mul"
    assert short_op_name("MseLossBackward0") == "mse_loss"
    assert short_op_name("CopySlices") == "copy_slices"
    assert short_op_name("NativeLayerNormBackward0") == "native_layer_norm"
    # torch's class names are title() of the op: a capital after a digit starts no word
    assert short_op_name("MaxPool2DWithIndicesBackward0") == "max_pool2d_with_indices"
    assert short_op_name("Log1PBackward0") == "log1p"
    assert short_op_name("SpecialXlog1PyBackward0") == "special_xlog1py"
    assert short_op_name("UpsampleBilinear2DAaBackward0") == "upsample_bilinear2d_aa"
    assert short_op_name("Atan2Backward0") == "atan2"
    # but a word after a digit is one in smooth_l1_loss (nn.SmoothL1Loss), as it was before
    assert short_op_name("SmoothL1LossBackward0") == "smooth_l1_loss"


def test_saved_items_with_values_for_inspection():
    from gradstep.autograd.saved import saved_items

    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = torch.tensor([3.0, 4.0], requires_grad=True)
    z = x * y
    items = {s["name"]: s for s in saved_items(z.grad_fn, values=True)}
    assert items["self"]["value"]["data"] == x.tolist()  # torch saved x for d/dy
    assert items["other"]["value"]["data"] == y.tolist()
    assert z.grad_fn._saved_self.tolist() == x.tolist()


def test_the_graph_is_what_networkx_add_node_and_add_edge_would_build():
    # trace_graph fills networkx's dicts itself: every view networkx gives must agree
    import networkx as nx

    x = torch.randn(3, requires_grad=True)
    w = torch.randn(3, 3, requires_grad=True)
    y = (x * x).sum() + (w @ x).tanh().mean() + x.pow(2).sum() * 2
    for roots in (y, [y, (x * 3).sum()]):
        graph = trace_graph(roots).graph
        built = nx.MultiDiGraph()
        for node_id, attrs in graph.nodes(data=True):
            built.add_node(node_id, **attrs)
        for u, v, key, attrs in graph.edges(keys=True, data=True):
            built.add_edge(u, v, key=key, **attrs)
        assert list(graph.nodes(data=True)) == list(built.nodes(data=True))
        for view in ("edges", "in_edges", "out_edges"):
            assert list(getattr(graph, view)(keys=True, data=True)) == list(getattr(built, view)(keys=True, data=True))
        for node in graph:
            assert list(graph.predecessors(node)) == list(built.predecessors(node))
            assert list(graph.successors(node)) == list(built.successors(node))
            assert all(graph._succ[node][v] is graph._pred[v][node] for v in graph._succ[node])
        assert graph.number_of_edges("n1", "n2") == built.number_of_edges("n1", "n2")
    assert trace_graph(y).graph.number_of_edges() == 14  # x * x: two edges, keys 0 and 1


def test_node_dicts_are_made_whole_and_selects_found_on_the_way(monkeypatch):
    """Each node's dict is made with all its fields in the JSON's order (no field added
    after), and label_indexing gets the select nodes from the walk (no second scan)."""
    from gradstep.autograd import trace as trace_module
    from gradstep.schema.graph import FORMULA_FIELDS, NODE_FIELDS

    handed = []

    def label_indexing(graph, default_label, indexing=None):
        handed.append(indexing)

    monkeypatch.setattr(trace_module, "label_indexing", label_indexing)
    p = torch.randn(3, requires_grad=True).softmax(0)
    traced_graph = trace_graph(p[1] + p[2]).graph
    selects = [node for node, attrs in traced_graph.nodes(data=True) if attrs["name"] == "SelectBackward0"]
    assert len(selects) == 2 and [node for node, _ in handed[0]] == selects
    assert all(attrs is traced_graph.nodes[node] for node, attrs in handed[0])
    for attrs in traced_graph._node.values():
        fields = NODE_FIELDS if attrs["kind"] == "op" else tuple(
            name for name in NODE_FIELDS if name not in FORMULA_FIELDS)
        assert tuple(attrs) == fields
