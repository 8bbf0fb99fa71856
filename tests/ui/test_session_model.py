"""The window's model against the backward part's own functions and torch's numbers."""

from __future__ import annotations

import pytest

from gradstep.autograd.session import Session
from gradstep.autograd.timeline import node_states
from gradstep.ui.qt_session_model import QtSessionModel

SOURCE = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
          "y = (x * x).sin()\nout = (y * 3).sum()\n")


@pytest.fixture(scope="module")
def run_and_passes():
    session = Session()
    result = session.run(SOURCE)
    assert result["ok"], result["error"]
    retained = session.backward(retain_graph=True, passes=2)
    freeing = session.backward(retain_graph=False)
    failing = session.backward(retain_graph=False)  # the graph is gone: torch refuses
    return result, [retained, freeing, failing]


def test_model_steps_through_passes_from_step_state(qtbot, run_and_passes):
    result, (retained, freeing, failing) = run_and_passes
    model = QtSessionModel()
    model.set_run_result(result)
    assert model.timeline is None and model.step_count == 0
    model.add_timeline(freeing)
    assert model.state().retain_graph is False and model.state().freed == frozenset()
    with qtbot.waitSignal(model.sigStepChanged, timeout=1000):
        model.run_to_end()
    assert model.states() == node_states(freeing, len(freeing["steps"]), model.graph.nodes)
    assert model.state().freed == frozenset(freeing["freed_nodes"])
    model.add_timeline(failing)
    model.run_to_end()
    assert model.state().error is not None and "second time" in model.error["message"]
    # the failing pass starts with the first one's buffers freed
    assert model.history.index(1).freed_after.keys() >= set(freeing["freed_nodes"])


def test_a_step_clears_the_selection_so_the_panels_follow_the_play_node(qtbot, run_and_passes):
    result, (retained, freeing, failing) = run_and_passes
    model = QtSessionModel()
    model.set_run_result(result)
    model.add_timeline(freeing)
    model.select("n3")
    assert model.focus_node() == "n3"
    model.step_forward()
    assert model.selected == "" and model.focus_node() == freeing["steps"][1]["node"]
    model.run_to_end()
    assert model.focus_node() == freeing["steps"][-1]["node"]  # the end: the node that ran last


def test_a_pass_from_the_root_fades_the_nodes_above_it(qtbot, run_and_passes):
    """retain_graph_fixed draws p[1]'s two SelectBackward0 over softmax's p (the lesson's own
    calls); Backward again runs from p, which never reaches them: torch runs
    SoftmaxBackward0 first. They were drawn as pending nodes of that pass."""
    from types import SimpleNamespace

    from gradstep.examples import EXAMPLES_DIR
    from gradstep.ui.qt_graph_follower import QtGraphFollower

    session = Session()
    result = session.run((EXAMPLES_DIR / "retain_graph_fixed.py").read_text(encoding="utf-8"))
    model = QtSessionModel()
    model.set_run_result(result)
    selects = {n for n, a in model.graph.nodes(data=True) if a["name"] == "SelectBackward0"}
    assert len(selects) == 2
    timeline = session.backward(gradient="ones")  # the lesson's second backward freed p's buffers
    assert timeline["steps"][0]["name"] == "SoftmaxBackward0"
    model.add_timeline(timeline)
    assert set(model.current_pass().members) == set(model.graph.nodes) - selects
    assert QtGraphFollower.outside(SimpleNamespace(model=model), model.index()) == selects
    # a graph the pass reaches whole fades nothing
    result, (_retained, freeing, _failing) = run_and_passes
    model.set_run_result(result)
    model.add_timeline(freeing)
    assert freeing["roots"] and model.current_pass().members is None


def test_a_node_built_after_a_call_is_said_to_be_so_while_that_call_is_stepped(qtbot):
    """retain_graph_error: line 13's p[1] builds a second SelectBackward0 after line 10's
    backward() ran; stepping line 10's pass, that box was "not run in this pass", as if it
    had existed then."""
    import torch
    import torch.nn.functional as F

    from gradstep.examples import EXAMPLES_DIR

    session = Session()
    result = session.run((EXAMPLES_DIR / "retain_graph_error.py").read_text(encoding="utf-8"))
    model = QtSessionModel()
    model.set_run_result(result)
    first, second = [c["nodes"][0]["id"] for c in result["calls"]]
    assert model.node(first)["name"] == model.node(second)["name"] == "SelectBackward0"
    model.choose_timeline(0)
    assert model.built_later(second) and not model.built_later(first)
    assert not any(model.built_later(n) for n in model.graph.nodes if n != second)
    model.choose_timeline(1)
    assert not any(model.built_later(n) for n in model.graph.nodes)
    # torch: the second p[1]'s node is numbered after everything the first backward saw
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    one = p[1]
    one.backward()
    assert p[1].grad_fn._sequence_nr() > one.grad_fn._sequence_nr() > p.grad_fn._sequence_nr()


def test_no_node_is_said_built_later_when_the_snippet_built_nodes_on_another_thread(qtbot):
    """torch numbers each thread's nodes from that thread's own counter: the 30
    MulBackward0 a thread built before z.backward() are numbered from 0, as if built after
    it. Stepping that call, they said 'not built yet when this pass ran'."""
    source = (
        "import threading\nimport torch\n"
        "a = torch.tensor([1.0, 2.0], requires_grad=True)\nout = {}\n"
        "def work():\n    y = a\n    for _ in range(30):\n        y = y * 1.01\n"
        "    out['y'] = y\n"
        "t = threading.Thread(target=work)\nt.start()\nt.join()\n"
        "z = (a * 2).sum()\nz.backward(retain_graph=True)\n"
        "loss = out['y'].sum() + z\nloss.backward()\n")
    model = QtSessionModel()
    model.set_run_result(Session().run(source))
    model.choose_timeline(0)
    assert model.graph.number_of_nodes() > 30
    assert not any(model.built_later(n) for n in model.graph.nodes)


def test_nodes_a_create_graph_pass_built_are_not_said_built_after_it(qtbot):
    """autograd.grad(y, x, create_graph=True) builds g's graph (PowBackward0, MulBackward1,
    MulBackward0) while it runs; stepping that call, they read 'not built yet when this
    pass ran', as if torch made them after it. (y + g)'s AddBackward0 was built after.
    Before the step that builds them they were not built yet (statehunt5: checked against
    torch in ``test_a_create_graph_pass_shows_the_nodes_it_builds_as_torch_builds_them``)."""
    source = ("import torch\nx = torch.tensor(2.0, requires_grad=True)\ny = x ** 3\n"
              "g, = torch.autograd.grad(y, x, create_graph=True)\n(y + g).backward()\n")
    model = QtSessionModel()
    model.set_run_result(Session().run(source))
    model.choose_timeline(0)
    model.set_step(model.step_count)
    later = {model.node(n)["name"] for n in model.graph.nodes if model.built_later(n)}
    assert later == {"AddBackward0"}
    model.set_step(0)
    later = {model.node(n)["name"] for n in model.graph.nodes if model.built_later(n)}
    assert later == {"AddBackward0", "PowBackward0", "MulBackward0", "MulBackward1"}
