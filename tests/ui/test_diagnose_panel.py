"""The Diagnose view in the window: the banner after a run with NaN, the findings list
jumping to the node and the line, the origin and carrier marks on the graph, the
gradient-flow chart (torch's norms, hatched and labelled flags, a click selects the
leaf). The session runs in-process, as in test_window_flows."""

from __future__ import annotations

import math

import torch
from PySide6 import QtCore

from gradstep.autograd.session import Session
from gradstep.ui.qt_flow_chart import FLAG_LOOK
from tests.autograd.planted import CLEAN_MODEL, MODEL_WITH_NAN, MODEL_WITH_PLANTED_SQRT
from tests.autograd.test_grad_flow import deep_mlp

WAIT = 60_000


def run(qtbot, window, source: str) -> None:
    """Run ``source`` (it calls backward itself) and wait until the diagnosis is shown."""
    window.editor.setPlainText(source)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        window.run()


def diagnose_now(qtbot, window) -> None:
    """Press Diagnose and wait for the gradient statistics to arrive."""
    view = window.diagnose_view
    with qtbot.waitSignal(view.panel.sigDiagnosed, timeout=WAIT,
                          check_params_cb=lambda d: view.panel.stats is not None):
        view.action.trigger()


def test_a_run_with_nan_shows_the_banner_findings_and_marks(qtbot, make_window):
    window = make_window(Session)
    run(qtbot, window, MODEL_WITH_PLANTED_SQRT.source)
    view = window.diagnose_view
    assert view.banner_bar.isVisible()
    assert "sqrt" in view.banner.text.text() and "line 6" in view.banner.text.text()
    diagnose_now(qtbot, window)
    assert view.dock.isVisible()
    first = view.panel.diagnosis.findings[0]
    assert (first.kind, first.name, first.line) == ("nan_forward", "SqrtBackward0", 6)
    # Diagnose showed the first finding: its node selected, its line under the cursor
    assert window.model.selected == first.node
    assert window.editor.textCursor().blockNumber() + 1 == 6
    shown = view.marks.shown()
    assert shown[first.node] == "origin"
    assert shown[window.model.trace["root"]] == "carrier"  # the loss carried it
    assert "grad_carrier" in shown.values()  # the gradients below it hold NaN
    # each tag stands alone on a projected graph: it names what it marks ("carries it" did not)
    assert all("NaN/Inf" in view.marks.tags[mark] for mark in set(shown.values()))
    # every gradient is NaN, as torch's: the chart says so instead of drawing a ratio
    assert all(row.nonfinite for row in view.panel.diagnosis.rows)


def test_clicking_a_finding_selects_its_node_and_line(qtbot, make_window):
    window = make_window(Session)
    run(qtbot, window, MODEL_WITH_NAN)
    view = window.diagnose_view
    items = view.panel.findings
    assert items.count() >= 1 and items.item(0).text().startswith("?")  # first seen, not proven
    assert view.panel.deep.isVisibleTo(view.panel)  # the way to look inside is offered
    window.editor.go_to_line(1)
    rect = items.visualItemRect(items.item(0))
    qtbot.mouseClick(items.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    first = view.panel.diagnosis.findings[0]
    assert window.model.selected == first.node
    assert window.editor.textCursor().blockNumber() + 1 == first.line == 14


def test_deep_values_on_request_find_the_op_inside_the_module(qtbot, make_window):
    window = make_window(Session)
    run(qtbot, window, MODEL_WITH_NAN)
    view = window.diagnose_view
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT):
        view.panel.deep.click()
    first = view.panel.diagnosis.findings[0]
    assert (first.name, first.certain) == ("LogBackward0", True)
    assert not view.panel.deep.isVisibleTo(view.panel)


def test_gradient_flow_chart_is_torch_s_and_flags_vanishing_layers(qtbot, make_window):
    window = make_window(Session)
    source = deep_mlp("Sigmoid")
    run(qtbot, window, source)
    view = window.diagnose_view
    assert not view.banner_bar.isVisible()
    diagnose_now(qtbot, window)
    plain = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(source, plain)
    layers = [m for m in plain["model"] if isinstance(m, torch.nn.Linear)]
    rows = view.panel.diagnosis.rows
    assert [r.name for r in rows] == [str(2 * i) for i in range(len(layers))]
    for row, layer in zip(rows, layers):
        expected = math.hypot(layer.weight.grad.norm().item(), layer.bias.grad.norm().item())
        assert math.isclose(row.grad_norm, expected, rel_tol=1e-6)
    chart = view.panel.chart
    assert chart.flags[0] == "vanishing" and len(rows) - 1 not in chart.flags
    hatched = [item for item in chart._items if hasattr(item, "opts") and "brushes" in item.opts]
    patterns = {item.opts["brush"].style() for item in hatched}
    assert FLAG_LOOK["vanishing"][1] in patterns  # flagged bars are hatched, not only coloured
    # a click on the last bar selects its leaf in the graph
    chart.sigRowClicked.emit(len(rows) - 1)
    assert window.model.selected == rows[-1].nodes[0]
    assert window.model.graph.nodes[rows[-1].nodes[0]]["kind"] == "leaf"
    graph_view = window.graph_view
    assert graph_view.graph_scene.highlight == {rows[-1].nodes[0]}  # ringed on the graph
    graph_view.fold_to_depth(1)  # folded into its layer's box: the ring is on the box
    chart.sigRowClicked.emit(0)
    box = f"module:{rows[0].name}"
    assert rows[0].nodes[0] in graph_view.graph_scene.graph.nodes[box]["members"]
    assert window.model.selected == rows[0].nodes[0] and graph_view.graph_scene.highlight == {box}


def test_a_clean_run_has_no_banner_and_no_marks(qtbot, make_window):
    window = make_window(Session)
    run(qtbot, window, MODEL_WITH_PLANTED_SQRT.source)
    assert window.diagnose_view.banner_bar.isVisible()
    run(qtbot, window, CLEAN_MODEL)
    view = window.diagnose_view
    assert not view.banner_bar.isVisible() and view.marks.shown() == {}
    assert view.panel.findings.count() == 0


def test_bar_positions_map_to_rows(qtbot):
    from gradstep.ui.qt_flow_chart import QtFlowChart

    chart = QtFlowChart()
    qtbot.addWidget(chart)
    chart.rows = [object()] * 3
    assert [chart.row_at(x) for x in (-0.6, 0.1, 1.4, 2.0, 2.6)] == [None, 0, 1, 2, None]


def test_the_panel_finds_a_trace_once_and_never_shows_the_last_run(qtbot, monkeypatch):
    """Around a bare model: a run's forward findings are found once (not on every signal),
    a pass adds its own, and the next run shows only its own findings."""
    from gradstep.autograd import nonfinite
    from gradstep.ui.qt_diagnose_panel import QtDiagnosePanel
    from gradstep.ui.qt_session_model import QtSessionModel
    from tests.autograd.test_findings_pure import CHAIN, op, small

    calls = []
    forward = nonfinite.forward_findings
    monkeypatch.setattr(nonfinite, "forward_findings", lambda g: calls.append(g) or forward(g))
    model = QtSessionModel()
    panel = QtDiagnosePanel(model)
    qtbot.addWidget(panel)
    model.set_run_result({"ok": True, "trace": CHAIN})
    assert [f.node for f in panel.diagnosis.findings] == ["n2"] and panel.findings.count() == 1
    assert panel.findings.item(0).text().endswith("sqrt(-1.) = nan")  # as torch prints it
    assert len(calls) == 1  # the trace and the new (empty) pass list both refreshed it
    timeline = {"steps": [{"index": 0, "node": "n0", "name": "SumBackward0",
                           "grad_outputs": [1.0], "grad_inputs": [["NaN", 1.0]], "error": False}]}
    model.add_timeline(timeline)
    assert len(calls) == 1 and panel.findings.count() == 1  # n0's forward NaN: a carrier
    assert panel.diagnosis.marks["n0"] == "carrier"
    clean = {"root": "n0", "nodes": [op("n0", "SumBackward0", 0, small(1.0))], "edges": []}
    model.set_run_result({"ok": True, "trace": clean})
    assert panel.diagnosis.findings == [] and panel.findings.count() == 0
    assert panel.diagnosis.marks == {} and len(calls) == 2


def test_the_marks_tags_cover_no_gradient_on_the_graph(qtbot, make_window):
    """A tag over a marked box ("NaN/Inf starts here", 传递 NaN/Inf) sits left of where the
    edge comes in, so the pill of the gradient that edge carries stays readable at every
    step, in English and in Chinese (both covered [2., 2., 2.] in the walk's screenshots)."""
    window = make_window(Session)
    run(qtbot, window, "import torch\na = torch.tensor([4.0, -1.0, 9.0], requires_grad=True)\n"
                       "r = torch.sqrt(a)\nloss = (r * 2).sum()\nloss.backward()\n")
    qtbot.waitUntil(lambda: window.model.index() is not None, timeout=WAIT)
    view = window.diagnose_view
    view.diagnose()
    try:
        for code in ("en", "zh_CN"):
            window.set_language(code)
            qtbot.waitUntil(lambda: view.marks._item is not None, timeout=WAIT)
            item = view.marks._item
            assert len(item.tag_rects) == 4, item.tag_rects
            for k in range(window.model.step_count + 1):
                window.model.set_step(k)
                scene = window.graph_view.graph_scene
                pills = [p for p in scene.pills.values() if p is not None]
                for node, tag in item.tag_rects.items():
                    assert tag.right() < scene.node_rect(node).center().x(), (code, node)
                    assert not any(tag.intersects(p) for p in pills), (code, k, node, tag, pills)
            assert k == 4 and len(pills) == 3
    finally:
        window.set_language(None)


def test_a_hook_s_step_during_the_pass_is_said_as_gradstep_check_says_it(qtbot, make_window):
    """An SGD step in a post-accumulate-grad hook wrote the weights while the backward call
    ran (torch's ``_version`` moved during it): the panel says "during" that call, not
    "after" it (``gradstep check`` does), in Chinese too."""
    from gradstep.i18n import set_language

    source = ("import torch\ntorch.manual_seed(0)\nlin = torch.nn.Linear(3, 2)\n"
              "def step(p):\n    with torch.no_grad():\n        p -= 0.5 * p.grad\n"
              "for p in lin.parameters():\n    p.register_post_accumulate_grad_hook(step)\n"
              "loss = lin(torch.ones(4, 3)).pow(2).sum()\nloss.backward()\n")
    plain = {}
    exec(compile(source, "<plain>", "exec"), plain)
    assert [p._version for p in plain["lin"].parameters()] == [2, 2]  # init 1, the hook's step
    window = make_window(Session)
    run(qtbot, window, source)
    diagnose_now(qtbot, window)
    panel = window.diagnose_view.panel
    rows = panel.diagnosis.rows
    assert rows and all(row.written_during and not row.written_later for row in rows)
    assert (f"{len(rows)} of these layers were written in place during a recorded backward "
            "call made after this graph's forward") in panel.summary.text()
    try:
        window.set_language("zh_CN")
        qtbot.waitUntil(lambda: "进行中被原地修改" in panel.summary.text(), timeout=5000)
    finally:
        window.set_language(None)
        set_language(None)


def test_a_step_after_the_pass_is_said_as_gradstep_check_says_it(qtbot, make_window):
    """An SGD step after loss.backward() wrote the weights in place: the ratios are of the
    new weights, not the pass's; the panel says so (``gradstep check`` does), in Chinese too."""
    from gradstep.i18n import set_language

    source = ("import torch\ntorch.manual_seed(0)\nlin = torch.nn.Linear(3, 2)\n"
              "loss = lin(torch.ones(4, 3)).pow(2).sum()\nloss.backward()\n"
              "with torch.no_grad():  # an SGD step, without torch.optim's import\n"
              "    for p in lin.parameters():\n        p -= 0.5 * p.grad\n")
    window = make_window(Session)
    run(qtbot, window, source)
    diagnose_now(qtbot, window)
    panel = window.diagnose_view.panel
    rows = panel.diagnosis.rows
    assert rows and all(row.written_after for row in rows)  # weight and bias both stepped
    assert f"{len(rows)} of these layers were written in place" in panel.summary.text()
    try:
        window.set_language("zh_CN")
        qtbot.waitUntil(lambda: "优化器" in panel.summary.text(), timeout=5000)
    finally:
        window.set_language(None)
        set_language(None)


def test_the_flow_charts_top_tick_text_is_not_cut_by_its_top(qtbot):
    """The zh_CN walk's NaN diagnosis drew the chart's "1.0" half above its top."""
    from gradstep.ui.qt_flow_chart import QtFlowChart
    from tests.ui.test_values_chart_height import tick_texts_outside

    chart = QtFlowChart()
    qtbot.addWidget(chart)
    chart.resize(440, 200)
    chart.show()
    chart.set_rows([], {})  # (the range -1 to 1: a tick at each end)
    qtbot.wait(100)
    assert chart.getAxis("left").range == [-1, 1] or list(chart.getAxis("left").range) == [-1, 1]
    assert tick_texts_outside(chart) == []


def test_the_flow_charts_names_and_nan_labels_keep_clear_of_each_other(qtbot):
    """A GPT-2 with a NaN in one layer: every one of its 15 module rows holds NaN (torch's
    .grad: each row's norm nan, as ``gradstep check`` prints). In a 440 px chart the bars'
    "NaN/Inf" words and the names under them ran together into one unreadable line."""
    import pyqtgraph as pg

    from gradstep.autograd.grad_flow import FlowRow
    from gradstep.ui.qt_flow_chart import QtFlowChart, _short

    names = ["transformer.wte", "transformer.wpe"] + [
        f"transformer.h.{i}.{part}" for i in range(2)
        for part in ("ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj")
    ] + ["transformer.ln_f"]
    rows = [FlowRow(name=n, nodes=[], params=[n], order=i, numel=4, grad_norm=math.nan,
                    weight_norm=1.0, nonfinite=4) for i, n in enumerate(names)]
    chart = QtFlowChart()
    qtbot.addWidget(chart)
    chart.resize(440, 220)
    chart.show()
    qtbot.wait(50)
    chart.set_rows(rows, {})
    qtbot.wait(100)
    labels = [item for item in chart._items if isinstance(item, pg.TextItem)]
    assert len(labels) == len(rows)  # each NaN row still says so
    rects = [item.mapRectToScene(item.boundingRect()) for item in labels]
    overlaps = [(i, i + 1) for i in range(len(rects) - 1) if rects[i].intersects(rects[i + 1])]
    assert overlaps == []
    ticks = chart.getAxis("bottom")._tickLevels[0]
    metrics = chart.fontMetrics()
    room = chart.getPlotItem().vb.width() / len(rows)
    for (a, name_a), (b, name_b) in zip(ticks, ticks[1:]):
        half = (metrics.horizontalAdvance(name_a) + metrics.horizontalAdvance(name_b)) / 2
        assert (b - a) * room >= half, (name_a, name_b)
    # every name given is drawn: pyqtgraph drops one that would cross the axis's edge (the
    # first bar's name was dropped at the left edge), and each is its own bar's
    assert drawn_tick_texts(chart) == [name for _, name in ticks]
    assert all(name == _short(rows[i].name) for i, name in ticks)
    every = ticks[1][0] - ticks[0][0]
    assert all(b - a == every for (a, _), (b, _) in zip(ticks, ticks[1:]))
    assert ticks[0][0] < every and ticks[-1][0] >= len(rows) - every  # none left out between


def drawn_tick_texts(chart) -> list[str]:
    """Return the bottom axis's tick texts pyqtgraph draws, left to right."""
    from PySide6 import QtGui

    image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        specs = chart.getPlotItem().getAxis("bottom").generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in (specs[2] if specs else []) if text.strip()]
