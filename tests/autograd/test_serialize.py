"""graph_to_json / graph_from_json: the DESIGN.md trace JSON, strict and round-tripping."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
import torch

from gradstep.autograd.serialize import drawn_graph, graph_from_json, graph_to_json, trace_json
from gradstep.autograd.session import Session
from gradstep.autograd.trace import trace_graph
from gradstep.examples import EXAMPLES, load_example
from gradstep.policies.strict_json import dumps
from gradstep.schema.graph import NODE_FIELDS


def reject_constant(name):
    raise ValueError(f"non-strict JSON constant {name}")


def test_json_has_the_design_shape():
    w = torch.full([1], 2.0, requires_grad=True)
    data = graph_to_json(trace_graph(torch.nn.functional.mse_loss(torch.ones(1), w * 1.0)))
    assert set(data) == {"root", "device", "nodes", "edges"}
    assert data["root"] == "n0" and data["device"] == "cpu"
    formula = {"formula", "formula_math", "formula_note"}
    for node in data["nodes"]:
        want = set(NODE_FIELDS) - formula if node["kind"] == "leaf" else set(NODE_FIELDS)
        assert set(node) == want
    mse = data["nodes"][0]
    assert mse["formula"]["self"] == "mse_loss_backward(grad, self, target, reduction)"
    assert mse["formula_math"]["inputs"]["self"]["text"].startswith("∂L/∂xᵢ = 2(xᵢ − yᵢ)/n")
    for edge in data["edges"]:
        assert set(edge) == {"source", "target", "slot", "input_nr"}


def test_round_trip_keeps_parallel_edges_and_attributes():
    x = torch.tensor([3.0], requires_grad=True)
    y = (x * x).sum()
    data = graph_to_json(trace_graph(y))
    graph = graph_from_json(json.loads(dumps(data)))
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.graph["root"] == "n0"
    assert graph.number_of_edges("n1", "n2") == 2
    assert graph.nodes["n2"]["kind"] == "leaf"
    assert graph_to_json(graph) == data


def test_non_finite_values_are_strict_json():
    x = torch.tensor([float("nan"), float("inf"), 1.0], requires_grad=True)
    text = dumps(graph_to_json(trace_graph(x * 2)))
    parsed = json.loads(text, parse_constant=reject_constant)
    assert parsed["nodes"][1]["value"]["data"] == ["NaN", "Infinity", 1.0]


def test_edges_sorted_by_source_then_slot():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    y = (a * b + a).sum()
    edges = graph_to_json(trace_graph(y))["edges"]
    keys = [(int(e["source"][1:]), e["slot"]) for e in edges]
    assert keys == sorted(keys)


def _sorted_as_before(graph) -> list:
    """The edges as graph_to_json listed them before its in-order path: all sorted."""
    edges = [{"source": u, "target": v, "slot": d.get("slot", k), "input_nr": d.get("input_nr", 0)}
             for u, v, k, d in graph.edges(keys=True, data=True)]
    return sorted(edges, key=lambda e: (int(e["source"][1:]), e["slot"]))


def test_a_target_met_again_at_a_later_slot_keeps_slot_order():
    # cat([a, b, a]): slot 0 and 2 lead to a's node, slot 1 to b's: networkx holds
    # a's two edges together, the JSON lists them by slot
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    trace = trace_graph(torch.cat([a * 1, b * 1, a * 1]).sum())
    graph = trace.graph
    cat = next(n for n, d in graph.nodes(data=True) if d["name"] == "CatBackward0")
    edges = graph_to_json(trace)["edges"]
    assert [e["slot"] for e in edges if e["source"] == cat] == [0, 1, 2]
    assert edges == _sorted_as_before(graph)


def test_edges_already_in_slot_order_are_not_sorted_again(monkeypatch):
    from gradstep.autograd import serialize

    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    trace = trace_graph((a * b).sum())  # MulBackward0: slots 0 and 1 to two nodes, in order
    expected = _sorted_as_before(trace.graph)
    monkeypatch.setattr(serialize, "_slot", None)  # a sort would call it
    assert graph_to_json(trace)["edges"] == expected
    monkeypatch.undo()
    x = a * 1
    again = trace_graph(torch.cat([x, b * 1, x]).sum())  # slots 0 and 2 to x's node
    assert graph_to_json(again)["edges"] == _sorted_as_before(again.graph)


def test_nodes_out_of_id_order_are_sorted():
    x = torch.ones(2, requires_grad=True)
    data = graph_to_json(trace_graph((x * 2 + x).sum()))
    graph = graph_from_json({**data, "nodes": data["nodes"][::-1], "edges": data["edges"][::-1]})
    assert list(graph)[0] != "n0"
    again = graph_to_json(graph)
    assert again == data
    assert again["edges"] == _sorted_as_before(graph)


def _by_add_calls(data: dict) -> nx.MultiDiGraph:
    """graph_from_json as it was: one networkx add_node / add_edge per JSON entry."""
    graph = nx.MultiDiGraph(root=data.get("root", "n0"), device=data.get("device", "cpu"))
    if "roots" in data:
        graph.graph["roots"] = list(data["roots"])
    for node in data["nodes"]:
        graph.add_node(node["id"], **node)
    for edge in data["edges"]:
        extra = {k: v for k, v in edge.items() if k not in ("source", "target", "slot", "input_nr")}
        graph.add_edge(edge["source"], edge["target"], key=edge["slot"], slot=edge["slot"],
                       input_nr=edge.get("input_nr", 0), **extra)
    return graph


def _everything(graph) -> tuple:
    return (list(graph.graph.items()), [(n, list(d.items())) for n, d in graph.nodes(data=True)],
            [(u, v, k, list(d.items())) for u, v, k, d in graph.edges(keys=True, data=True)],
            [(n, list(graph.pred[n])) for n in graph])


def test_graph_from_json_fills_networkx_as_its_add_calls_do():
    # Extra fields, a node listed twice, an edge key given twice, an endpoint never
    # listed as a node, a self-loop, an edge without a slot: same graph, same orders.
    data = {"root": "a", "roots": ["a", "b"], "nodes": [
        {"id": "a", "kind": "op"}, {"id": "b", "x": 1.5}, {"id": "a", "y": 2, "kind": "leaf"}],
        "edges": [{"source": "a", "target": "b", "slot": 0, "points": [[0, 1]]},
                  {"source": "a", "target": "b", "slot": 0, "input_nr": 3, "w": 1},
                  {"source": "a", "target": "b", "slot": 1},
                  {"source": "b", "target": "z", "slot": 0, "input_nr": 1},
                  {"source": "a", "target": "a", "slot": 2},
                  {"source": "b", "target": "a", "slot": None}]}
    assert _everything(graph_from_json(data)) == _everything(_by_add_calls(data))
    w = torch.full([2], 2.0, requires_grad=True)
    real = graph_to_json(trace_graph(((w * 3).sin() * w).sum()))
    assert _everything(graph_from_json(real)) == _everything(_by_add_calls(real))


def _same_drawn_graph(trace, device=None) -> nx.MultiDiGraph:
    want = _everything(graph_from_json(graph_to_json(trace, device=device)))
    graph = drawn_graph(trace, device=device)
    assert _everything(graph) == want
    return graph


@pytest.mark.parametrize("example", [e.id for e in EXAMPLES])
def test_drawn_graph_is_the_graph_of_the_trace_json(example):
    result = Session().run(load_example(example))
    if result["trace"] is None:
        pytest.skip("no graph")
    session = Session()
    kept = session.run(load_example(example), keep_graph=True)
    if not kept["ok"]:
        assert kept["trace"] is not None and session.take_graph() is None  # sent as always
        return
    graph = session.take_graph()
    assert kept["trace"] is None and session.take_graph() is None
    assert session.state.trace is None  # the records are forgotten, as keep_records=False
    without_seq = [{k: v for k, v in node.items() if k != "seq"} for node in result["trace"]["nodes"]]
    again = graph_to_json(graph, device=graph.graph["device"])
    assert [{k: v for k, v in node.items() if k != "seq"} for node in again["nodes"]] == without_seq
    assert {k: v for k, v in again.items() if k != "nodes"} == {
        k: v for k, v in result["trace"].items() if k != "nodes"}


def test_drawn_graph_keeps_slot_order_roots_and_device():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    cat = torch.cat([a * 1, b * 1, a * 1])
    graph = _same_drawn_graph(trace_graph([cat.sum(), (cat * 2).mean()]), device="cuda")
    assert graph.graph == {"root": "n0", "device": "cuda", "roots": ["n0", "n1"]}
    _same_drawn_graph(trace_graph((a * b).sum()))  # the root's own device


def test_drawn_graph_falls_back_where_the_json_would_change_a_node():
    x = torch.ones(2, requires_grad=True)
    trace = trace_graph((x * 2).sum())
    trace.graph.nodes["n1"]["extra"] = 1  # a field the JSON does not write
    trace.graph.nodes["n0"]["saved"] = None  # written as []
    graph = _same_drawn_graph(trace)
    assert "extra" not in graph.nodes["n1"] and graph is not trace.graph


def test_shared_nodes_are_the_graph_dicts_and_the_same_json():
    x = torch.ones(2, requires_grad=True)
    trace = trace_graph((x * 2 + x).sum())
    copied, shared = graph_to_json(trace), graph_to_json(trace, share=True)
    assert shared == copied and dumps(shared) == dumps(copied)
    assert all(node is trace.graph.nodes[node["id"]] for node in shared["nodes"])
    assert not any(node is trace.graph.nodes[node["id"]] for node in copied["nodes"])
    trace.graph.nodes["n1"]["saved"] = None  # written as []: copies, as without share
    again = graph_to_json(trace, share=True)
    assert again["nodes"][1]["saved"] == [] and trace.graph.nodes["n1"]["saved"] is None


SNIPPET_FILES = sorted((Path(__file__).resolve().parents[2] / "bench" / "snippets").glob("transformer*.py"))


@pytest.mark.parametrize("source", [*(e.id for e in EXAMPLES), *(p.name for p in SNIPPET_FILES)])
def test_trace_json_is_graph_to_json_of_the_same_trace(source):
    """The run's JSON from the walk's own edge list and unchecked node copies
    (``trace_json``) is what ``graph_to_json`` reads back from the graph, to the byte."""
    path = next((p for p in SNIPPET_FILES if p.name == source), None)
    code = path.read_text() if path else load_example(source)
    session = Session()
    reply = session.run(code)
    trace = session.state.trace
    if trace is None:
        pytest.skip("no graph")
    assert trace.json_edges is None  # handed over: the trace keeps no second record
    assert dumps(reply["trace"]) == dumps(graph_to_json(trace, device="cpu"))


def test_trace_json_lists_parallel_and_reordered_edges_in_slot_order():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    c = a * 1
    roots = [torch.cat([c, b * 1, c, a * a]).sum(), (c * 2).mean()]  # a target met again later
    trace = trace_graph(roots, json_edges=True)
    edges = trace.json_edges
    data = trace_json(trace, device="cpu")
    assert data["edges"] is edges and trace.json_edges is None
    assert dumps(data) == dumps(graph_to_json(trace, device="cpu"))
    assert data["roots"] == ["n0", "n1"]
    assert trace_json(trace, device="cpu") == graph_to_json(trace, device="cpu")  # (read back)


EDGE_CASES = {  # the run's JSON where its edges or roots are not a plain chain
    "joined: a backward call's graph as a second root": (
        "import torch\nx = torch.ones(3, requires_grad=True)\na = x * 2\nl1 = a.sum()\n"
        "l1.backward(retain_graph=True)\nl2 = (a * 3).mean()\n"),
    "inputs that need no gradient (None in next_functions)": (
        "import torch\nw = torch.ones(3, requires_grad=True)\nc = torch.ones(3)\n"
        "y = (w * c + c).sum()\n"),
    "a node reached by two slots, a target met again later": (
        "import torch\nx = torch.ones(2, requires_grad=True)\nc = x * 1\n"
        "y = torch.cat([c, x * x, c, x]).sum()\n"),
    "a run that raises after its graph is made": (
        "import torch\nx = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"
        "raise ValueError('late')\n"),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_trace_json_is_graph_to_json_where_edges_repeat_skip_or_join(case):
    source = EDGE_CASES[case]
    session = Session()
    reply = session.run(source)
    trace = session.state.trace
    assert reply["trace"] is not None and trace.json_edges is None
    assert dumps(reply["trace"]) == dumps(graph_to_json(trace, device="cpu"))
    if case.startswith("joined"):  # the case is what it says: two roots
        assert reply["trace"]["roots"] == ["n0", "n1"]
