"""Every seed lesson walked in the window, pass by pass and step by step, against torch.

A person's flow: Examples › lesson, Run, then Step (Alt+Right) through each pass of
the pass list. At every step what the window *shows* is read back — the graph's
node states, the saved-tensor pills (alive or freed), the gradients written on the
edges, each leaf's ``.grad`` in its tooltip, the Saved panel's rows and the node
the Values panel describes — and compared with an independent torch run of the
same file with hooks on the same graph (tests/step_oracle.py).
"""

from __future__ import annotations

import pytest
import torch

from gradstep.autograd.session import Session
from gradstep.autograd.step_state import is_tensor_entry
from gradstep.drawing.style import gradient_text
from gradstep.examples import EXAMPLES
from tests.step_oracle import drawn_ids, expected_state, oracle_run, printed

WAIT = 60_000


@pytest.fixture
def window(make_window):
    return make_window(Session)


def run_lesson(qtbot, window, example_id: str) -> dict:
    """Load a lesson from the Examples menu and run it as a person does; return the result."""
    action = next(a for a in window.examples_menu.actions() if a.data() == example_id)
    action.trigger()
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT) as blocker:
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    return blocker.args[0]


def shown_freed(window) -> dict:
    """Return {node: freed} as the graph's saved pills show it."""
    out = {}
    for node, entries in window.graph_view.graph_scene.saved.items():
        tensors = [e for e in entries if is_tensor_entry(e)]
        if tensors:
            out[node] = any(e["freed"] for e in tensors)
    return out


def grad_words(grad) -> list[str]:
    """Return the texts a tensor shown by gradstep must contain (its numbers, or for a big
    one its min and max)."""
    if grad is None:
        return ["None"]
    if grad.numel() <= 64:
        return [printed(grad)]  # all its numbers, as torch's print writes them
    return [f"min {printed(grad.min())}", f"max {printed(grad.max())}"]  # as torch prints them


def shown_part(cell: str, words: str) -> bool:
    """Whether a table cell shows ``words`` (torch's print of a tensor, or one of its
    statistics): all of it, or its first whole numbers then ``…`` (never a number cut
    short: ``0.10…`` of 0.1051)."""
    if words in cell:
        return True
    if "…" not in cell or not words.startswith("["):
        return False
    head = cell[:cell.index("…")].rstrip(", [")
    return len(head) > 1 and words.startswith(head) and words[len(head)] in ",]"


def check_step(window, expected: dict, labels: dict, where: str) -> None:
    view = window.graph_view
    for node, state in expected["node_states"].items():
        assert view._states.get(node) == state, (where, node, view._states)
        assert view.graph_scene.states.get(node, "pending") == state, (where, node)
    # an edge is drawn done (a gradient left its node) only from a node that ran in this
    # pass: not from one whose buffers an earlier pass freed
    ran = {n for n, st in expected["node_states"].items() if st in ("done", "freed")}
    assert view.graph_scene.done_nodes & set(expected["node_states"]) == ran, (where, ran)
    freed = shown_freed(window)
    for node, is_freed in expected["freed"].items():
        if node in freed:
            assert freed[node] == is_freed, (where, node, "pill")
    want_labels = {edge: gradient_text(g.tolist()) for edge, g in expected["edge_grads"].items()}
    assert view._labels == {e: t for e, t in want_labels.items() if t}, (where, view._labels)
    for node, label in labels.items():  # each leaf's .grad now, in its tooltip
        if label in expected["leaf_grads"]:
            grad = expected["leaf_grads"][label]
            tip = view.node_tooltip(node, window.model.graph.nodes[node])
            for words in grad_words(grad):
                assert f"{label}.grad now: " in tip, (where, tip)
                now = tip.split(f"{label}.grad now: ")[1].split("<br>")[0]
                assert shown_part(now, words), (where, tip, words)
    focus = expected["current"] or window.model.focus_node()
    window.docks["values"].raise_()  # Values and Saved share a tab group: look at each
    assert window.values_panel.node_id == focus, where  # the panels follow the ▶ node
    window.docks["saved"].raise_()
    table = window.saved_panel.table
    rows = {table.topLevelItem(i).text(0): table.topLevelItem(i).text(2)
            for i in range(table.topLevelItemCount())}
    assert rows == {name: state for name, _shape, state in window.saved_panel_rows()}
    if focus in expected["freed"] and rows:
        tensor_states = {s for s in rows.values() if s in ("alive", "freed")}
        assert tensor_states <= {"freed" if expected["freed"][focus] else "alive"}, (where, rows)


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_walk_every_step_of_every_pass(qtbot, window, example):
    result = run_lesson(qtbot, window, example.id)
    oracle = oracle_run(example.path.read_text(encoding="utf-8"), "<snippet>")
    if result["trace"] is None:  # the differentiated tensor has no graph: say so, plainly
        assert window.model.graph is None and window.model.passes == []
        assert "no graph" in window.graph_view.scene().items()[0].toPlainText().lower()
        assert window.editor.error_line == result["error"]["line"]
        return
    ids = drawn_ids(oracle, result["trace"], result["root_name"])
    labels = {n: a["label"] for n, a in window.model.graph.nodes(data=True) if a["kind"] == "leaf"}
    snippet_passes = [p for p in window.model.passes if p.source == "snippet"]
    for p, record in enumerate(snippet_passes):
        call = next(c for c in result["calls"] if c.get("timeline") is record.timeline)
        torch_call = oracle.calls[call["index"]]
        window.step_bar.passes.setCurrentIndex(p)
        window.step_bar.passes.activated.emit(p)
        assert window.model.pass_index == p and window.model.step == 0
        assert window.editor.pass_line == call["line"]  # its line is highlighted
        for k in range(record.timeline and len(record.timeline["steps"]) + 1):
            if k:
                window.step_bar.act_forward.trigger()
            assert window.model.step == k
            check_step(window, expected_state(torch_call, k, ids, labels), labels,
                       f"{example.id} pass {p + 1} step {k}")
        for node, label in labels.items():  # .grad after the pass, in the leaf table
            grad = torch_call.snapshots[-1]["grads"].get(
                next(fn for fn, i in ids.items() if i == node), None)
            cell = window.leaf_panel.cell(label, p)
            for words in grad_words(grad):
                assert shown_part(cell, words), (example.id, p, label, cell, words)


@pytest.mark.parametrize("example_id", ["mse_autograd_grad", "grad_fn_chain"])
def test_stepping_back_and_reset_show_each_earlier_step_as_torch_had_it(qtbot, window,
                                                                       example_id):
    """Run to end, then Step back to the start, then Reset from the middle: at each step
    the gradients on the edges, the node states and the pills are torch's at that step
    (a step undone takes off the gradients its step sent: torch has not sent them yet)."""
    example = next(e for e in EXAMPLES if e.id == example_id)
    result = run_lesson(qtbot, window, example_id)
    oracle = oracle_run(example.path.read_text(encoding="utf-8"), "<snippet>")
    ids = drawn_ids(oracle, result["trace"], result["root_name"])
    labels = {n: a["label"] for n, a in window.model.graph.nodes(data=True) if a["kind"] == "leaf"}
    record = next(p for p in window.model.passes if p.source == "snippet")
    call = next(c for c in result["calls"] if c.get("timeline") is record.timeline)
    torch_call = oracle.calls[call["index"]]
    steps = len(record.timeline["steps"])
    assert steps >= 2
    window.step_bar.act_end.trigger()
    for k in range(steps, -1, -1):
        assert window.model.step == k
        check_step(window, expected_state(torch_call, k, ids, labels), labels,
                   f"{example_id} back at step {k}")
        if k:
            window.step_bar.act_back.trigger()
    window.model.set_step(steps // 2 + 1)
    window.step_bar.act_reset.trigger()
    assert window.model.step == 0
    assert window.graph_view._labels == {}
    check_step(window, expected_state(torch_call, 0, ids, labels), labels, "after Reset")


def test_failing_lesson_opens_on_its_graph_stopped_where_torch_raised(qtbot, window):
    window.editor.setPlainText("import torch\nx = torch.ones(2, requires_grad=True)\n"
                               "y = x + 2\nout = y.sum()\n")
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.act_run.trigger()
    old_nodes = set(window.model.graph.nodes)
    result = run_lesson(qtbot, window, "retain_graph_error")
    assert not result["ok"]
    graph = window.model.graph
    assert {a["name"] for _, a in graph.nodes(data=True)} == {
        "SelectBackward0", "SoftmaxBackward0", "AccumulateGrad"}  # the lesson's own graph
    assert set(window.graph_view.graph_scene.graph.nodes) == set(graph.nodes) != old_nodes
    assert [p.line for p in window.model.passes] == [10, 13]  # no pass of the old run
    assert window.model.pass_index == 1 and window.model.at_end()
    error_node = next(n for n, a in graph.nodes(data=True) if a["name"] == "SoftmaxBackward0")
    assert window.graph_view._states[error_node] == "error"
    assert shown_freed(window)[error_node] is True  # it failed because its buffers were freed
    assert window.values_panel.node_id == error_node
    assert window.editor.error_line == 13


@pytest.mark.parametrize("source, kind, line", [
    ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n",
     "non_scalar", 4),
    ("import torch\nx = torch.ones(3, requires_grad=True)\na = x.sigmoid()\na.mul_(2)\n"
     "a.sum().backward()\n", "inplace", 5),
    ("import torch\nx = torch.ones(3, requires_grad=True)\nz = torch.ones(3, requires_grad=True)\n"
     "y = (x * 2).sum()\ntorch.autograd.grad(y, [x, z])\n", "unused_input", 5),
])
def test_other_errors_show_the_graph_they_built(qtbot, window, source, kind, line):
    window.editor.setPlainText(source)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT) as blocker:
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    result = blocker.args[0]
    assert result["error"]["kind"] == kind and window.editor.error_line == line
    assert window.graph_view.graph_scene is not None  # the graph, not "no graph yet"
    assert window.model.passes and window.model.passes[-1].failed
    assert window.model.at_end() and window.model.state().error is not None
    oracle = oracle_run(source, "<snippet>")
    raised_in = [fn for fn in oracle.calls[-1].order if fn not in oracle.calls[-1].snapshots[-1]["sent"]]
    errors = {n for n, s in window.graph_view._states.items() if s == "error"}
    assert len(errors) == len(raised_in)  # in-place: the node torch raised in; others: none


def test_no_grad_error_says_there_is_no_graph(qtbot, window):
    window.editor.setPlainText("import torch\nx = torch.ones(3, requires_grad=True)\n"
                               "with torch.no_grad():\n    loss = (x * 2).sum()\nloss.backward()\n")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    with torch.no_grad():
        assert (torch.ones(3, requires_grad=True) * 2).sum().grad_fn is None  # torch: no graph
    text = window.graph_view.scene().items()[0].toPlainText()
    assert text.startswith("No graph") and "grad_fn" in text
    assert window.model.passes == [] and window.step_bar.position.text().strip() == "0 / 0 steps done"


def test_a_syntax_error_says_no_line_ran(qtbot, window):
    source = "import torch\nx = torch.ones(2, requires_grad=True)\ny = (x * 2\nloss = y.sum()\n"
    window.editor.setPlainText(source)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    text = window.graph_view.scene().items()[0].toPlainText()
    # Python compiles the whole snippet first: line 2 never ran, so "stopped at line 3" is wrong
    assert "none of the snippet ran" in text and "line 3" in text and "stopped" not in text
    assert window.editor.toPlainText() == source  # the text is never lost


def test_a_node_that_saved_no_tensors_is_not_said_to_keep_them(qtbot, window):
    run_lesson(qtbot, window, "retain_graph_fixed")  # pass 1: retain_graph=True
    window.model.run_to_end()
    graph, view = window.model.graph, window.graph_view
    x = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = torch.nn.functional.softmax(x, dim=0)
    # torch's nodes: AccumulateGrad saves nothing, SoftmaxBackward0 saves its result
    assert not [a for a in dir(p.grad_fn.next_functions[0][0]) if a.startswith("_saved_")]
    assert "_saved_result" in dir(p.grad_fn)
    tips = {attrs["name"]: view.node_tooltip(node, attrs) for node, attrs in graph.nodes(data=True)
            if window.model.node_state(node) == "done"}
    assert "its saved tensors are kept" in tips["SoftmaxBackward0"]  # kept: retain_graph=True
    assert "its saved tensors are kept" not in tips["AccumulateGrad"]
    assert "saved no tensors" in tips["AccumulateGrad"]


def test_the_errors_panel_shows_code_words_as_code_not_backticks(qtbot, window):
    result = run_lesson(qtbot, window, "requires_grad_error")
    assert "`mse`" in result["error"]["explanation"]  # the words mark code, as the CLI prints
    text = window.errors_panel.toPlainText()
    assert "`" not in text.replace(result["error"]["message"], "")  # torch's own stays as is
    assert "<code>mse</code>" in window.errors_panel._shown
    graph_text = window.graph_view.scene().items()[0].toPlainText()  # "No graph to draw: ..."
    assert "mse was computed only from tensors" in graph_text and "`" not in graph_text


def test_the_errors_panel_shows_what_the_source_tells_of_a_missing_grad_fn(qtbot, window):
    """A loss computed from ``pred``, made under no_grad: the panel shows the general causes
    with that fact (line 4's block), and a gradient taken without create_graph is named."""
    window.editor.setPlainText("import torch\nw = torch.ones(3, requires_grad=True)\n"
                               "x = torch.ones(3)\nwith torch.no_grad():\n    pred = w * x\n"
                               "loss = (pred - 1).pow(2).sum()\nloss.backward()\n")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT) as blocker:
        window.act_run.trigger()
    assert blocker.args[0]["error"]["line"] == 7
    text = window.errors_panel.toPlainText()
    assert "computed from pred" in text and "block of line 4" in text, text
    window.editor.setPlainText("import torch\nx = torch.tensor(2., requires_grad=True)\n"
                               "g, = torch.autograd.grad(x ** 3, x)\ntorch.autograd.grad(g, x)\n")
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    text = window.errors_panel.toPlainText()
    assert "returned on line 3 without create_graph=True" in text, text
