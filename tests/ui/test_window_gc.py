"""The window's own process freezes what a big run and pass made (gc_pause.settle_intake):
no collection walks them while the user steps, and a new run gives the last one's
objects back to the collector, so its cycles are freed then."""

from __future__ import annotations

import gc
import weakref

import pytest
from PySide6 import QtCore

from gradstep.autograd.session import Session
from gradstep.policies import gc_pause
from tests.ui.test_window_flows import SNIPPET, run_and_wait

CHAIN = ["import torch", "x = torch.ones(3, requires_grad=True)", "y = x",
         "for _ in range(30):", "    y = y * 1.01 + 0.1", "", "loss = y.sum()"]


@pytest.fixture
def freezing(monkeypatch):
    """Freeze intakes from 20 nodes on (a small graph stands for a big one); unfreeze after."""
    monkeypatch.setattr(gc_pause._Intakes, "enabled", True)
    monkeypatch.setattr(gc_pause._Intakes, "frozen", False)
    monkeypatch.setattr(gc_pause, "BIG_INTAKE", 20)
    yield
    gc.unfreeze()


def _run(qtbot, window, lines):
    window.editor.setPlainText("\n".join(lines))
    run_and_wait(qtbot, window)


def _deleted_later(qtbot, window):
    """Deliver the deleteLater of replaced scenes, and a paint of the view (after which the
    Diagnose marks let go of the scene they were on), as the event loop would."""
    from PySide6 import QtWidgets

    window.graph_view.viewport().repaint()
    qtbot.wait(20)
    app = QtWidgets.QApplication.instance()
    app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    qtbot.wait(10)


def _in_collector_lists(obj) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_a_big_run_and_its_pass_are_frozen(qtbot, make_window, freezing):
    window = make_window(Session)
    _run(qtbot, window, CHAIN)
    assert window.model.graph.number_of_nodes() >= 20 and window.model.passes
    assert gc.get_freeze_count() > 0
    graph_nodes, steps = window.model.graph._node, window.model.passes[-1].timeline["steps"]
    assert gc.is_tracked(graph_nodes) and gc.is_tracked(steps)
    assert not _in_collector_lists(graph_nodes)  # frozen: no collection walks it
    assert not _in_collector_lists(steps)  # the pass, taken in after the run, too


def test_a_new_run_collects_once_and_frees_the_last_runs_cycles(qtbot, make_window, freezing):
    window = make_window(Session)
    _run(qtbot, window, CHAIN)
    first = weakref.ref(window.model.graph)
    window.model.graph.graph["cycle"] = window.model.graph  # a cycle: only the collector frees it
    gc.collect()
    assert first() is not None  # frozen: even a full collection does not see it
    full = gc.get_stats()[2]["collections"]
    _run(qtbot, window, CHAIN)
    assert gc.get_stats()[2]["collections"] > full  # the new run collected what it gave back
    assert first() is None  # the replaced scene let go of it: freed in that collection
    _run(qtbot, window, SNIPPET)  # a small run: gives back what was frozen, freezes nothing
    assert not gc_pause._Intakes.frozen and gc.get_freeze_count() == 0


def test_rebuilding_the_scene_between_passes_leaves_nothing_frozen_behind(qtbot, make_window,
                                                                        freezing):
    window = make_window(Session)
    _run(qtbot, window, CHAIN)
    scene = weakref.ref(window.graph_view.graph_scene)
    layout = weakref.ref(window.graph_view.layout_result)
    window.toggle_rankdir(True)  # a new scene and layout, left to right
    _deleted_later(qtbot, window)
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=60_000):
        window.control.backward()  # Backward again: freezes what is there
    assert scene() is None and layout() is None  # gone by reference count, not left frozen


def test_off_by_default_and_below_the_threshold(qtbot, make_window, monkeypatch):
    assert not gc_pause._Intakes.enabled  # only gradstep gui's own process turns it on
    monkeypatch.setattr(gc_pause, "BIG_INTAKE", 20)
    window = make_window(Session)
    before = gc.get_freeze_count()
    _run(qtbot, window, CHAIN)
    assert gc.get_freeze_count() == before
    monkeypatch.setattr(gc_pause._Intakes, "enabled", True)
    monkeypatch.setattr(gc_pause._Intakes, "frozen", False)
    _run(qtbot, window, SNIPPET)  # 4 nodes: below BIG_INTAKE
    assert gc.get_freeze_count() == before


def test_a_run_without_a_graph_lets_the_last_scene_go(qtbot, make_window):
    window = make_window(Session)
    _run(qtbot, window, CHAIN)
    scene = weakref.ref(window.graph_view.graph_scene)
    window.editor.setPlainText("x = 1")
    with qtbot.waitSignal(window.sigRunFinished, timeout=60_000):
        window.run()
    _deleted_later(qtbot, window)
    assert scene() is None  # it was kept, a child of the view, for as long as the window
