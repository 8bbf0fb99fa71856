"""The graph's boxes show torch's state at the step shown, however the step was reached.

What is expected is read off the backward JSON's own steps (torch's order, and which
steps freed their node's buffers), not from ``step_state``: after ``k`` steps the nodes of
``steps[:k]`` ran (freed where their step freed, ✗ where it raised), ``steps[k]`` is ▶,
and every other node is pending with its buffers alive.
"""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

from gradstep.autograd.session import Session

WAIT = 60_000
# b.mul_ changes the output SigmoidBackward0 saved: torch runs SumBackward0, MulBackward0
# (freeing its buffers) and raises at SigmoidBackward0; the failed run opens at the end
INPLACE = ("import torch\na = torch.tensor([1.0, 2.0], requires_grad=True)\n"
           "b = a.sigmoid()\nb.mul_(2)\nb.sum().backward()\n")


def expected(steps: list, k: int, nodes) -> tuple[dict, set]:
    """Return ({node: state}, {nodes whose buffers are freed}) after ``k`` steps."""
    states = dict.fromkeys(nodes, "pending")
    freed = set()
    for step in steps[:k]:
        states[step["node"]] = ("error" if step.get("error") else
                                 "freed" if step.get("freed") else "done")
        if step.get("freed"):
            freed.add(step["node"])
    if k < len(steps):
        states[steps[k]["node"]] = "current"
    return states, freed


def shown(window) -> tuple[dict, set, set]:
    """Return the boxes' states, the boxes drawn with a freed buffer, and the nodes whose
    edges are drawn as having sent a gradient, as the graph scene has them."""
    scene = window.graph_view.graph_scene
    states = {n: scene.states.get(n, "pending") for n in window.model.graph.nodes}
    freed = {n for n, entries in scene.saved.items()
             if any(isinstance(e, dict) and e.get("freed") is True for e in entries)}
    return states, freed, set(scene.done_nodes)


def assert_shows_step(window, k: int) -> None:
    steps = window.model.timeline["steps"]
    assert window.model.step == k
    states, freed = expected(steps, k, window.model.graph.nodes)
    assert shown(window) == (states, freed, {n for n, s in states.items() if s in ("done", "freed")})


@pytest.fixture
def window(make_window):
    return make_window(Session)


def test_choosing_the_pass_again_after_its_end_shows_step_0_as_torch_had_it(qtbot, window):
    window.editor.setPlainText(INPLACE)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    steps = window.model.timeline["steps"]
    assert [s["name"] for s in steps] == ["SumBackward0", "MulBackward0", "SigmoidBackward0"]
    assert steps[1]["freed"] and steps[2]["error"]
    assert_shows_step(window, 3)  # a failed run opens where torch raised
    bar = window.step_bar
    bar.passes.activated.emit(0)  # the pass list: the same pass, from its start
    assert_shows_step(window, 0)  # was: MulBackward0 freed, SigmoidBackward0 ✗, edges sent
    bar.act_forward.trigger()
    assert_shows_step(window, 1)
    bar.act_end.trigger()
    bar.act_back.trigger()
    assert_shows_step(window, 2)
    bar.act_end.trigger()
    assert_shows_step(window, 3)
    bar.act_reset.trigger()
    assert_shows_step(window, 0)


def test_the_step_bar_and_the_values_header_number_steps_alike(qtbot, window):
    """The bar counts the steps done; the Values panel numbers a step from 1, as the exports
    do (``Step 3 of 3``): before the first step the ▶ node runs at step 1, not
    "step 0"; at the end torch's third step raised, so the bar has done 2 of 3 and says
    step 3 raised (it read "3 / 3 steps done": a step torch did not finish)."""
    window.editor.setPlainText(INPLACE)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.docks["values"].raise_()
    bar, header = window.step_bar, window.values_panel.header
    steps = window.model.timeline["steps"]  # torch's: which step raised
    raised = [i + 1 for i, step in enumerate(steps) if step.get("error")]
    assert raised == [3]
    assert bar.position.text().strip() == "2 / 3 steps done, step 3 raised"
    assert header.text().endswith("✗ raised at step 3")  # SigmoidBackward0, where torch raised
    window.docks["saved"].raise_()
    assert "(pass 1, 2 of 3 steps done, step 3 raised)" in window.saved_panel.state_label.text()
    window.docks["values"].raise_()
    bar.act_reset.trigger()
    assert bar.position.text().strip() == "0 / 3 steps done"
    assert header.text().endswith("▶ runs at step 1")  # SumBackward0, torch's first
    bar.act_forward.trigger()
    assert bar.position.text().strip() == "1 / 3 steps done"
    assert header.text().endswith("▶ runs at step 2")  # MulBackward0
    window.docks["saved"].raise_()
    assert "(pass 1, 1 of 3 steps done)" in window.saved_panel.state_label.text()


def test_a_selected_node_that_runs_later_in_the_pass_says_so(qtbot, window):
    """Before statehunt2 a node selected before its step read "not run in this pass", also
    where torch runs it later in that pass: the header now gives that step (torch's order,
    from the JSON's steps); a node the pass does not run still reads "not run in this pass"."""
    window.editor.setPlainText(INPLACE)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.docks["values"].raise_()
    steps, header = window.model.timeline["steps"], window.values_panel.header
    window.step_bar.act_reset.trigger()
    window.model.select(steps[2]["node"])  # SigmoidBackward0, where torch raised at step 3
    assert header.text().endswith("not run yet — runs at step 3")
    ran = {s["node"] for s in steps}
    outside = next(n for n in window.model.graph.nodes if n not in ran)  # a's AccumulateGrad
    window.model.select(outside)
    assert header.text().endswith("not run in this pass")


def test_a_nodes_hover_text_says_not_run_where_torch_does_not_run_it_in_the_pass(qtbot, window):
    """The hover text said "not run yet in this pass" for every node not run at the step
    shown, also one torch never runs in that pass (a's AccumulateGrad after torch raised at
    SigmoidBackward0), and at the pass's end, where nothing runs any more (statehunt4). It
    now says so as the Values header does: "not run yet" only where a later step of the
    pass (torch's order, the JSON's steps) runs the node."""
    window.editor.setPlainText(INPLACE)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    model, follower = window.model, window.follower
    steps = model.timeline["steps"]
    ran = [s["node"] for s in steps]
    outside = next(n for n in model.graph.nodes if n not in ran)
    for k in range(len(steps) + 1):
        model.set_step(k)
        for node in [*ran, outside]:
            tip = follower.node_tooltip(node, model.node(node))
            if node in ran[k + 1:] and node not in ran[:k + 1]:
                assert "state: not run yet in this pass" in tip, (k, node, tip)
            elif node not in ran[:k + 1]:
                assert "state: not run in this pass" in tip, (k, node, tip)
            else:
                assert "not run" not in tip, (k, node, tip)


def test_a_pass_whose_steps_are_not_shown_says_so_not_that_a_node_did_not_run(qtbot, window):
    """``is_grads_batched=True``: torch runs the pass under vmap and gradstep shows no steps;
    the Values header said "not run in this pass" of nodes torch ran, and the hover text
    "not run yet in this pass" (statehunt4). The header says why the steps are not shown
    (the step bar's note, past the toolbar's edge at 1280x800), the hover text keeps the
    plain pending words (review: they said "not run yet in this pass" of the nodes torch ran,
    its pre-hooks show, in a pass that is over: it now says the steps are not shown)."""
    window.editor.setPlainText("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                               "y = x.exp() * 3\n"
                               "torch.autograd.grad(y, x, torch.eye(2), is_grads_batched=True)\n")
    x = torch.tensor([1., 2.], requires_grad=True)  # torch's own run: its nodes do run
    y = x.exp() * 3
    ran = []
    for node, name in ((y.grad_fn, "MulBackward0"), (y.grad_fn.next_functions[0][0], "ExpBackward0")):
        node.register_prehook(lambda go, name=name: ran.append(name))
    torch.autograd.grad(y, x, torch.eye(2), is_grads_batched=True)
    assert ran == ["MulBackward0", "ExpBackward0"]
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.docks["values"].raise_()
    model = window.model
    assert model.timeline.get("no_steps") == "batched" and model.step_count == 0
    for node in model.graph.nodes:
        model.select(node)
        assert window.values_panel.header.text().endswith(
            "no steps: is_grads_batched=True runs the pass on vmap's batch of gradients, "
            "which gradstep does not read")
        tooltip = window.follower.node_tooltip(node, model.node(node))
        assert "not run yet" not in tooltip and "not run in this pass" not in tooltip, tooltip
        if model.node(node).get("kind") != "leaf":
            assert ("state: this pass's steps are not shown" in tooltip
                    or "state: ∅ its saved tensors are freed" in tooltip), tooltip


BATCHED = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = (x * 3).sin()\n"
           "g, = torch.autograd.grad(y, x, torch.eye(2), is_grads_batched=True)\nprint(g)\n")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_pass_whose_steps_are_not_shown_says_why_where_a_person_looks(qtbot, window, language):
    """Right after the run, nothing selected, at 1280x800: the step bar's note on why the
    pass shows no steps was past the toolbar's » edge (nobody saw it), the status bar said
    "Step through backward with Alt+Right" and the Values header "Click a node, or step
    through backward", of a pass with no step to go to. Both now say why (the pass torch ran:
    its output is plain python's)."""
    from gradstep.ui.pass_names import NO_STEPS
    from gradstep.ui.qt_language import apply_language
    from gradstep.ui.words import tr

    apply_language(language)  # (not remembered: the next test's window starts in English)
    window.resize(1280, 800)
    window.editor.setPlainText(BATCHED)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.docks["values"].raise_()
    qtbot.wait(50)
    plain: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # torch's own run
        exec(compile(BATCHED, "<plain>", "exec"), plain)
    assert window.output_panel.toPlainText().strip() == printed.getvalue().strip()
    model = window.model
    assert model.timeline.get("no_steps") == "batched" and model.step_count == 0
    assert not model.focus_node()  # nothing selected, no ▶ node
    note = tr(NO_STEPS["batched"])
    assert language == "en" or not note.startswith("no steps")  # the window's language
    header, status = window.values_panel.header.text(), window.statusBar().currentMessage()
    assert note in header and note in status, (header, status)
    assert window.values_panel.header.isVisible()


HOOK_SETS_GRAD = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                  "w = torch.tensor([3., 4.], requires_grad=True)\nh = x * w\n"
                  "h.register_hook(lambda g: setattr(w, 'grad', torch.tensor([7., 7.])))\n"
                  "out = h.exp().sum()\nout.backward()\nprint(w.grad)\n")


def test_a_grad_a_hook_wrote_reads_not_known_before_its_accumulation(qtbot, window):
    """torch had w.grad None until the hook on h wrote [7, 7] (test_step_state's oracle);
    the steps before w's AccumulateGrad say it is not known, rather than [7, 7] from step 0,
    and the hover text has no .grad line there; its own step shows torch's before → after."""
    window.editor.setPlainText(HOOK_SETS_GRAD)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.docks["values"].raise_()
    model, panel = window.model, window.values_panel
    w = next(n for n, a in model.graph.nodes(data=True) if a.get("label") == "w")
    (at,) = [i for i, s in enumerate(model.timeline["steps"]) if s["node"] == w]
    window.step_bar.act_reset.trigger()
    model.select(w)
    assert panel.grad_change.text().startswith("w.grad at this step: not known")
    assert ".grad now" not in window.follower.node_tooltip(w, model.node(w))
    plain: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # torch's own run and print
        exec(compile(HOOK_SETS_GRAD, "<plain>", "exec"), plain)
    assert printed.getvalue() == "tensor([  27.0855, 5968.9160])\n"
    model.set_step(at + 1)
    assert panel.grad_change.text().startswith("w.grad: [7., 7.] → [27.0855, 5968.9160]")
    assert "w.grad now: [27.0855, 5968.9160]" in window.follower.node_tooltip(w, model.node(w))


HOOK_SETS_GRAD_IN_GRAD_MODE = (
    "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
    "w = torch.tensor([3., 4.], requires_grad=True)\nh = x * w\n"
    "h.register_hook(lambda g: setattr(w, 'grad', g * 2))\n"
    "out = h.exp().sum()\n(gx,) = torch.autograd.grad(out, [x])\nprint(w.grad)\n")


def test_a_grad_a_hook_wrote_in_autograd_grad_reads_not_known_not_ellipsis(qtbot, window):
    """autograd.grad writes no .grad, but a hook of the snippet's did (w.grad None until the
    hook on h ran): the steps before the end read "not known"; the grad-mode words came first
    and wrote the marker itself (review of statehunt2: "w.grad is Ellipsis"). At the end
    w.grad is what torch's own run printed."""
    window.editor.setPlainText(HOOK_SETS_GRAD_IN_GRAD_MODE)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    window.docks["values"].raise_()
    model, panel = window.model, window.values_panel
    assert model.timeline["mode"] == "grad" and model.timeline["grad_moved"] == ["w"]
    w = next(n for n, a in model.graph.nodes(data=True) if a.get("label") == "w")
    window.step_bar.act_reset.trigger()
    model.select(w)
    assert panel.grad_change.text().startswith("w.grad at this step: not known")
    assert "Ellipsis" not in panel.grad_change.text()
    plain: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # torch's own run and print
        exec(compile(HOOK_SETS_GRAD_IN_GRAD_MODE, "<plain>", "exec"), plain)
    model.set_step(len(model.timeline["steps"]))
    model.select(w)
    want = str(plain["w"].grad.tolist()).replace(" ", "")
    got = panel.grad_change.text()
    assert got.startswith("autograd.grad does not write .grad: w.grad is "), got
    assert printed.getvalue().startswith("tensor(")
    assert [float(v) for v in got.split(" is ")[1].split(";")[0].strip("[]").split(",")] == \
        pytest.approx([float(v) for v in want.strip("[]").split(",")], rel=1e-4)



def run_against_torch(qtbot, window, source: str, filename: str):
    """Run ``source`` in the window and plainly; return ``(model, scene, oracle, drawn calls,
    {oracle node: drawn id})``."""
    from gradstep.autograd.step_state import drawn_calls
    from tests.step_oracle import drawn_ids, oracle_run

    window.editor.setPlainText(source)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    model, scene = window.model, window.graph_view.graph_scene
    oracle = oracle_run(source, filename)
    calls = drawn_calls(model.calls, model.graph)
    ids = drawn_ids(oracle, model.trace, model.root_name, {c["index"] for c in calls})
    return model, scene, oracle, calls, ids


def test_a_box_torch_had_not_built_yet_shows_no_saved_tensors(qtbot, window):
    """``z = y * y`` is built after ``y.backward(retain_graph=True)``: in that pass's steps
    z's faded boxes and their hover texts showed the trace's saved tensors (``saved: other,
    self``, alive) where torch had no such node yet (review of statehunt4). Which nodes came
    after the call is read off a plain run: reachable from ``z``, not from ``y`` (every node
    built before the call is reachable from ``y`` in this snippet)."""
    from tests.step_oracle import reachable

    source = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
              "y = (x.exp() * x).sum()\ny.backward(retain_graph=True)\nz = y * y\n"
              "z.backward()\nprint(x.grad)\n")
    model, scene, oracle, calls, ids = run_against_torch(qtbot, window, source, "/x/built.py")
    z, y = oracle.namespace["z"], oracle.namespace["y"]
    built = {ids[fn] for fn in set(reachable([z.grad_fn])) - set(reachable([y.grad_fn]))}
    assert any("freed" in e for n in built for e in model.node(n).get("saved") or ())
    from gradstep.autograd.step_state import is_tensor_entry
    from gradstep.ui.qt_saved_panel import graph_words

    saving = {n for n in model.graph.nodes
              if any(is_tensor_entry(e) for e in model.node(n).get("saved") or ())}
    model.choose_timeline(0)  # y.backward(retain_graph=True): none of them existed then
    assert oracle.calls[calls[0]["index"]].line == calls[0]["line"] == 4
    for k in range(model.step_count + 1):
        model.set_step(k)
        # the Saved panel counts only the nodes torch had (it counted z's too: statehunt5)
        assert f"0 of {len(saving - built)} nodes with saved tensors" in graph_words(model), k
        for node in model.graph.nodes:
            tip = window.follower.node_tooltip(node, model.node(node))
            if node in built:
                assert scene.saved.get(node) == [] and "saved:" not in tip, (k, node, tip)
            elif any("freed" in e for e in model.node(node).get("saved") or ()):
                assert scene.saved.get(node) and "saved:" in tip, (k, node, tip)
    model.choose_timeline(1)  # z.backward(): they exist, and show what torch saved
    assert all(scene.saved.get(n) != [] for n in built if model.node(n).get("saved"))
    assert f"of {len(saving)} nodes with saved tensors" in graph_words(model)


def test_a_create_graph_pass_shows_the_nodes_it_builds_as_torch_builds_them(qtbot, window):
    """``g, = autograd.grad(y, x, create_graph=True)`` builds g's graph while it runs, a node
    or two at each step. In that call's own steps every one of those boxes showed the
    trace's saved pill (alive buffers) from step 0, before torch had built it (statehunt5).
    Checked at each step, forward, back and by jumps, against a plain run: the nodes its
    gradients lead to then exist (their saved tensors probed), and a node numbered at or
    past torch's counter then does not."""
    from tests.step_oracle import _is_leaf

    source = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
              "y = (x.exp() * x.sin()).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\n"
              "p = (g * g).sum()\np.backward()\nprint(x.grad)\n")
    model, scene, oracle, calls, ids = run_against_torch(qtbot, window, source, "/x/create_graph.py")
    model.choose_timeline(0)
    snaps = oracle.calls[calls[0]["index"]].snapshots
    assert calls[0]["line"] == 4 and len(snaps) == model.step_count + 1
    unbuilt_at = [{ids[fn] for fn in ids if not _is_leaf(fn) and fn._sequence_nr() >= snap["seq"]}
                  for snap in snaps]
    made_at = [{ids[fn]: freed for fn, freed in snap["made"].items() if fn in ids} for snap in snaps]
    during = set(made_at[-1]) - set(made_at[0])  # built by the pass's own steps
    saving = {n for n in during if model.node(n).get("saved")}
    assert len(saving) >= 3 and any(saving & set(made) and saving & unbuilt
                                    for made, unbuilt in zip(made_at, unbuilt_at))
    assert len(during) >= 4 and any(during & set(made) and during & unbuilt
                                    for made, unbuilt in zip(made_at, unbuilt_at))
    from gradstep.autograd.step_state import is_tensor_entry
    from gradstep.ui.qt_saved_panel import graph_words

    saving = {n for n in model.graph.nodes
              if any(is_tensor_entry(e) for e in model.node(n).get("saved") or ())}
    for k in [*range(len(snaps)), *range(len(snaps) - 2, -1, -1), len(snaps) - 1, 0, 2]:
        model.set_step(k)
        made, unbuilt = made_at[k], unbuilt_at[k]
        assert not set(made) & unbuilt, k
        # the Saved panel counts the nodes with saved tensors torch had then (it counted all)
        assert f"0 of {len(saving - unbuilt)} nodes with saved tensors" in graph_words(model), k
        for node in during | unbuilt:
            tip = window.follower.node_tooltip(node, model.node(node))
            first = next((j for j in range(len(snaps)) if node not in unbuilt_at[j]), None)
            if node in unbuilt:
                assert scene.saved.get(node) == [] and "saved:" not in tip, (k, node, tip)
                if node in during:
                    assert model.built_at(node) == first and f"step {first} of this" in tip
            else:
                entries = [e for e in scene.saved.get(node) or () if "freed" in e]
                traced = [e for e in model.node(node).get("saved") or () if "freed" in e]
                assert len(entries) == len(traced), (k, node, entries)
                assert all(e["freed"] == made[node] for e in entries), (k, node, entries)
                assert ("saved:" in tip) == bool(traced) and f"built at step {first}" in tip, (
                    k, node, tip)


def test_a_pass_where_torch_ran_no_node_does_not_ask_to_step_through_it(qtbot, window):
    """``autograd.grad(loss, [loss])`` hands the seed back: torch runs no node (its hooks on
    ``loss.grad_fn`` see nothing). The caption says "No step ran: the pass is done"; the
    status bar said "Step through backward with Alt+Right" and the Values header "Click a
    node, or step through backward" of a pass with no step to go to."""
    source = ("import torch\na = torch.tensor([1., 2.], requires_grad=True)\nloss = (a * 2).sum()\n"
              "ran = []\nloss.grad_fn.register_prehook(lambda go: ran.append(1))\n"
              "g, = torch.autograd.grad(loss, [loss])\nprint(g, ran)\n")
    plain: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # torch's own run
        exec(compile(source, "<plain>", "exec"), plain)
    assert plain["ran"] == []
    window.editor.setPlainText(source)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.act_run.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT)
    window.docks["values"].raise_()
    assert window.output_panel.toPlainText().strip() == printed.getvalue().strip()
    model = window.model
    assert model.index() is not None and model.step_count == 0 and not model.focus_node()
    header, status = window.values_panel.header.text(), window.statusBar().currentMessage()
    for words in (header, status):
        assert "step through" not in words.lower(), words
        assert "no step ran in this pass" in words.lower(), words
