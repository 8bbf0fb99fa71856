"""OwnPass: which step-hook calls are the recorded pass's (graph task ids made up here;
tests/autograd/test_calls.py has a real nested pass)."""

from __future__ import annotations

import threading

from gradstep.autograd import own_pass
from gradstep.autograd.own_pass import OwnPass


def on_thread(fn):
    out = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


def test_a_nested_pass_on_the_calling_thread_and_another_threads_pass_are_left_out(monkeypatch):
    task = [5]
    monkeypatch.setattr(own_pass, "_task_id", lambda: task[0])
    own = OwnPass()
    assert own() and own.task == 5  # the pass's first hook, on its own thread
    task[0] = 6
    assert not own()  # a pass a hook started inside it
    assert not on_thread(own)  # another thread's pass
    task[0] = 5
    assert on_thread(own) and not own.mixed()  # a device thread's share of this pass


def test_another_threads_hooks_before_the_pass_s_own_make_it_mixed(monkeypatch):
    task = [7]
    monkeypatch.setattr(own_pass, "_task_id", lambda: task[0])
    own = OwnPass()
    assert on_thread(own) and not own.mixed()  # not known yet whose: taken, for now
    task[0] = 5
    assert own() and own.mixed()  # it was another pass's: the steps are not shown
    other = OwnPass()
    task[0] = 7
    on_thread(other)
    task[0] = 8
    on_thread(other)
    assert other.task is None and other.mixed()  # two passes, none on the calling thread
