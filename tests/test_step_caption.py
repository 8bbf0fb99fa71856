"""The step caption (presentation mode, the animated exports) against torch.

It writes a formula only for the inputs torch sends a gradient to. It listed one for every
input of the node: ``F.layer_norm(x, shape, weight)`` showed ``∂L/∂β = Σ g`` though there
is no β and torch sends nothing there, while the Values panel's formula box said no
gradient flows there. Here each snippet runs under plain torch with a hook on the node (its
``next_functions`` and the ``grad_inputs`` torch hands the hook), and under gradstep's
Session; the caption at that node's step must hold an input's readable formula exactly
where torch sent that input a gradient.

At the end of a pass whose last step raised, it read "After step 2 of 2: torch raised",
as if step 2 had finished (the notebook's "After 2 of 2 steps: … ran and raised" too):
both now name the step that raised, and the pass's count of steps done is the steps torch
finished (``tests/step_oracle.py``: the nodes whose hook ran after they computed).
"""

from __future__ import annotations

import pytest

from gradstep.autograd.formula_words import worded
from gradstep.autograd.formulas import input_slots
from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.autograd.step_state import PassHistory, drawn_calls

torch = pytest.importorskip("torch")

HEAD = "import torch\nimport torch.nn.functional as F\ntorch.manual_seed(0)\n"
CASES = {  # the node to look at, the snippet (its loss ``loss``)
    "layer_norm_no_bias": ("NativeLayerNormBackward0",
        "x = torch.randn(2, 3, requires_grad=True)\nweight = torch.randn(3, requires_grad=True)\n"
        "y = F.layer_norm(x, (3,), weight)\nloss = y.sum()\n"),
    "input_needs_none": ("MulBackward0",
        "x = torch.randn(3)\nw = torch.randn(3, requires_grad=True)\nloss = (x * w).sum()\n"),
    "mse_target_needs_none": ("MseLossBackward0",
        "x = torch.randn(3, requires_grad=True)\nt = torch.randn(3)\nloss = F.mse_loss(x, t)\n"),
    "addmm_bias_needs_none": ("AddmmBackward0",
        "b = torch.randn(2)\nx = torch.randn(4, 3, requires_grad=True)\n"
        "w = torch.randn(3, 2, requires_grad=True)\nloss = torch.addmm(b, x, w).sum()\n"),
    "conv_without_bias": ("ConvolutionBackward0",
        "x = torch.randn(1, 1, 5, 5, requires_grad=True)\n"
        "w = torch.randn(2, 1, 3, 3, requires_grad=True)\nloss = F.conv2d(x, w).sum()\n"),
    "every_input": ("MulBackward0",
        "x = torch.randn(3, requires_grad=True)\nw = torch.randn(3, requires_grad=True)\n"
        "loss = (x * w).sum()\n"),
}


def torch_node(source: str, name: str):
    """Run ``source`` (no backward) under plain torch; return its namespace and the node
    named ``name`` of ``loss``'s graph."""
    namespace: dict = {}
    exec(HEAD + source, namespace)  # noqa: S102 (the snippet above, as plain python runs it)
    seen, todo = set(), [namespace["loss"].grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if node.name() == name:
            found = node
        todo += [f for f, _ in node.next_functions]
    return namespace, found


def torch_sends(source: str, name: str) -> list[bool]:
    """Run ``source`` under plain torch; return, per slot of the node named ``name``, whether
    torch sent a gradient there (its ``next_functions`` entry and the hook's ``grad_inputs``)."""
    namespace, found = torch_node(source, name)
    sent: list = []
    found.register_hook(lambda grad_inputs, grad_outputs: sent.extend(grad_inputs))
    namespace["loss"].backward()
    return [f is not None and g is not None for (f, _), g in zip(found.next_functions, sent, strict=True)]


def caption_at(source: str, name: str):
    """Return the node's attributes, the caption's formula line at its step and the step
    (``source`` ends with its backward call)."""
    from gradstep.drawing.step_caption import caption_lines

    session = Session()
    result = session.run(HEAD + source)
    graph = graph_from_json(result["trace"])
    index = PassHistory(graph, [c["timeline"] for c in drawn_calls(result["calls"], graph)]).index(0)
    (k,) = [k for k, step in enumerate(index.steps) if graph.nodes[step["node"]]["name"] == name]
    return graph.nodes[index.steps[k]["node"]], caption_lines(graph, index, k)[1], index.steps[k]


@pytest.mark.parametrize("case", list(CASES))
def test_the_caption_writes_formulas_only_where_torch_sends_a_gradient(case):
    name, source = CASES[case]
    sends = torch_sends(source, name)
    attrs, line, _ = caption_at(source + "loss.backward()\n", name)
    slots = input_slots(name, attrs.get("slots"))
    readable = attrs["formula_math"]["inputs"]
    assert set(readable) <= set(slots), (readable, slots)
    assert any(sends) and line
    for input_name, item in readable.items():
        assert (worded(item["text"]) in line) == sends[slots[input_name]], (input_name, line, sends)


RAISING = {  # a pass that raises: the failing call is the snippet's last backward
    "retain_graph_error": None,  # the lesson: its second backward, at SoftmaxBackward0
    "inplace": "a = torch.tensor([1.0, 2.0], requires_grad=True)\nb = a.sigmoid()\nb.mul_(2)\n"
               "b.sum().backward()\n",
    "node_hook": "a = torch.tensor([1.0, 2.0], requires_grad=True)\nc = (a * 2).sin()\n"
                 "def bad(gi, go):\n    raise ValueError('no')\n"
                 "c.grad_fn.register_hook(bad)\nc.sum().backward()\n",
    "tensor_hook": "a = torch.tensor([1.0, 2.0], requires_grad=True)\nb = a * 2\nc = b.sin()\n"
                   "def bad(g):\n    raise ValueError('no')\n"
                   "b.register_hook(bad)\nc.sum().backward()\n",
}


@pytest.mark.parametrize("case", list(RAISING))
def test_the_end_of_a_pass_that_raised_counts_the_steps_torch_finished(case):
    from gradstep.drawing.step_caption import caption_lines
    from gradstep.examples import EXAMPLES_DIR
    from gradstep.notebook import step_captions
    from tests.step_oracle import oracle_run

    source = (EXAMPLES_DIR / f"{case}.py").read_text(encoding="utf-8") if RAISING[case] is None \
        else HEAD + RAISING[case]
    call = oracle_run(source).calls[-1]
    assert call.raised is not None
    finished = sum(1 for fn, sent in call.snapshots[-1]["sent"].items() if fn in call.order)
    started = len(call.order)
    result = Session().run(source)
    graph = graph_from_json(result["trace"])
    timelines = [c["timeline"] for c in drawn_calls(result["calls"], graph)]
    index = PassHistory(graph, timelines).index(len(timelines) - 1)
    end = index.count
    assert index.error_at(end) and index.steps_done(end) == finished
    head = caption_lines(graph, index, end)[0]
    shown = step_captions(result["trace"], timelines[-1])[-1]  # step_through()'s last frame
    assert shown == tuple(caption_lines(graph, index, end))
    if started > finished:  # a node began and did not finish: that step raised
        assert index.raised_step(end) == started == index.count
        node = graph.nodes[index.steps[started - 1]["node"]]["name"]
        assert head.startswith(f"Step {started} of {index.count}: ✗ {node}")
        assert " raised: " in head
    else:  # torch raised between nodes (a tensor hook, before the next node ran)
        assert index.raised_step(end) is None and finished == index.count
        assert head.startswith(f"After step {finished} of {finished}: torch raised: ")


RAISED_AT = {  # MulBackward0 raises at its step (torch sends nothing); x needs no gradient
    "node_hook": "x = torch.randn(3)\nw = torch.randn(3, requires_grad=True)\nm = x * w\n"
                 "def bad(gi, go):\n    raise ValueError('no')\n"
                 "m.grad_fn.register_hook(bad)\nloss = m.sum()\n",
    "inplace": "x = torch.randn(3)\nw = torch.randn(3, requires_grad=True)\nm = x * w\n"
               "x.add_(1)\nloss = m.sum()\n",
}


@pytest.mark.parametrize("case", list(RAISED_AT))
def test_the_caption_at_a_step_that_raised_writes_no_formula_for_an_input_torch_never_sends_to(case):
    """At the step that raised torch sent no gradient at all: the caption keeps the formulas
    of the inputs wired to a node (torch's ``next_functions``), not ``∂/∂x`` for an ``x``
    whose entry is ``(None, 0)``."""
    source = RAISED_AT[case]
    namespace, found = torch_node(source, "MulBackward0")
    wired = [f is not None for f, _ in found.next_functions]
    with pytest.raises((ValueError, RuntimeError)):
        namespace["loss"].backward()  # plain torch raises there
    attrs, line, step = caption_at(source + "loss.backward()\n", "MulBackward0")
    assert step["error"] and step["grad_inputs"] is None  # gradstep saw it raise there too
    slots = input_slots("MulBackward0", attrs.get("slots"))
    readable = attrs["formula_math"]["inputs"]
    assert line and any(wired) and not all(wired)
    for input_name, item in readable.items():
        assert (worded(item["text"]) in line) == wired[slots[input_name]], (input_name, line, wired)


@pytest.mark.parametrize("case", list(CASES))
def test_the_hover_text_writes_formulas_only_for_inputs_torch_can_send_to(case):
    """The node's hover text is not tied to a step: an input's line is there exactly where
    torch's ``next_functions`` entry leads to a node (``(None, 0)``: never a gradient)."""
    from gradstep.autograd.formula_step import wired_slots
    from gradstep.ui.tensor_text import node_tooltip

    name, source = CASES[case]
    _, found = torch_node(source, name)
    wired = [f is not None for f, _ in found.next_functions]
    result = Session().run(HEAD + source)
    graph = graph_from_json(result["trace"])
    (node,) = [n for n, a in graph.nodes(data=True) if a.get("name") == name]
    attrs = graph.nodes[node]
    tip = node_tooltip(attrs, wired=wired_slots(graph, node))
    slots = input_slots(name, attrs.get("slots"))
    assert any(wired) and set(attrs["formula"]) <= set(slots)
    for input_name in attrs["formula"]:
        assert (f"&nbsp;&nbsp;{input_name}: " in tip) == wired[slots[input_name]], (input_name, tip)


EXITING = ("import sys\na = torch.tensor([1.0, 2.0], requires_grad=True)\nc = (a * 2).sin()\n"
           "def bye(gi, go):\n    sys.exit(0)\nc.grad_fn.register_hook(bye)\nloss = c.sum()\n")


def test_a_hook_s_sys_exit_at_a_step_leaves_that_step_unfinished():
    """A node hook's ``sys.exit(0)`` ends the snippet as its end would (the pass keeps no
    error), but torch stopped at that node: the counter and the caption say so, as after a
    step that raised (the bar read "2 / 2 steps done" and the caption "the pass is done")."""
    from gradstep.drawing.step_caption import caption_lines
    from tests.step_oracle import reachable

    namespace, _ = torch_node(EXITING, "SumBackward0")
    started, finished = [], []
    for fn in reachable([namespace["loss"].grad_fn]):  # after the snippet's own hook
        fn.register_prehook(lambda go, fn=fn: started.append(fn))
        fn.register_hook(lambda gi, go, fn=fn: finished.append(fn))
    with pytest.raises(SystemExit):
        namespace["loss"].backward()
    result = Session().run(HEAD + EXITING + "loss.backward()\n")
    graph = graph_from_json(result["trace"])
    index = PassHistory(graph, [c["timeline"] for c in drawn_calls(result["calls"], graph)]).index(0)
    end = index.count
    assert index.count == len(started) > len(finished)
    assert index.steps_done(end) == len(finished) and index.raised_step(end) == len(started)
    head = caption_lines(graph, index, end)[0]
    assert head == f"Step {len(started)} of {len(started)}: ✗ {started[-1].name()} (c) raised"



def test_a_pass_whose_steps_are_not_shown_does_not_say_no_step_ran():
    """``autograd.grad(..., is_grads_batched=True)`` runs its nodes (a pre-hook on ``y``'s
    node runs under plain torch) but shows no steps (``no_steps``): the caption of its one
    position said "No step ran: the pass is done", where the Values header and the status
    bar say the pass shows no steps and why. It now says the same."""
    from gradstep.drawing.step_caption import caption_lines

    source = ("x = torch.randn(3, requires_grad=True)\ny = (x.sin() * 2).sum()\n"
              "g, = torch.autograd.grad(y, x, torch.ones(2), is_grads_batched=True)\n")
    namespace: dict = {}
    exec(HEAD + source.replace("g, =", "ran = []\ny.grad_fn.register_prehook("  # noqa: S102
                               "lambda go: ran.append(1))\ng, ="), namespace)
    assert namespace["ran"] == [1]  # torch ran y's node
    session = Session()
    result = session.run(HEAD + source)
    graph = graph_from_json(result["trace"])
    (call,) = drawn_calls(result["calls"], graph)
    assert call["timeline"]["no_steps"] == "batched"
    index = PassHistory(graph, [call["timeline"]]).index(0)
    assert index.count == 0
    head, detail = caption_lines(graph, index, 0)
    assert "No step ran" not in head
    assert head.startswith("The pass ran and shows no steps") and "is_grads_batched=True" in detail


def test_a_root_hook_s_sys_exit_before_any_node_does_not_say_the_pass_is_done():
    """A hook on the root tensor that calls ``sys.exit(0)``: python ends there (exit 0, the
    print after ``loss.backward()`` never runs, no ``.grad``), before torch ran a node. The
    call keeps no error and has no step, so the caption read "No step ran: the pass is done",
    as of a pass that finished; it now says the snippet ended there."""
    import subprocess
    import sys

    from gradstep.drawing.step_caption import caption_lines

    source = ("import sys\nimport torch\na = torch.tensor([1.0, 2.0], requires_grad=True)\n"
              "loss = (a * 2).sum()\nloss.register_hook(lambda g: sys.exit(0))\n"
              "loss.backward()\nprint('after', a.grad)\n")
    plain = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                           timeout=120)
    assert plain.returncode == 0 and "after" not in plain.stdout  # python ended in the hook
    session = Session()
    result = session.run(source)
    graph = graph_from_json(result["trace"])
    (call,) = drawn_calls(result["calls"], graph)
    assert call["timeline"]["steps"] == [] and call["timeline"]["error"] is None
    index = PassHistory(graph, [call["timeline"]]).index(0)
    head, _ = caption_lines(graph, index, 0)
    assert "the pass is done" not in head and head.startswith("No step ran: the snippet ended"), head
