"""The graph view makes what its first frame far out reads (each box's own fill, the edges'
chord table) between frames, a part a turn of the event loop: that frame then draws from
it, and every frame far out looks as it does where the paint made it all itself."""

from __future__ import annotations

import numpy as np
from PySide6 import QtGui

from gradstep.drawing import edge_pieces, qt_paint, qt_scene, samples
from gradstep.ui.qt_graph_view import QtGraphView


def grabs(qtbot, graph, prepared: bool) -> tuple[list[QtGui.QImage], bool]:
    """Return the view's pixels at 100%, at three scales far out and fitted, and whether
    the chord table was made before the first of them far out."""
    view = QtGraphView()
    qtbot.addWidget(view)
    view.resize(320, 240)
    view.show()
    qtbot.waitExposed(view)
    view.set_graph(graph)
    if not prepared:
        view._far_timer.stop()  # nothing made between frames (no event handled yet)
    view.graph_scene.set_node_states({n: "done" for n in view.graph_scene.node_ids[::3]})
    pieces = view.graph_scene.edges_item.pieces
    if prepared:
        qtbot.waitUntil(lambda: not view._far_timer.isActive(), timeout=5000)
    else:
        qtbot.wait(20)
    made_before = pieces._chord_range is not None and view.graph_scene._own_rgb is not None
    pictures = []
    for scale in (1.0, 0.12, 0.035, 0.01):
        view.resetTransform()
        view.scale(scale, scale)
        assert (scale < qt_paint.DETAIL_LOD) == (view.transform().m11() < qt_paint.DETAIL_LOD)
        view.viewport().repaint()
        pictures.append(view.viewport().grab().toImage())
    view.fit_to_window()
    view.viewport().repaint()
    pictures.append(view.viewport().grab().toImage())
    assert pieces._chord_range is not None
    return pictures, made_before


def test_the_first_frame_far_out_reads_what_was_made_between_frames(qtbot, monkeypatch):
    monkeypatch.setattr(edge_pieces, "CHORD_PART", 50)  # many steps on a small graph
    monkeypatch.setattr(qt_scene, "FILL_PART", 40)
    graph = samples.layered_dag(700, width=30, seed=2)
    between, made_before = grabs(qtbot, graph, prepared=True)
    assert made_before
    at_paint, made_before = grabs(qtbot, graph, prepared=False)
    assert not made_before  # the paint made them
    assert between == at_paint
    edge_rgb = QtGui.QColor(qt_scene.style.EDGE).rgb()
    far = np.frombuffer(between[2].constBits(), np.uint32)
    assert (far == edge_rgb).sum() > 500  # chords drawn far out, not a blank view


def test_a_new_graph_a_message_or_a_close_while_it_is_made(qtbot, monkeypatch):
    """The steps between frames make the scene shown's table only: a scene replaced half
    way (a new trace, a message) is stepped no more and the new one is made from its
    start, the same as made at once; the view closed and deleted half way stops them."""
    monkeypatch.setattr(edge_pieces, "CHORD_PART", 50)
    monkeypatch.setattr(qt_scene, "FILL_PART", 40)
    first, second = samples.layered_dag(300, width=20, seed=4), samples.layered_dag(500, seed=5)
    view = QtGraphView()
    qtbot.addWidget(view)
    view.resize(320, 240)
    view.set_graph(first)
    for _ in range(12):  # the fills and part of the chords, no event handled meanwhile
        view._far_step()
    old = view.graph_scene.edges_item.pieces
    made = old._made[3]
    assert 0 < made < len(old) and view._far_timer.isActive()
    view.set_graph(second)
    view.set_node_states({n: "done" for n in list(second.nodes)[::2]})  # a step meanwhile
    qtbot.waitUntil(lambda: not view._far_timer.isActive(), timeout=10000)
    assert old._made[3] == made and old._chords is None  # the replaced scene's: left
    pieces = view.graph_scene.edges_item.pieces
    monkeypatch.setattr(edge_pieces, "CHORD_PART", 10**9)
    at_once = edge_pieces.EdgePieces(view.layout_result.routes)
    assert pieces._chord_table()[0].tobytes() == at_once._chord_table()[0].tobytes()
    while not at_once.far_step():
        pass
    assert pieces._chord_range.tobytes() == at_once._chord_range.tobytes()
    view.set_graph(first)
    view._far_step()
    view.show_message("no graph")
    qtbot.waitUntil(lambda: not view._far_timer.isActive(), timeout=10000)  # (no scene)
    closed = QtGraphView()
    closed.set_graph(first)
    gone = []
    closed.destroyed.connect(lambda: gone.append(True))
    assert closed._far_timer.isActive()
    closed.close()
    closed.deleteLater()
    qtbot.waitUntil(lambda: bool(gone), timeout=10000)
    qtbot.wait(1)  # a turn of the event loop after: no timer left to call a deleted view
