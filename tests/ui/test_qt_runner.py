"""QtRunner: requests run on the worker thread, and no garbage collection runs while one
is outstanding (a collection on the worker thread could free the window's Qt objects off
the GUI thread; one on the GUI thread the session's tensors while the worker uses them)."""

from __future__ import annotations

import gc
import threading

from gradstep.ui.qt_runner import QtRunner


class _Backend:
    """Records, for each request, its thread and whether collection was enabled there."""

    def __init__(self):
        self.seen = []
        self.release = threading.Event()

    def run(self, **kwargs):
        self.seen.append((threading.current_thread().name, gc.isenabled()))
        self.release.wait(10)
        return {"ok": True, "echo": kwargs}


def test_no_collection_while_a_request_is_outstanding_and_back_after(qtbot):
    backend = _Backend()
    runner = QtRunner(lambda: backend)
    results = []
    runner.sigResult.connect(lambda method, result: results.append(result["echo"]["code"]))
    try:
        gc.enable()
        runner.request("run", code="a")
        runner.request("run", code="b")
        assert not gc.isenabled()  # from the first request on
        backend.release.set()
        qtbot.waitUntil(lambda: len(results) == 2, timeout=10_000)
        assert results == ["a", "b"]
        assert backend.seen and all(not enabled for _, enabled in backend.seen)
        assert all(name != threading.main_thread().name for name, _ in backend.seen)
        qtbot.waitUntil(lambda: not runner.busy, timeout=5_000)
        assert gc.isenabled()  # the last reply is in: collection is back, on the GUI thread
    finally:
        runner.shutdown()
        gc.enable()


def test_one_runners_reply_does_not_resume_collection_while_another_is_busy(qtbot):
    first, second = _Backend(), _Backend()
    runners = [QtRunner(lambda: first), QtRunner(lambda: second)]
    try:
        runners[0].request("run", code="a")
        runners[1].request("run", code="b")
        first.release.set()
        qtbot.waitUntil(lambda: not runners[0].busy, timeout=10_000)
        assert not gc.isenabled()  # the second runner's worker still works
        second.release.set()
        qtbot.waitUntil(lambda: not runners[1].busy, timeout=10_000)
        assert gc.isenabled()
    finally:
        for runner in runners:
            runner.shutdown()
        gc.enable()


def test_a_request_after_shutdown_leaves_collection_on(qtbot):
    """A window closed while a queued signal still asks for something: no reply will come."""
    backend = _Backend()
    backend.release.set()
    runner = QtRunner(lambda: backend)
    runner.shutdown()
    gc.enable()
    runner.request("run", code="late")
    assert gc.isenabled()
