"""The None guard (gradstep/none_guard.py): still needed with this PySide6, and enough.

PySide6 6.12 on CPython 3.11 drops a reference to None on every void Qt call; after as
many calls as None has references the process aborts ("none_dealloc"). The guard is
called by the entry points (the window's ``gradstep gui``, the headless picture export,
tests/conftest.py), never on import. When the unguarded run below survives, PySide6 has
fixed it: delete none_guard.py and its calls.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

VOID_CALLS = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    calls = 2 * sys.getrefcount(None) + 10_000  # more void calls than None has references
    if sys.argv[1] == "guarded":
        from gradstep.none_guard import protect_none
        protect_none()
    from PySide6 import QtWidgets
    app = QtWidgets.QApplication([])
    label = QtWidgets.QLabel()
    for _ in range(calls):
        label.setText("x")
    print("survived", calls, flush=True)
""")


def _void_calls(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", VOID_CALLS, mode], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.mark.skipif(sys.version_info >= (3, 12) or sys.implementation.name != "cpython",
                    reason="None, True and False are immortal from CPython 3.12 on")
def test_pyside_still_needs_the_guard_and_the_guard_is_enough():
    import PySide6

    bare = _void_calls("bare")
    if bare.returncode == 0:
        pytest.fail(f"PySide6 {PySide6.__version__} no longer drops references to None on void "
                    "calls: remove gradstep/none_guard.py and its calls from the entry points")
    assert "dealloc" in bare.stderr, bare.stderr[-2000:]
    guarded = _void_calls("guarded")
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    assert guarded.stdout.startswith("survived")


def test_the_guard_is_not_applied_by_importing_gradstep():
    script = ("import sys\nimport gradstep.none_guard as g, gradstep.ui.qt_main_window\n"
              "import gradstep.drawing.qt_scene\nprint(g._applied)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.stdout.strip() == "False", done.stderr[-2000:]
