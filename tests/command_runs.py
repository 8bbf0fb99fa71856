"""Commands run as typed (``gradstep.cli.main``) in the test process, their snippets in one
kernel process for many commands (each kernel's start imports torch, ~1.5 s CPU).

The kernel is made as a command makes its own (``run_and_report.COMMAND_KERNEL``: no eager
restart, its imports frozen, the command's standard input) and gets each command's
``--timeout``. A command's ``shutdown`` forgets the session's state, as a fresh kernel holds
none (each run starts from the process state a plain run has: ``process_state``), and keeps
the process for the next command; after a crash or a kill the next command starts a fresh
process, as under the command. What a command's process is itself (its exit status as the
shell sees it, its streams, the end of its kernel) is checked with ``python -m gradstep``
(tests/kernel/test_hostile.py's ``PROCESS_CASES``, tests/test_cli_trace.py,
tests/test_cli_habits.py, tests/i18n/test_i18n_cli.py).
"""

from __future__ import annotations

import contextlib
import io

import pytest

from gradstep.cli import main
from gradstep.commands import run_and_report
from gradstep.kernel.client import Kernel


class SharedKernel(Kernel):
    """A command's kernel that outlives the command (``end`` ends it)."""

    def __init__(self) -> None:
        super().__init__(**run_and_report.COMMAND_KERNEL)

    def shutdown(self) -> None:  # the command is done: forget its state, keep the process
        self.reset()

    def end(self) -> None:
        Kernel.shutdown(self)


@contextlib.contextmanager
def commands_on(kernel: SharedKernel):
    """Within: every command opens ``kernel`` as its session, with its own ``--timeout``."""

    def open_session(args):
        kernel.timeout = getattr(args, "timeout", None)
        return kernel

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_and_report, "open_session", open_session)
        yield kernel


def run_command(argv: list[str]) -> tuple[int, str, str]:
    """Return the exit status, stdout and stderr of ``gradstep ARGV`` run here, its streams
    written as the process writes them (UTF-8; stderr's unencodable characters escaped) and
    a usage error's ``SystemExit`` taken as python takes it."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="\n")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace",
                           newline="\n")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=err)
    out.flush()
    err.flush()
    return (status, out.buffer.getvalue().decode("utf-8"),
            err.buffer.getvalue().decode("utf-8", errors="replace"))
