"""A leaf an optimizer step wrote after the pass: its box, hover text and Values panel say
that the value shown is the leaf's at the end of the snippet, not the one the forward used
(checked against the same snippet run plainly)."""

from __future__ import annotations

import torch

from gradstep.autograd.session import Session
from gradstep.drawing import style
from gradstep.drawing.node_sizes import node_sizes
from tests.autograd.test_written_after_trace import STEPPED


def _stepped_model():
    from gradstep.ui.qt_session_model import QtSessionModel

    model = QtSessionModel()
    model.set_run_result(Session().run(STEPPED))
    labels = {attrs.get("label"): node for node, attrs in model.graph.nodes(data=True)}
    return model, labels


def test_the_box_hover_text_and_values_panel_say_the_leaf_was_written_after(qtbot):
    from gradstep.ui.qt_values_panel import QtValuesPanel
    from gradstep.ui.tensor_text import node_tooltip

    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(STEPPED, "<plain>", "exec"), plain)
    before, now = plain["versions"][0], plain["lin"].bias._version
    model, labels = _stepped_model()
    bias, frozen = model.graph.nodes[labels["bias"]], model.graph.nodes[labels["frozen"]]
    assert bias["value"]["data"] == plain["lin"].bias.tolist() != plain["forward_bias"].tolist()
    # the box: a pill, measured into its size as drawn
    pill = [line.text for line in style.label_lines(bias) if line.role == "written"]
    assert pill == [f"written after the pass: v{now}"]
    lines: list = []
    node_sizes([bias, frozen], lines)
    assert [line.text for line in lines[0] if line.role == "written"] == pill
    assert not [line for line in style.label_lines(frozen) if line.role == "written"]
    # the hover text
    tip = node_tooltip(bias)
    assert f"version {now}, the pass ran at version {before}" in tip
    assert "so it may not be the value the forward used" in tip
    assert "written after" not in node_tooltip(frozen)
    # the Values panel: its title says so for the leaf, and not for another
    panel = QtValuesPanel(model)
    qtbot.addWidget(panel)
    model.select(labels["bias"])
    panel._redraw()
    assert "may not be the value the forward used" in panel.forward._title.text()
    model.select(labels["frozen"])
    panel._redraw()
    assert "Forward value" in panel.forward._title.text()


ZERO_GRAD_STEP = """\
w = torch.tensor([1.0, 2.0], requires_grad=True)
v = torch.tensor([3.0, 4.0], requires_grad=True)
opt = torch.optim.Adam([w, v], lr=0.1)
loss = (w * 2).sum() + (v * 0).sum()  # v's gradient is zero
loss.backward()
opt.step()  # writes v too (torch counts it), leaving its values as they were
"""


def test_a_write_that_left_the_values_is_not_said_to_change_them():
    """Adam writes a leaf whose gradient is zero without changing it: torch's counter moves,
    the values do not, so the hover text does not say the forward used another value."""
    from gradstep.ui.tensor_text import node_tooltip

    plain = {"torch": torch}
    exec(compile(ZERO_GRAD_STEP, "<plain>", "exec"), plain)
    result = Session().run("import torch\n" + ZERO_GRAD_STEP)
    assert result["ok"], result["error"]
    v = next(n for n in result["trace"]["nodes"] if n["label"] == "v")
    assert v["written_after"]["version"] == plain["v"]._version != v["written_after"]["pass_version"]
    assert v["value"]["data"] == plain["v"].tolist() == [3.0, 4.0]  # what the forward used
    tip = node_tooltip(v)
    assert "did not use it" not in tip and "may not be the value the forward used" in tip
