"""Each op node's snippet line and execution order (``line``, ``seq`` and ``slots`` in the
trace JSON), checked against torch: the nodes a statement makes, run alone, are the
nodes gradstep gives that statement's line."""

from __future__ import annotations

import torch

from gradstep.autograd.lines import LineIndex
from gradstep.autograd.session import Session


def run(source: str, **kw) -> tuple[Session, dict]:
    session = Session()
    result = session.run(source, **kw)
    assert result["ok"], result["error"]
    return session, result


def by_label(result: dict) -> dict:
    return {n["label"]: n for n in result["trace"]["nodes"]}


def test_line_index_spans():
    index = LineIndex()
    for counter, line in [(2, 1), (2, 1), (5, 2), (7, 2), (9, 4)]:
        index.note(counter, line)
    assert index.counters == [2, 7, 9] and index.lines == [1, 2, 4]
    assert [index.line_of(s) for s in range(10)] == [1, 1, 2, 2, 2, 2, 2, 4, 4, None]
    assert index.get(("leaf", 123)) is None and index.get(("op", 3, "MulBackward0")) == 2


def test_each_statement_gets_its_lines_and_seq_is_torch_s():
    source = """\
x = torch.tensor([1.0, 4.0], requires_grad=True)
a = torch.sqrt(x - 2)
b = (a *
     3)
for i in range(2):
    b = b.exp()
c = [t * 2 for t in (b, a)][0]
loss = c.sum()
"""
    session, result = run(source)
    nodes = by_label(result)
    assert nodes["sub"]["line"] == 2 and nodes["a"]["line"] == 2

    def lines_of(name):
        found = sorted((n for n in result["trace"]["nodes"] if n["name"] == name),
                       key=lambda n: n["seq"])
        return [n["line"] for n in found]

    assert lines_of("MulBackward0") == [3, 7]  # a multi-line expression: the line it starts on
    assert lines_of("ExpBackward0") == [6, 6]
    assert nodes["loss"]["line"] == 8
    assert nodes["x"]["line"] is None and nodes["x"]["seq"] is None  # a leaf ran nothing
    # seq is torch's own sequence number, in the order the ops ran
    fns = session.state.trace.node_of
    for node in result["trace"]["nodes"]:
        if node["kind"] == "op":
            assert node["seq"] == fns[node["id"]]._sequence_nr()
    order = [n["name"] for n in sorted((n for n in result["trace"]["nodes"] if n["kind"] == "op"),
                                       key=lambda n: n["seq"])]
    assert order[:3] == ["SubBackward0", "SqrtBackward0", "MulBackward0"]
    assert order[-1] == "SumBackward0"


def test_nodes_inside_modules_and_functions_get_the_calling_line():
    source = """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))

def twice(t):
    return t * 2 + 1

x = torch.randn(5, 3)
out = model(x)
y = twice(out)
loss = y.mean()
"""
    _session, result = run(source)
    lines = {n["id"]: n["line"] for n in result["trace"]["nodes"] if n["kind"] == "op"}
    scopes = {n["id"]: n["scope"] for n in result["trace"]["nodes"]}
    in_model = [i for i in lines if scopes[i] in ("0", "1", "2")]
    assert in_model and all(lines[i] == 8 for i in in_model)
    names = {n["id"]: n["name"] for n in result["trace"]["nodes"]}
    assert {lines[i] for i in lines if names[i] in ("MulBackward0", "AddBackward0")} == {9}
    assert lines["n0"] == 10


def test_the_final_expression_gets_its_line():
    _session, result = run("x = torch.ones(2, requires_grad=True)\n\n(x * 2).sum()\n")
    root = result["trace"]["nodes"][0]
    assert root["name"] == "SumBackward0" and root["line"] == 3
    assert result["trace"]["nodes"][1]["line"] == 3


def test_slots_count_next_functions_including_inputs_without_grad():
    source = """\
w = torch.ones(2, requires_grad=True)
data = torch.tensor([1.0, 2.0])
y = (w * data).sum()
"""
    session, result = run(source)
    mul = next(n for n in result["trace"]["nodes"] if n["name"] == "MulBackward0")
    fn = session.state.trace.node_of[mul["id"]]
    assert mul["slots"] == len(fn.next_functions) == 2
    assert fn.next_functions[1][0] is None  # data needs no grad: no edge, one slot
    assert [e["slot"] for e in result["trace"]["edges"] if e["source"] == mul["id"]] == [0]


def test_lines_change_nothing_torch_does():
    source = """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
x = torch.randn(6, 3)
loss = model(x).pow(2).mean()
loss.backward()
grads = [p.grad.clone() for p in model.parameters()]
"""
    session, _result = run(source)
    plain = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(source, "<plain>", "exec"), plain)
    for ours, theirs in zip(session.state.namespace["grads"], plain["grads"]):
        assert torch.equal(ours, theirs)


def test_see_and_bind_note_a_line_only_after_a_node_was_made(monkeypatch):
    """``Observer.see`` and ``bind`` call ``LineIndex.note`` (and read the caller's frame)
    only when the counter moved since the last note: ``note`` would change nothing
    otherwise. The lines found stay the same (the tests above)."""
    from gradstep.autograd.observe import Observer

    observer, noted = Observer(), []
    note = LineIndex.note
    monkeypatch.setattr(LineIndex, "note", lambda self, c, line: noted.append(line) or note(self, c, line))
    x = torch.ones(2, requires_grad=True)
    observer.see(x * 2)  # a node was made: noted
    for _ in range(3):  # nothing made since: not noted again
        observer.see(range(3))
        observer.see(x)
        observer.bind({"x": x})
    assert len(noted) == 1 and observer.lines.lines == noted
    observer.bind({"y": x + 1})  # a new node: noted
    assert len(noted) == 2


def test_the_lines_of_many_keys_are_get_s():
    index = LineIndex()
    for counter, line in [(2, 1), (5, 2), (7, 2), (9, 4)]:
        index.note(counter, line)
    keys = [("op", s, "MulBackward0") for s in range(12)] + [None, ("leaf", 5)]
    many = index.of_keys(keys)
    assert {key: index.get(key) for key in keys if key} == {key: many.get(key) for key in keys if key}
    assert None not in many.values() and len(many) == 9  # 9 and later: no line; leaves: none
