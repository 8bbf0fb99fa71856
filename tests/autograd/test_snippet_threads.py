"""``snippet_threads``: the snippet's non-daemon threads are waited for as python waits for
them at its end (``threading._shutdown``), bounded, and an idle ThreadPoolExecutor's
workers are not (python ends them through threading's atexit callbacks)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from gradstep.autograd import snippet_threads


def test_waits_for_a_thread_and_the_thread_it_starts_but_not_for_idle_executor_workers(
        monkeypatch):
    monkeypatch.setattr(snippet_threads, "WAIT_S", 60.0)
    before = snippet_threads.alive()
    done = []
    executor = ThreadPoolExecutor(1)
    executor.submit(done.append, "job").result()  # its worker now idles until shutdown
    release = threading.Event()
    threading.Thread(target=release.wait, daemon=True).start()  # never waited for

    def second():
        time.sleep(0.2)
        done.append("second")

    def first():
        time.sleep(0.1)
        threading.Thread(target=second).start()
        done.append("first")

    threading.Thread(target=first).start()
    start = time.monotonic()
    snippet_threads.wait_for_started(before)
    waited = time.monotonic() - start
    executor.shutdown()
    release.set()
    assert done == ["job", "first", "second"]
    assert waited < 30  # not the 60 s bound: the idle worker and the daemon were not joined


def test_the_wait_is_bounded(monkeypatch):
    monkeypatch.setattr(snippet_threads, "WAIT_S", 0.2)
    before = snippet_threads.alive()
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    start = time.monotonic()
    snippet_threads.wait_for_started(before)
    waited = time.monotonic() - start
    assert thread.is_alive() and 0.15 < waited < 10
    release.set()
    thread.join()
