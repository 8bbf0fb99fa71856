"""Why a node shows no Jacobian, in the Values panel's words, against what torch says."""

from __future__ import annotations

import pytest
import torch

from gradstep.autograd.jacobian import local_jacobian
from gradstep.ui.qt_values_panel import jacobian_words


def test_a_freed_node_says_torch_freed_it_in_a_pass_without_retain_graph(qapp):
    """At step 0 the Values panel shows the node's saved tensors alive (as they were then);
    the Jacobian block said "Its saved tensors are freed" beside that, with no word of when.
    torch freed them in the pass without retain_graph=True, and says so when asked again.
    Without the step's saved tensors the words say when: by the end of the run."""
    from gradstep.ui.qt_language import apply_language

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    node(torch.ones(2))  # before the pass: torch can call it (its saved result is alive)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        node(torch.ones(2))  # torch's own refusal names the missing retain_graph=True
    jac = local_jacobian(node)
    assert jac["status"] == "freed"
    words = jacobian_words(jac)  # no step's saved tensors given: what held at the run's end
    assert "by the end of the run torch had freed" in words and "retain_graph=True" in words
    apply_language("zh_CN")
    words = jacobian_words(jac)
    assert "retain_graph=True" in words and "释放" in words


SAVED_VIEW = """\
import torch
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = (x * 2)[1:]
c = b.sin()  # SinBackward0 saves the view b: no Jacobian is computed before the pass
c.sum().backward()
"""


def test_the_freed_words_say_whether_the_saved_tensors_are_alive_at_the_step_shown(
        qtbot, make_window):
    """The Jacobian is asked for after the run, when torch had freed SinBackward0's buffers;
    before SinBackward0 runs they are alive (torch can still call the node then), after it
    ran in the pass without retain_graph=True torch refuses. The words follow the step."""
    from gradstep.autograd.session import Session
    from tests.ui.test_panel_room import settle
    from tests.ui.test_values_chart_height import run
    from tests.ui.test_window_flows import step_to

    plain = {"torch": torch}
    exec(compile(SAVED_VIEW.replace("c.sum().backward()\n", ""), "<plain>", "exec"), plain)
    node = plain["c"].grad_fn
    node(torch.ones(2))  # torch, before the pass: the node's saved view is alive
    plain["c"].sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        node(torch.ones(2))  # after it: freed

    window = make_window(Session)
    run(qtbot, window, SAVED_VIEW)
    panel = window.values_panel
    node_id = step_to(window, "SinBackward0")  # about to run: alive
    settle(qtbot, window)
    qtbot.waitUntil(lambda: (panel._jacobian or {}).get("status") == "freed", timeout=5000)
    assert panel.jacobian.isVisible()
    before = " ".join(panel.jacobian._message or [])
    assert "alive at this step" in before and "freed them later" in before, before
    window.step_bar.act_forward.trigger()  # SinBackward0 runs and torch frees its buffers
    settle(qtbot, window)
    window.model.select(node_id)
    settle(qtbot, window)
    after = " ".join(panel.jacobian._message or [])
    assert "torch freed this node's saved tensors" in after and "alive" not in after, after
