"""The standard input each run of the kernel starts with (``std_streams.restore_input``)."""

from __future__ import annotations

import io
import sys

from gradstep.kernel import std_streams


def test_a_kernel_started_without_fd_0_gives_each_run_no_standard_input_as_python(monkeypatch):
    # python started with fd 0 closed has sys.stdin None (input(): "lost sys.stdin"); the
    # kernel wrapped fd 0 anyway (input(): "Bad file descriptor", or a file fd 0 named later)
    monkeypatch.setattr(std_streams._Output, "stdin", None)
    monkeypatch.setattr(std_streams._Output, "kept_stdin", True)
    monkeypatch.setattr(sys, "__stdin__", None)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a run's own\n"))
    std_streams.restore_input()
    assert sys.stdin is None and sys.__stdin__ is None


def test_a_run_that_set_sys_stdin_and_its_dunder_to_none_leaves_the_next_run_its_input(
        monkeypatch):
    # restore_input read the kernel's input from sys.__stdin__, which a run may set: after
    # sys.__stdin__ = None every later run had no standard input
    kept = io.StringIO("kept\n")
    monkeypatch.setattr(std_streams._Output, "stdin", kept)
    monkeypatch.setattr(std_streams._Output, "kept_stdin", True)
    monkeypatch.setattr(sys, "__stdin__", None)
    monkeypatch.setattr(sys, "stdin", None)
    std_streams.restore_input()
    assert sys.stdin is kept and sys.__stdin__ is kept


def test_a_standard_input_opened_again_is_made_as_pythons_own(monkeypatch):
    # after exit() closed sys.stdin: the new one was named 0 (python's: '<stdin>') and
    # turned a line's "\r\n" into "\n" (python's input() keeps the "\r")
    import os

    closed = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    closed.close()
    monkeypatch.setattr(std_streams._Output, "stdin", closed)
    monkeypatch.setattr(std_streams._Output, "kept_stdin", True)
    monkeypatch.setattr(sys, "__stdin__", closed)
    monkeypatch.setattr(sys, "stdin", closed)
    read, write = os.pipe()
    os.write(write, b"a\r\nb\n")
    os.close(write)
    saved = os.dup(0)
    os.dup2(read, 0)
    try:
        std_streams.restore_input()
        assert repr(sys.stdin) == "<_io.TextIOWrapper name='<stdin>' mode='r' encoding='utf-8'>"
        assert sys.stdin.readline() == "a\r\n" and sys.__stdin__ is sys.stdin
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read):
            os.close(fd)
