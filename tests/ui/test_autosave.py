"""Nothing lost: the text is autosaved on every change and restored at the next start,
also after the app is killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradstep.ui.qt_autosave import QtAutosave, read_autosave

ROOT = Path(__file__).resolve().parents[2]


def test_typing_is_written_after_a_short_pause(qtbot, make_window, state_dir):
    window = make_window()
    qtbot.keyClicks(window.editor, "w = torch.ones(3)")
    path = state_dir / "autosave.json"
    qtbot.waitUntil(lambda: path.exists(), timeout=3000)
    assert read_autosave(path)["text"] == "w = torch.ones(3)"


def test_next_start_restores_the_text(qtbot, make_window):
    first = make_window()
    first.editor.setPlainText("y = x + 2\n")
    first.close()  # close flushes at once
    second = make_window()
    assert second.editor.toPlainText() == "y = x + 2\n"


def test_unreadable_autosave_is_ignored(tmp_path, qtbot):
    path = tmp_path / "autosave.json"
    path.write_bytes(b"\x00\xffnot json")
    assert QtAutosave(path).restore() is None


def test_an_autosave_that_fails_keeps_the_last_one_and_leaves_nothing_else(tmp_path, monkeypatch):
    """A full disk as the text is synced: the last autosave stays whole (the person's text),
    and no temporary file is left beside it (``autosave.json.tmp`` was)."""
    import errno

    from gradstep.ui.qt_autosave import write_atomic

    path = tmp_path / "autosave.json"
    write_atomic(path, json.dumps({"text": "kept", "filename": ""}))

    def full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        write_atomic(path, json.dumps({"text": "new", "filename": ""}))
    assert read_autosave(path)["text"] == "kept" and os.listdir(tmp_path) == ["autosave.json"]


@pytest.mark.slow
def test_kill_9_loses_nothing(tmp_path, qtbot, make_window, monkeypatch, state_dir):
    snippet = tmp_path / "lesson.py"
    text = "import torch\nx = torch.ones(2, requires_grad=True)\nloss = (x * 3).sum()\n"
    snippet.write_text(text)
    env = dict(os.environ, GRADSTEP_STATE_DIR=str(state_dir), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "gradstep", str(snippet)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    autosave = state_dir / "autosave.json"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and not autosave.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.1)
        assert autosave.exists(), "the app never autosaved"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert json.loads(autosave.read_text())["text"] == text
    restored = make_window()
    assert restored.editor.toPlainText() == text
    assert restored.filename == str(snippet.resolve())
