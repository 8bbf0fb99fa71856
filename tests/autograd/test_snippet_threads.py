"""``snippet_threads``: the snippet's non-daemon threads and child processes are waited for
as python waits for them at its end (``threading._shutdown``, multiprocessing's exit
function), bounded; an idle executor's workers are not (python ends them through
threading's atexit callbacks)."""

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
    """By ``GRADSTEP_THREAD_WAIT`` seconds here (docs/limits.md; ``WAIT_S`` otherwise)."""
    monkeypatch.setattr(snippet_threads, "WAIT_S", 60.0)
    monkeypatch.setenv("GRADSTEP_THREAD_WAIT", "0.2")
    before = snippet_threads.alive()
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    start = time.monotonic()
    snippet_threads.wait_for_started(before)
    waited = time.monotonic() - start
    assert thread.is_alive() and 0.15 < waited < 30
    release.set()
    thread.join()


def _write_later(path: str) -> None:
    time.sleep(0.3)
    with open(path, "w") as file:
        file.write("child")


def test_waits_for_a_child_process_as_multiprocessing_does_at_exit(monkeypatch, tmp_path):
    """python's multiprocessing joins the non-daemon children at exit: the child's work is
    done. A daemonic child is not waited for (python terminates it there)."""
    import multiprocessing

    monkeypatch.setattr(snippet_threads, "WAIT_S", 60.0)
    before = snippet_threads.alive()
    context = multiprocessing.get_context("fork")
    daemonic = context.Process(target=time.sleep, args=(60,), daemon=True)
    daemonic.start()
    child = context.Process(target=_write_later, args=(str(tmp_path / "out.txt"),))
    child.start()
    start = time.monotonic()
    snippet_threads.wait_for_started(before)
    waited = time.monotonic() - start
    daemonic.terminate()
    daemonic.join()
    assert not child.is_alive() and child.exitcode == 0
    assert (tmp_path / "out.txt").read_text() == "child" and waited < 30


def test_an_idle_process_pool_is_not_waited_for(monkeypatch):
    """python's atexit callbacks end a ProcessPoolExecutor never shut down (its manager
    thread and worker processes); joining them would wait the whole bound."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    monkeypatch.setattr(snippet_threads, "WAIT_S", 60.0)
    before = snippet_threads.alive()
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    assert pool.submit(abs, -3).result() == 3
    start = time.monotonic()
    snippet_threads.wait_for_started(before)
    waited = time.monotonic() - start
    pool.shutdown()
    assert waited < 30


def test_a_manager_never_shut_down_is_not_waited_for(monkeypatch):
    """python's multiprocessing exit function first runs the manager's finalizer, which
    shuts its server process, then joins the other children: a snippet that left a
    ``Manager()`` open ends at once under python (it waited the whole bound: 3 s)."""
    import multiprocessing

    monkeypatch.setattr(snippet_threads, "WAIT_S", 60.0)
    before = snippet_threads.alive()
    manager = multiprocessing.get_context("fork").Manager()
    assert dict(manager.dict(a=1)) == {"a": 1}
    start = time.monotonic()
    snippet_threads.wait_for_started(before)
    waited = time.monotonic() - start
    manager.shutdown()
    assert waited < 30
