"""The findings as a pure function of plain data: hand-written traces and timelines in,
findings out (no torch, no kernel). Each case is small enough to check by hand."""

from __future__ import annotations

import math
import subprocess
import sys

from gradstep.autograd import elements as el
from gradstep.autograd import nonfinite
from gradstep.autograd.findings import Diagnoser, check_json, diagnose
from gradstep.autograd.grad_flow import DEAD_SHARE, EXPLODING_RATIO, VANISHING_RELATIVE


def op(node_id, name, seq, value, *, slots=1, line=None, label=None, scope="", saved=None):
    return {"id": node_id, "name": name, "kind": "op", "label": label or node_id, "scope": scope,
            "seq": seq, "line": line, "slots": slots, "value": value, "saved": saved or []}


def leaf(node_id, value, label=None, scope=""):
    return {"id": node_id, "name": "AccumulateGrad", "kind": "leaf", "label": label or node_id,
            "scope": scope, "seq": None, "line": None, "slots": 0, "value": value, "saved": []}


def edge(source, target, slot=0, input_nr=0):
    return {"source": source, "target": target, "slot": slot, "input_nr": input_nr}


def small(data):
    """A recorded small tensor, as values.tensor_value writes it."""
    flat = el.flatten(data)
    nan = sum(1 for x in flat if x == "NaN")
    inf = sum(1 for x in flat if x in ("Infinity", "-Infinity"))
    return {"shape": el.shape_of(data), "data": data, "nan": nan, "inf": inf}


# x (leaf) -> sub (n3) -> sqrt (n2) -> mul (n1) -> sum (n0)
CHAIN = {
    "root": "n0",
    "nodes": [
        op("n0", "SumBackward0", 3, small("NaN"), line=4),
        op("n1", "MulBackward0", 2, small(["NaN", 6.0]), slots=2, line=3),
        op("n2", "SqrtBackward0", 1, small(["NaN", 2.0]), line=2, label="a"),
        op("n3", "SubBackward0", 0, small([-1.0, 4.0]), slots=2, line=2),
        leaf("n4", small([1.0, 6.0]), "x"),
    ],
    "edges": [edge("n0", "n1"), edge("n1", "n2"), edge("n2", "n3"), edge("n3", "n4")],
}


def test_origin_and_carriers_in_a_chain():
    diagnosis = diagnose(CHAIN)
    [finding] = diagnosis.findings
    assert (finding.kind, finding.node, finding.line, finding.certain) == ("nan_forward", "n2", 2, True)
    assert finding.elements == [{"index": [0], "value": "NaN", "inputs": [-1.0]}]
    assert finding.cause == "sqrt(-1) = NaN"
    assert finding.carriers == ["n1", "n0"]
    assert diagnosis.marks == {"n2": "origin", "n1": "carrier", "n0": "carrier"}
    # n1 (mul) has a slot without an edge, but its graph input already held NaN: a carrier
    assert diagnosis.failed


def test_an_uncaptured_input_makes_the_first_known_point():
    trace = {**CHAIN, "nodes": [dict(n) for n in CHAIN["nodes"]]}
    trace["nodes"][2]["value"] = None  # sqrt's value was not captured
    trace["nodes"][3]["value"] = small([-1.0, 4.0])
    [finding] = diagnose(trace).findings
    assert finding.node == "n1" and not finding.certain
    assert finding.unseen == [{"slot": 0, "argument": "self", "node": "n2", "why": "not_captured"},
                              {"slot": 1, "argument": "other", "node": None, "why": "no_grad"}]
    assert "--deep-values" in finding.note and finding.message.startswith("NaN is first seen")


def test_uncaptured_nodes_between_a_known_origin_and_a_nan_make_a_carrier():
    trace = {**CHAIN, "nodes": [dict(n) for n in CHAIN["nodes"]]}
    trace["nodes"][1]["value"] = None  # mul unknown; sum holds NaN; sqrt is the origin
    diagnosis = diagnose(trace)
    assert [f.node for f in diagnosis.findings] == ["n2"]
    assert diagnosis.marks["n0"] == "carrier"


def test_an_input_outside_the_graph_is_not_ruled_out():
    trace = {"root": "n0", "nodes": [
        op("n0", "MulBackward0", 0, small(["NaN", 2.0]), slots=2, line=3),
        leaf("n1", small([1.0, 2.0]), "w"),
    ], "edges": [edge("n0", "n1", slot=0)]}
    [finding] = diagnose(trace).findings
    assert not finding.certain and finding.unseen[0]["why"] == "no_grad"
    assert finding.elements[0]["inputs"] == [1.0, None]  # the data element was never seen


def test_a_leaf_holding_nan_is_an_origin():
    trace = {"root": "n0", "nodes": [
        op("n0", "ExpBackward0", 0, small(["NaN"]), line=2),
        leaf("n1", small(["NaN"]), "w"),
    ], "edges": [edge("n0", "n1")]}
    diagnosis = diagnose(trace)
    assert [(f.node, f.kind) for f in diagnosis.findings] == [("n1", "nan_forward")]
    assert diagnosis.marks == {"n1": "origin", "n0": "carrier"}


def test_large_tensors_name_elements_from_the_summary_and_outputs_by_number():
    summary = {"shape": [100, 100], "nan": 0, "inf": 3, "min": 0.0, "max": 1.0,
               "nonfinite_at": [[0, 7], [5, 1], [99, 99]]}
    outputs = [small([1.0, 2.0]), summary]  # output 1 of a two-output node holds Inf
    trace = {"root": "n0", "nodes": [
        op("n0", "ExpBackward0", 1, {**outputs[0], "outputs": outputs}, line=5),
        leaf("n1", small([1.0, 2.0]), "x"),
    ], "edges": [edge("n0", "n1")]}
    [finding] = diagnose(trace).findings
    assert finding.kind == "inf_forward"
    assert [e["index"] for e in finding.elements] == [[0, 7], [5, 1], [99, 99]]
    assert finding.elements[0]["value"] == "±Infinity"  # a summary does not say which sign


def test_backward_origin_carrier_and_forward_explained():
    trace = {"root": "n0", "nodes": [
        op("n0", "SqrtBackward0", 2, small(0.0), line=3, label="d"),
        op("n1", "SumBackward0", 1, small(0.0), line=2),
        op("n2", "PowBackward0", 0, small([0.0, 0.0]), line=2, saved=[{"name": "exponent", "value": 2}]),
        leaf("n3", small([1.0, 1.0]), "a"),
    ], "edges": [edge("n0", "n1"), edge("n1", "n2"), edge("n2", "n3")]}
    timeline = {"steps": [
        {"index": 0, "node": "n0", "name": "SqrtBackward0", "grad_outputs": [1.0],
         "grad_inputs": ["Infinity"], "error": False},
        {"index": 1, "node": "n1", "name": "SumBackward0", "grad_outputs": ["Infinity"],
         "grad_inputs": [["Infinity", "Infinity"]], "error": False},
        {"index": 2, "node": "n2", "name": "PowBackward0", "grad_outputs": [["Infinity", "Infinity"]],
         "grad_inputs": [["NaN", "NaN"]], "error": False},
        {"index": 3, "node": "n3", "name": "AccumulateGrad", "grad_outputs": [["NaN", "NaN"]],
         "grad_inputs": [], "error": False, "leaf": "a"},
    ]}
    diagnosis = diagnose(trace, [timeline])
    [finding] = diagnosis.findings
    assert (finding.kind, finding.node, finding.pass_index, finding.step) == ("inf_grad", "n0", 0, 0)
    assert finding.certain and finding.elements[0]["arriving"] == 1.0
    assert finding.carriers == ["n1", "n2", "n3"]
    assert "becomes NaN at pow (n2, line 2)" in finding.message
    assert diagnosis.marks == {"n0": "origin", "n1": "grad_carrier", "n2": "grad_carrier",
                               "n3": "grad_carrier"}
    # the same step when sqrt's forward value held NaN: the backward only passes it on
    trace["nodes"][0]["value"] = small("NaN")
    diagnosis = diagnose(trace, [timeline])
    assert [f.kind for f in diagnosis.findings] == ["nan_forward"]
    assert diagnosis.marks["n0"] == "origin"  # the forward origin, not a second one


# x (leaf n3) -> mul (n2, y) -> exp (n1) -> sum (n0); every forward value finite
HOOKED = {"root": "n0", "nodes": [
    op("n0", "SumBackward0", 2, small(422.5), line=5),
    op("n1", "ExpBackward0", 1, small([20.1, 403.4]), line=4),
    op("n2", "MulBackward0", 0, small([3.0, 6.0]), slots=2, line=3, label="y"),
    leaf("n3", small([1.0, 2.0]), "x"),
], "edges": [edge("n0", "n1"), edge("n1", "n2"), edge("n2", "n3")]}


def step(index, node, name, arriving, sent):
    return {"index": index, "node": node, "name": name, "grad_outputs": [arriving],
            "grad_inputs": sent, "error": False}


def test_a_gradient_that_went_bad_between_two_steps_starts_where_it_arrived():
    # y.register_hook(lambda g: g * nan): exp sent a finite gradient, mul received NaN.
    # Before, no step made it, and check said there was no NaN at all.
    timeline = {"steps": [
        step(0, "n0", "SumBackward0", 1.0, [[1.0, 1.0]]),
        step(1, "n1", "ExpBackward0", [1.0, 1.0], [[20.1, 403.4]]),
        step(2, "n2", "MulBackward0", ["NaN", "NaN"], [["NaN", "NaN"], None]),
        step(3, "n3", "AccumulateGrad", ["NaN", "NaN"], []),
    ]}
    diagnosis = diagnose(HOOKED, [timeline])
    [finding] = diagnosis.findings
    assert (finding.kind, finding.node, finding.step, finding.line) == ("nan_grad", "n2", 2, 3)
    assert "a hook changed it" in finding.cause and finding.carriers == ["n3"]
    assert finding.elements == [{"index": [0], "value": "NaN", "inputs": []},
                                {"index": [1], "value": "NaN", "inputs": []}]
    assert diagnosis.marks == {"n2": "origin", "n3": "grad_carrier"}
    # the pass started from NaN (loss.backward(gradient) with a NaN gradient)
    started = {"steps": [step(0, "n0", "SumBackward0", "NaN", [["NaN", "NaN"]])]}
    [finding] = diagnose(HOOKED, [started]).findings
    assert finding.node == "n0" and finding.cause == "the pass started from a gradient holding NaN"
    # a gradient arriving from two finite senders: their sum, or a hook
    trace = {**HOOKED, "edges": HOOKED["edges"] + [edge("n0", "n2", 1)]}
    timeline["steps"][0]["grad_inputs"] = [[1.0, 1.0], [1.0, 1.0]]
    [finding] = diagnose(trace, [timeline]).findings
    assert finding.node == "n2" and "their sum" in finding.cause
    # what was sent is not known (a step of another graph): no claim
    timeline["steps"][1]["name"] = "SinBackward0"
    assert diagnose(trace, [timeline]).findings == []


def test_a_step_of_another_graph_counts_its_forward_as_unknown():
    trace = {"root": "n0", "nodes": [op("n0", "SumBackward0", 0, small(1.0))], "edges": []}
    timeline = {"steps": [{"index": 0, "node": "n0", "name": "DivBackward0", "grad_outputs": [1.0],
                           "grad_inputs": ["NaN"], "error": False}]}
    [finding] = diagnose(trace, [timeline]).findings
    assert finding.name == "DivBackward0" and not finding.certain and finding.line is None


def stats(*rows):
    return {"params": [
        {"node": f"n{i}", "label": label, "scope": scope, "shape": [numel], "numel": numel,
         "grad_norm": g, "weight_norm": w, "zeros": zeros, "nan": 0, "inf": 0}
        for i, (label, scope, g, w, numel, zeros) in enumerate(rows)]}


def flow_trace(count):
    """A chain of ``count`` ops, op k reading leaf n{k}: leaf n0 is used first."""
    nodes = [leaf(f"n{k}", small([1.0])) for k in range(count)]
    nodes += [op(f"m{k}", "MulBackward0", k, small([1.0])) for k in range(count)]
    edges = [edge(f"m{k}", f"n{k}") for k in range(count)]
    return {"root": f"m{count - 1}", "nodes": nodes, "edges": edges}


def test_flow_rows_fold_modules_and_order_by_first_use():
    data = stats(("0.weight", "0", 3.0, 1.0, 4, 0), ("0.bias", "0", 4.0, 0.0, 2, 2),
                 ("1.weight", "1", 1e-6, 1.0, 4, 0), ("w", "", 2.0, 2.0, 1, 0))
    diagnosis = diagnose(flow_trace(4), stats=data)
    assert [r.name for r in diagnosis.rows] == ["0", "1", "w"]
    first = diagnosis.rows[0]
    assert first.grad_norm == 5.0 and first.weight_norm == 1.0 and first.ratio == 5.0
    assert first.zero_fraction == 2 / 6 and first.params == ["0.weight", "0.bias"]
    assert check_json(diagnosis, data)["grad_norms"] == {"0.weight": 3.0, "0.bias": 4.0,
                                                        "1.weight": 1e-6, "w": 2.0}
    unfolded = diagnose(flow_trace(4), stats=data, fold=False)
    assert [r.name for r in unfolded.rows] == ["0.weight", "0.bias", "1.weight", "w"]
    assert unfolded.rows[1].ratio is None  # zero weights: no ratio, never flagged


def test_flow_thresholds_at_their_edges():
    top = 1.0
    just_below = VANISHING_RELATIVE * top * 0.99
    data = stats(("a", "", just_below, 1.0, 10, 0), ("b", "", VANISHING_RELATIVE * 1.01, 1.0, 10, 0),
                 ("c", "", top, 1.0, 10, 0), ("d", "", EXPLODING_RATIO * 1.01, 1.0, 10, 0),
                 ("e", "", 0.5, 1.0, 10, int(10 * DEAD_SHARE)), ("f", "", 0.0, 1.0, 10, 10))
    found = {(f.kind, f.label) for f in diagnose(flow_trace(6), stats=data).findings}
    # the exploding layer is not the reference the others are measured against
    assert found == {("vanishing", "a"), ("exploding", "d"), ("dead", "e"), ("dead", "f")}
    assert not diagnose(flow_trace(6), stats=data).failed  # warnings do not fail check


def test_nan_gradients_are_the_nan_findings_business():
    """A NaN in a leaf's .grad is no flow warning. With no pass finding for it (the pass
    that wrote it showed no steps: compiled autograd, say), it is a NaN finding first seen
    at the leaf: check said "No NaN or infinity" and exited 0 beside x.grad = [inf, 0.5]."""
    data = stats(("a", "", "NaN", 1.0, 2, 0))
    data["params"][0]["nan"] = 1
    diagnosis = diagnose(flow_trace(1), stats=data)
    [finding] = diagnosis.findings
    assert (finding.kind, finding.node, finding.label, finding.certain) == ("nan_grad", "n0", "a", False)
    assert diagnosis.failed and "a.grad" in finding.message
    row = diagnosis.rows[0]
    assert math.isnan(row.grad_norm) and row.as_json()["grad_norm"] == "NaN"
    data["params"][0].update(nan=0, inf=1, grad_norm="Infinity")
    assert [f.kind for f in diagnose(flow_trace(1), stats=data).findings] == ["inf_grad"]


def test_a_leaf_nan_a_pass_finding_explains_is_not_reported_twice():
    trace = {"root": "m0", "nodes": [leaf("n0", small([1.0])),
                                     op("m0", "SqrtBackward0", 0, small([1.0]))],
             "edges": [edge("m0", "n0")]}
    timeline = {"steps": [{"index": 0, "node": "m0", "name": "SqrtBackward0",
                           "grad_outputs": [[1.0]], "grad_inputs": [["Infinity"]], "error": False}]}
    data = stats(("x", "", "Infinity", 1.0, 1, 0))
    data["params"][0]["inf"] = 1
    kinds = [(f.kind, f.node) for f in diagnose(trace, [timeline], stats=data).findings]
    assert kinds == [("inf_grad", "m0")]


def test_elements_helpers():
    assert el.counts(["NaN", [1.0, "-Infinity"]]) == (1, 1) and el.status([1.0]) == "ok"
    assert el.status({"shape": [3], "dtype": "float32", "device": "meta"}) is None
    assert el.bad_indices([[1.0, "NaN"], ["Infinity", 2.0]]) == [[0, 1], [1, 0]]
    assert el.broadcast_index([2, 3], [3], [4, 3]) == [3]
    assert el.broadcast_index([2, 3], [4, 1], [4, 3]) == [2, 0]
    assert el.broadcast_index([1], [2], [3]) is None
    assert el.element([[1.0, 2.0]], [0, 1]) == 2.0 and el.element({"shape": [9]}, [0]) is None
    assert el.text(-0.5) == "-0.5" and el.text(None) == "?" and el.text(float("inf")) == "Infinity"


def test_elements_all_finite_shortcut_agrees_with_counting_each_element():
    cases = [[1.0, 2.0], [1e308, 1e308], [float("nan"), 1.0], [float("inf"), -1.0],
             [float("-inf"), float("inf")], ["NaN", 1.0], [[1.0], ["Infinity"]], [], [1, True],
             10**400, 2.5, float("nan"), "-Infinity", [10**400, 1.0]]
    want = [(0, 0), (0, 0), (1, 0), (0, 1), (0, 2), (1, 0), (0, 1), (0, 0), (0, 0),
            (0, 0), (0, 0), (1, 0), (0, 1), (0, 0)]
    assert [el.counts(case) for case in cases] == want


def summary(diagnosis):
    return ([f.as_json() for f in diagnosis.findings], diagnosis.marks,
            [r.as_json() for r in diagnosis.rows])


def test_a_diagnoser_answers_as_diagnose_and_finds_each_trace_and_pass_once(monkeypatch):
    calls = {"forward": 0}
    forward = nonfinite.forward_findings

    def counted(graph):
        calls["forward"] += 1
        return forward(graph)

    monkeypatch.setattr(nonfinite, "forward_findings", counted)
    trace = {"root": "n0", "nodes": [
        op("n0", "SqrtBackward0", 1, small(0.0), line=3),
        op("n1", "SumBackward0", 0, small(0.0), line=2), leaf("n2", small([1.0]), "a"),
    ], "edges": [edge("n0", "n1"), edge("n1", "n2")]}
    timeline = {"steps": [
        {"index": 0, "node": "n0", "name": "SqrtBackward0", "grad_outputs": [1.0],
         "grad_inputs": ["Infinity"], "error": False},
        {"index": 1, "node": "n1", "name": "SumBackward0", "grad_outputs": ["Infinity"],
         "grad_inputs": [["Infinity"]], "error": False}]}
    data = stats(("a", "", 1e-9, 1.0, 1, 0))
    diagnoser = Diagnoser()
    # what the window asks, in order: the trace (twice), a pass arrives, its statistics
    for timelines, grads in (([], None), ([], None), ([timeline], None), ([timeline], data)):
        got = diagnoser.diagnose(trace, timelines, grads)
        assert summary(got) == summary(diagnose(trace, timelines, grads))
    assert calls["forward"] == 1 + 4  # the diagnoser's one, and each plain diagnose's own
    # another run: its own findings, nothing kept from the last one
    clean = {"root": "n0", "nodes": [op("n0", "SumBackward0", 0, small(1.0))], "edges": []}
    assert summary(diagnoser.diagnose(clean, [])) == ([], {}, [])
    same_again = {"root": trace["root"], "nodes": [dict(n) for n in trace["nodes"]],
                  "edges": trace["edges"]}
    same_again["nodes"][0]["value"] = small("NaN")  # a new run whose sqrt made NaN forward
    assert [f.kind for f in diagnoser.diagnose(same_again, [timeline]).findings] == ["nan_forward"]


def test_a_diagnoser_words_its_findings_again_in_another_language():
    from gradstep import i18n

    diagnoser = Diagnoser()
    english = diagnoser.diagnose(CHAIN).findings[0].message
    try:
        i18n.set_language("zh_CN")
        chinese = diagnoser.diagnose(CHAIN).findings[0].message
        assert chinese == diagnose(CHAIN).findings[0].message != english
    finally:
        i18n.set_language(None)


def test_the_findings_load_neither_torch_nor_qt():
    script = ("import sys; import gradstep.autograd.findings, gradstep.autograd.nonfinite, "
              "gradstep.autograd.grad_origins, gradstep.autograd.grad_flow; "
              "from gradstep.autograd.findings import diagnose; "
              "node = {'id': 'n0', 'name': 'MulBackward0', 'kind': 'op', 'seq': 0, 'slots': 2, "
              "'value': {'data': ['NaN'], 'nan': 1, 'inf': 0}}; "
              "assert diagnose({'nodes': [node], 'edges': []}).findings[0].unseen[0]['argument']; "
              "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph')]; "
              "print(bad)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _old_status(node: dict):
    """``GraphData.status`` as it read a node before its shortcut for a finite data list."""
    value = node.get("value")
    if not isinstance(value, dict):
        return None
    states = [el.status(v) for v in value.get("outputs") or [value]]
    if "bad" in states:
        return "bad"
    return "ok" if states and all(s == "ok" for s in states) else None


def test_graph_data_reads_status_and_inputs_as_before_its_shortcuts():
    datas = [[1.0, 2.0], [1e308, 1e308], [float("nan"), 1.0], [float("inf"), -1.0], ["NaN", 1.0],
             [[1.0], ["Infinity"]], [], [1, True], 10**400, 2.5, float("nan"), "-Infinity",
             [10**400, 1.0], None]
    values = [None, 3.0, [1.0], {"shape": [2]}, {"shape": [2], "nan": 1}]
    for data in datas:
        values += [{"data": data}, {"data": data, "nan": 0, "inf": 0},
                   {"data": data, "outputs": None}, {"data": data, "outputs": []},
                   {"data": data, "outputs": [{"data": data}, {"data": [1.0]}]},
                   {"data": [1.0], "outputs": [{"data": data}]}]
    nodes = [{"id": f"n{i}", "value": value} for i, value in enumerate(values)]
    edges = [{"source": f"n{i % 7}", "target": f"n{i}", "slot": (5 * i) % 3, "input_nr": i % 2}
             for i in range(len(nodes))]
    graph = nonfinite.GraphData({"nodes": nodes, "edges": edges})
    assert [graph.status(n["id"]) for n in nodes] == [_old_status(n) for n in nodes]
    inputs, consumers = {}, {}
    for edge in edges:
        inputs.setdefault(edge["source"], []).append((edge["slot"], edge["target"], edge["input_nr"]))
        consumers.setdefault(edge["target"], []).append(edge["source"])
    assert graph.inputs == {k: sorted(v) for k, v in inputs.items()}
    assert graph.consumers == consumers


def test_graph_data_bad_nodes_are_those_status_reads_bad_and_it_keeps_their_status():
    datas = [[1.0, 2.0], [1e308, 1e308], [float("nan"), 1.0], [float("inf"), -1.0], ["NaN", 1.0],
             [[1.0], ["Infinity"]], [], [1, True], 10**400, 2.5, float("nan"), "-Infinity",
             [10**400, 1.0], None]
    values = [None, 3.0, [1.0], {"shape": [2]}, {"shape": [2], "nan": 1}]
    for data in datas:
        values += [{"data": data}, {"data": data, "outputs": [{"data": data}, {"data": [1.0]}]},
                   {"data": [1.0], "outputs": [{"data": data}]}]
    nodes = [{"id": f"n{i}", "value": value} for i, value in enumerate(values)]
    graph = nonfinite.GraphData({"nodes": nodes, "edges": []})
    graph.status("n7")  # one asked before: kept, not read again
    bad = graph.bad_nodes()
    assert bad == [n["id"] for n in nodes if _old_status(n) == "bad"]
    assert graph._status == {n["id"]: _old_status(n) for n in nodes}
    assert bad and len(bad) < len(nodes) and "ok" in graph._status.values()


class _EdgesReadOnce(list):
    """A trace's edges that count how often they are walked."""

    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


def test_graph_data_reads_the_edges_when_first_asked_for_its_inputs():
    # the window makes a GraphData at each run's first paint; the forward search of a
    # graph without NaN/Inf needs no inputs or consumers
    nodes = [{"id": f"n{i}", "value": {"data": [float(i) + 0.5]}} for i in range(4)]
    edges = _EdgesReadOnce({"source": f"n{i}", "target": f"n{i + 1}", "slot": 0} for i in range(3))
    _EdgesReadOnce.walks = 0
    graph = nonfinite.GraphData({"nodes": nodes, "edges": edges})
    assert nonfinite.forward_findings(graph) == ([], {})
    assert _EdgesReadOnce.walks == 0
    assert graph.consumers == {"n1": ["n0"], "n2": ["n1"], "n3": ["n2"]}
    assert graph.inputs == {"n0": [(0, "n1", 0)], "n1": [(0, "n2", 0)], "n2": [(0, "n3", 0)]}
    assert _EdgesReadOnce.walks == 1


def test_graph_data_consumers_are_there_once_its_inputs_are():
    # ``inputs`` set says the edges are read: another thread that reads ``consumers`` then
    # (here: as ``_inputs`` is set) gets them, not the empty dict made before
    seen = []

    class Watched(nonfinite.GraphData):
        def __setattr__(self, name, value):
            super().__setattr__(name, value)
            if name == "_inputs" and value is not None:
                seen.append(self.consumers)

    edges = [{"source": "n0", "target": "n1", "slot": 0}]
    graph = Watched({"nodes": [{"id": "n0"}, {"id": "n1"}], "edges": edges})
    assert graph.inputs == {"n0": [(0, "n1", 0)]}
    assert seen == [{"n1": ["n0"]}]


def test_torch_words_write_values_as_torch_prints_and_leave_the_json_as_it_was():
    """``gradstep check``'s text writes sqrt(-1.) = nan, as torch prints it; the JSON keeps
    its "NaN" (docs/schema.md). One Diagnoser answers each wording afresh."""
    diagnoser = Diagnoser()
    before = check_json(diagnoser.diagnose(CHAIN))
    with el.torch_words():
        [finding] = diagnoser.diagnose(CHAIN).findings
        assert el.text(float("-inf")) == "-inf" and el.text("Infinity") == "inf"
        assert el.text("NaN?") == "NaN?"  # only the three JSON words are torch's
    # the element as torch prints it alone (x[0] - 2: tensor(-1.)), as the graph writes it
    assert finding.cause == "sqrt(-1.) = nan" and finding.message.endswith("sqrt(-1.) = nan")
    assert finding.elements[0]["value"] == "nan"
    assert check_json(diagnoser.diagnose(CHAIN)) == before  # the JSON's words again
    assert before["findings"][0]["cause"] == "sqrt(-1) = NaN"
    assert el.text(float("-inf")) == "-Infinity"
    summary_only = {"shape": [9], "nan": 1, "inf": 1, "nonfinite_at": [[0]]}
    assert nonfinite.element_text(summary_only, [0]) == "NaN or ±Infinity"
    with el.torch_words():
        assert nonfinite.element_text(summary_only, [0]) == "nan or ±inf"


def test_torch_words_write_a_tensors_element_as_torch_prints_it_and_a_saved_number_as_python():
    """Within ``torch_words()`` (``gradstep check``'s text, the window): the element of a
    tensor as torch prints it alone (``x[0]``: ``tensor(-1.)``, ``tensor(-0.5000)``), a
    number the node saved (``x.pow(0.5)``'s exponent: ``_saved_exponent`` is ``0.5``) as
    Python writes it; the JSON keeps ``-1``."""
    import torch

    x = torch.tensor([-1.0, -0.5])
    trace = {"root": "n0", "nodes": [
        op("n0", "PowBackward0", 0, small(["NaN", "NaN"]), line=2,
           saved=[{"name": "exponent", "value": 0.5}]),
        leaf("n1", small(x.tolist()), "x"),
    ], "edges": [edge("n0", "n1")]}
    assert diagnose(trace).findings[0].cause == "(-1) ** 0.5 = NaN"  # the JSON's words
    with el.torch_words():
        [finding] = Diagnoser().diagnose(trace).findings
        assert el.text(-0.5) == str(x[1])[len("tensor("):-1] == "-0.5000"
    exponent = x.requires_grad_().pow(0.5).grad_fn._saved_exponent
    assert finding.cause == f"({str(x[0].detach())[7:-1]}) ** {exponent!r} = nan" == "(-1.) ** 0.5 = nan"
    # the base in parentheses: -1. ** 0.5 reads -(1. ** 0.5), which is -1., not nan
    assert (-torch.tensor(1.0) ** 0.5).item() == -1.0 and torch.tensor(-1.0).pow(0.5).isnan()


def test_flow_messages_write_ratios_as_the_table_does_within_torch_words():
    """A ratio gradstep worked out (|grad|/|weight|, its share of the largest layer's) is no
    tensor's element: within ``torch_words()`` (check's text, the window) the vanishing and
    exploding messages keep its 6 significant digits, as the |grad| table beside them
    (``figure_text``), not torch's print of an element (``1.2346e-07``)."""
    data = stats(("a", "", 1.234567e-7, 1.0, 10, 0), ("b", "", 1.0, 1.0, 10, 0),
                 ("d", "", EXPLODING_RATIO * 1.2345678, 1.0, 10, 0))
    with el.torch_words():
        found = {f.kind: f for f in Diagnoser().diagnose(flow_trace(3), stats=data).findings}
    rows = {row.name: row for row in diagnose(flow_trace(3), stats=data).rows}
    vanishing, exploding = found["vanishing"].message, found["exploding"].message
    assert f"= {el.figure_text(rows['a'].ratio)}, " in vanishing, vanishing
    assert el.figure_text(rows["a"].ratio) == "1.23457e-07"
    assert f"= {el.figure_text(rows['d'].ratio)}, so" in exploding, exploding


def test_a_leaf_written_after_the_pass_is_said_to_hold_its_new_value():
    """A step at lr=10 after a finite pass (w = [1., 2.], gradient [3e38, 1.]) leaves
    w = [-inf, -8.]; the trace reads w when the snippet has ended, so check said Infinity
    starts at w with nothing to say the forward used [1., 2.]. A note says so now."""
    trace = {"root": "m0", "nodes": [op("m0", "MulBackward0", 0, small([3e38, 2.0]), slots=2),
                                     leaf("n0", small(["-Infinity", -8.0]), "w")],
             "edges": [edge("m0", "n0")]}
    data = stats(("w", "", "Infinity", "Infinity", 2, 0))
    diagnoser = Diagnoser()
    assert diagnoser.diagnose(trace, stats=data).findings[0].note == ""
    data["params"][0]["written_after"] = True
    for _ in range(2):  # the Diagnoser's kept findings are not changed by it
        [finding] = [f for f in diagnoser.diagnose(trace, stats=data).findings if f.fails]
        assert finding.kind == "inf_forward" and finding.note == (
            "the snippet wrote w in place after the first recorded backward call through this "
            "graph (an optimizer step?): this is its value after that, not the one the forward used")
    data["params"][0]["written_during"] = True  # a hook's step, while the call ran
    [finding] = [f for f in diagnoser.diagnose(trace, stats=data).findings if f.fails]
    assert finding.note == (
        "the snippet wrote w in place during a recorded backward call made after this graph's "
        "forward "
        "(an optimizer step in a hook?): this is its value after that, not the one the forward used")
