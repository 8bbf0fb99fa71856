"""Pauses of the cyclic collector are counted across threads (gradstep/policies/gc_pause.py)."""

from __future__ import annotations

import gc

from gradstep.policies.gc_pause import gc_paused, hold, release


def test_overlapping_pauses_keep_the_collector_off_until_the_last_one_ends():
    """The window's runner holds a pause across a request while a GUI-thread pause around
    the reply handler opens before it and ends after it: that end must not turn the
    collector back on while the runner's worker thread still works."""
    assert gc.isenabled()
    with gc_paused():  # the reply handler's pause...
        hold()  # ...in which the next request starts (the runner's pause)
    assert not gc.isenabled()  # the handler's pause ended; the runner's has not
    release()
    assert gc.isenabled()


def test_a_collector_turned_off_before_the_pauses_stays_off():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
