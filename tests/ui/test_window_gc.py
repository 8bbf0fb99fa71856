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


def _deleted_later(qtbot):
    """Deliver the deleteLater of replaced scenes (the event loop would)."""
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    qtbot.wait(10)


def test_a_big_run_and_its_pass_are_frozen_and_no_collection_walks_them(qtbot, make_window, freezing):
    window = make_window(Session)
    _run(qtbot, window, CHAIN)
    assert window.model.graph.number_of_nodes() >= 20 and window.model.passes
    frozen = gc.get_freeze_count()
    assert frozen > 0
    graph_nodes = window.model.graph._node
    assert gc.is_tracked(graph_nodes) and not any(o is graph_nodes for o in gc.get_objects())
    full = gc.get_stats()[2]["collections"]
    for _ in range(20):
        window.step_bar.act_forward.trigger()
    assert gc.get_stats()[2]["collections"] == full


def test_a_new_run_frees_the_last_runs_frozen_cycles(qtbot, make_window, freezing):
    window = make_window(Session)
    _run(qtbot, window, CHAIN)
    first = weakref.ref(window.model.graph)
    window.model.graph.graph["cycle"] = window.model.graph  # a cycle: only the collector frees it
    _run(qtbot, window, CHAIN)
    _deleted_later(qtbot)
    gc.collect()
    assert first() is not None  # frozen since the second run: no collection sees it
    _run(qtbot, window, SNIPPET)  # a small run: gives back what was frozen, and freezes nothing
    _deleted_later(qtbot)
    gc.collect()
    assert first() is None
    assert not gc_pause._Intakes.frozen and gc.get_freeze_count() == 0


def test_off_by_default_and_below_the_threshold(qtbot, make_window, monkeypatch):
    assert not gc_pause._Intakes.enabled  # only gradstep gui's own process turns it on
    window = make_window(Session)
    before = gc.get_freeze_count()
    _run(qtbot, window, CHAIN)
    assert gc.get_freeze_count() == before
    monkeypatch.setattr(gc_pause._Intakes, "enabled", True)
    _run(qtbot, window, SNIPPET)  # 4 nodes: below BIG_INTAKE
    assert gc.get_freeze_count() == before
