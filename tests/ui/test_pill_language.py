"""A switch of language lays the graph out again: its boxes' pills are worded in the new
language and each box is sized for them (not drawn in a box sized for the English)."""

from __future__ import annotations

from gradstep.drawing import style
from gradstep.drawing.node_sizes import node_size
from tests.drawing.test_pill_words import graph

WAIT = 5000  # ms: a loaded machine's longest wait for the layout a switch queues


def switch_and_wait_for_layout(qtbot, window, code: str) -> None:
    """Switch to ``code`` and wait until the graph is laid out again. The view lays it out
    once the switch's events are in (a zero-time timer queued behind them); a fixed
    ``qtbot.wait(50)`` could end before it ran (about 1 run in 4 after the language-switch
    and Values-height tests on a loaded machine): the layout still due, the old one read,
    the new one there a moment later."""
    before = window.graph_view.layout_result
    window.set_language(code)
    qtbot.waitUntil(lambda: window.graph_view.layout_result is not before, timeout=WAIT)


def test_the_graph_is_laid_out_again_in_the_language_switched_to(qtbot, make_window):
    window = make_window()
    g = graph()
    window.graph_view.set_graph(g)
    english = dict(window.graph_view.layout_result.sizes)
    assert english["mul"] == node_size(g.nodes["mul"])
    switch_and_wait_for_layout(qtbot, window, "zh_CN")
    sizes = window.graph_view.layout_result.sizes
    assert window.graph_view.graph_scene.layout is window.graph_view.layout_result
    assert sizes["w"] == node_size(g.nodes["w"]) != english["w"]  # 反向传播中被写入：v2
    assert "已释放：other" in [line.text for line in style.label_lines(g.nodes["mul"])]
    switch_and_wait_for_layout(qtbot, window, "en")
    assert dict(window.graph_view.layout_result.sizes) == english


def test_a_switch_lays_the_graph_out_once(qtbot, make_window, monkeypatch):
    """A switch sends one LanguageChange per translator installed or removed (two for
    zh_CN): the graph, 100,000 nodes maybe, is laid out again once, not for each."""
    from gradstep.ui import qt_graph_view

    window = make_window()
    window.graph_view.set_graph(graph())
    layouts = []
    real = qt_graph_view.layout
    monkeypatch.setattr(qt_graph_view, "layout", lambda *a, **k: layouts.append(1) or real(*a, **k))
    switch_and_wait_for_layout(qtbot, window, "zh_CN")  # (the switch's events all in then)
    assert len(layouts) == 1
    switch_and_wait_for_layout(qtbot, window, "en")
    assert len(layouts) == 2
