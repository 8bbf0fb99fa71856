"""A switch of language lays the graph out again: its boxes' pills are worded in the new
language and each box is sized for them (not drawn in a box sized for the English)."""

from __future__ import annotations

from gradstep.drawing import style
from gradstep.drawing.node_sizes import node_size
from tests.drawing.test_pill_words import graph


def test_the_graph_is_laid_out_again_in_the_language_switched_to(qtbot, make_window):
    window = make_window()
    g = graph()
    window.graph_view.set_graph(g)
    english = dict(window.graph_view.layout_result.sizes)
    assert english["mul"] == node_size(g.nodes["mul"])
    window.set_language("zh_CN")
    qtbot.wait(50)
    sizes = window.graph_view.layout_result.sizes
    assert window.graph_view.graph_scene.layout is window.graph_view.layout_result
    assert sizes["w"] == node_size(g.nodes["w"]) != english["w"]  # 反向传播中被写入：v2
    assert "已释放：other" in [line.text for line in style.label_lines(g.nodes["mul"])]
    window.set_language("en")
    qtbot.wait(50)
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
    window.set_language("zh_CN")
    qtbot.wait(50)
    assert len(layouts) == 1
    window.set_language("en")
    qtbot.wait(50)
    assert len(layouts) == 2
