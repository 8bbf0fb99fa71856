"""The standard input each run of the kernel starts with (``worker.restore_input``)."""

from __future__ import annotations

import io
import sys

from gradstep.kernel import worker


def test_a_kernel_started_without_fd_0_gives_each_run_no_standard_input_as_python(monkeypatch):
    # python started with fd 0 closed has sys.stdin None (input(): "lost sys.stdin"); the
    # kernel wrapped fd 0 anyway (input(): "Bad file descriptor", or a file fd 0 named later)
    monkeypatch.setattr(sys, "__stdin__", None)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a run's own\n"))
    worker.restore_input()
    assert sys.stdin is None and sys.__stdin__ is None
