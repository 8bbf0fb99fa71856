"""The window on a graph shown from the user's program (``gradstep.show``): the graph and
the pass arrive as data, step like a snippet's own backward call, and what needs the
live tensors says it is not available. The data is made here by the Python API on
tensors of this test, and every number read back is torch's."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import gradstep
from gradstep.ui.shown_data import NOT_LIVE, ShownDataBackend, show_data
from gradstep.window_data import shown_data

WAIT = 30_000


def _data():
    x = torch.ones(1)
    w = torch.full([1], 2.0, requires_grad=True)
    mse = F.mse_loss(torch.ones(1), x * w)
    graph = gradstep.to_json(gradstep.trace(mse))
    timeline = gradstep.backward(mse)
    (want,) = torch.autograd.grad(mse, [w])
    origin = {"file": "/home/me/train.py", "line": 12, "code": "gradstep.show(mse)"}
    return shown_data(graph, [timeline], title="mse", origin=origin), want


def test_the_pass_from_the_program_steps_like_a_snippets_own(make_window):
    data, want = _data()
    window = make_window(ShownDataBackend)
    show_data(window, data)
    model = window.model
    assert [p.title for p in model.passes] == ["gradstep.show(mse)"]
    assert model.graph.number_of_nodes() == 3 and model.step == 0
    assert model.current_step()["name"] == "MseLossBackward0"
    model.run_to_end()
    assert model.leaf_grad("w") == want.tolist()
    assert set(model.states().values()) == {"done"}  # retain_graph: nothing freed
    assert "mse" in window.windowTitle() and "train.py:12" in window.windowTitle()
    assert "gradstep.show(mse)" in window.editor.toPlainText()
    assert not window.device_selector.isEnabled()


def test_what_needs_the_tensors_says_it_is_not_available(make_window, qtbot):
    data, _ = _data()
    window = make_window(ShownDataBackend)
    show_data(window, data)
    window.model.select("n1")  # asks the backend for the node's details (its Jacobian)
    qtbot.waitUntil(lambda: window.model.inspected.get("id") == "n1", timeout=WAIT)
    assert window.model.inspected["jacobian"] == {"status": "unavailable", "reason": NOT_LIVE}
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.backward()  # Backward again
    assert window.model.error["type"] == "NotAvailable"
    assert len(window.model.passes) == 1
