"""A leaf a hook wrote during the backward call: its box, hover text and Values panel say
that the value shown is the leaf's at the end of the snippet, written during the pass
(checked against the same snippet run plainly)."""

from __future__ import annotations

from gradstep.autograd.session import Session
from gradstep.drawing import style
from tests.autograd.test_written_during import HOOKED, HOOKS, _plain


def test_the_box_hover_text_and_values_panel_say_the_leaf_was_written_during(qtbot):
    from gradstep.ui.qt_session_model import QtSessionModel
    from gradstep.ui.qt_values_panel import QtValuesPanel
    from gradstep.ui.tensor_text import node_tooltip

    source = HOOKED.format(hook=HOOKS["optimizer"])
    plain, _ = _plain(source)
    before, now = plain["began"], plain["p"]._version
    model = QtSessionModel()
    model.set_run_result(Session().run(source))
    labels = {attrs.get("label"): node for node, attrs in model.graph.nodes(data=True)}
    p, q = model.graph.nodes[labels["p"]], model.graph.nodes[labels["q"]]
    assert p["value"]["data"] == plain["p"].tolist() != plain["before"].tolist()
    pill = [line.text for line in style.label_lines(p) if line.role == "written"]
    assert pill == [f"written during the pass: v{now}"]
    assert not [line for line in style.label_lines(q) if line.role == "written"]
    tip = node_tooltip(p)
    assert f"version {now}, the pass began at version {before}" in tip
    assert "written during the pass" in tip and "written" not in node_tooltip(q)
    panel = QtValuesPanel(model)
    qtbot.addWidget(panel)
    model.select(labels["p"])
    panel._redraw()
    assert "written during the pass" in panel.forward._title.text()
