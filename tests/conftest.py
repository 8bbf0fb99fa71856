import os
import sys
from pathlib import Path

import pytest

# Qt aborts the whole run when there is no display; draw offscreen instead.
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The suite reads gradstep's English words; a test that wants another language says so
# (gradstep.i18n reads LANGUAGE first, as gettext does).
os.environ["LANGUAGE"] = "en"

# torch's OpenMP workers spin while they wait for work. The suite runs several torch
# processes at once on CI's two cores (the conformance runs beside the rest), and the
# spinning doubled their CPU time there; passive waiting changes no thread count, kernel
# or result, only how an idle worker waits (docs/testing.md). Every process the suite
# starts inherits it; set before torch is imported anywhere.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# PySide6 6.12 on Python 3.11 drops a reference to None on every void Qt call and
# aborts after a few thousand ("none_dealloc"); see gradstep/none_guard.py
from gradstep.none_guard import protect_none  # noqa: E402

protect_none()


@pytest.fixture
def in_process(monkeypatch):
    """Run the commands as typed (``gradstep.cli.main``) with their session in this process:
    ``run_and_report.open_session`` gives a ``Session`` here, not a kernel process."""
    import gradstep.commands.run_and_report as run_and_report
    from gradstep.autograd.session import Session

    class InProcess(Session):
        def shutdown(self) -> None:
            self.reset()

    monkeypatch.setattr(run_and_report, "open_session", lambda args: InProcess())  # start_snippet's



@pytest.fixture(scope="module")
def module_command_kernel():
    """One kernel process made as a command makes its own, for the command runs of one
    module (``command_kernel``; tests/command_runs.py); ended after the module."""
    from tests.command_runs import SharedKernel

    kernel = SharedKernel()
    yield kernel
    kernel.end()


@pytest.fixture
def command_kernel(module_command_kernel):
    """Run the commands as typed (``gradstep.cli.main``) in this process, their snippets in
    the module's one kernel process (tests/command_runs.py says how it differs from a
    command's own)."""
    from tests.command_runs import commands_on

    with commands_on(module_command_kernel):
        yield module_command_kernel
