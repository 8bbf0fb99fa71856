"""The window behaves like a desktop program: Help › About with the versions, settings in
the config folder (old ones moved there), the platform's standard shortcuts, its own icon,
and no user code in the window's process even when the kernel cannot start."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import PySide6
import pytest
from PySide6 import QtCore, QtGui

from gradstep import installed_version
from gradstep.kernel.client import Kernel
from gradstep.ui import qt_runner
from gradstep.ui.qt_autosave import state_dir as autosave_dir
from gradstep.ui.qt_settings import settings_path

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30_000


@pytest.fixture
def xdg_homes(tmp_path, monkeypatch):
    """Use the standard locations (no GRADSTEP_STATE_DIR), under a fresh XDG home."""
    monkeypatch.delenv("GRADSTEP_STATE_DIR", raising=False)
    config, data = tmp_path / "config", tmp_path / "data"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return config, data


def test_about_shows_the_versions_of_gradstep_torch_qt_pyside_and_python(make_window):
    window = make_window()
    window.act_about.trigger()
    text = window.about.text()
    assert window.about.isVisible() and window.about.windowTitle() == "About gradstep"
    for name, expected in [("gradstep", installed_version()), ("torch", version("torch")),
                           ("Qt", QtCore.qVersion()), ("PySide6", PySide6.__version__),
                           ("Python", platform.python_version())]:
        assert f"<td>{name}</td><td>{expected}" in text, name
    window.about.close()


def test_the_about_box_reads_torchs_version_without_importing_torch():
    script = (
        "import sys\n"
        "from PySide6 import QtWidgets\n"
        "app = QtWidgets.QApplication([])\n"
        "from gradstep.ui.qt_about import about_box\n"
        "box = about_box(None)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_settings_land_in_the_config_folder_and_the_text_in_the_data_folder(
        qtbot, make_window, xdg_homes, tmp_path):
    config, data = xdg_homes
    snippet = tmp_path / "snippet.py"
    snippet.write_text("x = 1\n", encoding="utf-8")
    window = make_window()
    assert window.open_file(str(snippet))
    window.close()
    assert settings_path() == config / "gradstep" / "settings.ini"
    text = settings_path().read_text(encoding="utf-8")
    assert str(snippet) in text and "geometry" in text
    assert autosave_dir().is_relative_to(data)
    assert (autosave_dir() / "autosave.json").exists()
    assert not (autosave_dir() / "settings.ini").exists()


def test_settings_of_an_older_version_are_moved_to_the_config_folder(make_window, xdg_homes):
    old = autosave_dir() / "settings.ini"
    old.parent.mkdir(parents=True)
    old_settings = QtCore.QSettings(str(old), QtCore.QSettings.Format.IniFormat)
    old_settings.setValue("recent", ["/somewhere/old.py"])
    old_settings.sync()
    del old_settings
    window = make_window()
    assert window.recent_files() == ["/somewhere/old.py"]
    assert settings_path().exists() and not old.exists()


def test_shortcuts_are_the_platforms_standard_keys(make_window):
    window = make_window()
    keys = QtGui.QKeySequence.StandardKey
    for action, key in [(window.act_open, keys.Open), (window.act_save, keys.Save),
                        (window.act_save_as, keys.SaveAs), (window.act_find, keys.Find),
                        (window.act_zoom_out, keys.ZoomOut)]:
        assert action.shortcuts() == QtGui.QKeySequence.keyBindings(key), action.text()
    zoom_in = QtGui.QKeySequence.keyBindings(keys.ZoomIn)  # then Ctrl+=, the unshifted key
    assert window.act_zoom_in.shortcuts() == zoom_in + [QtGui.QKeySequence("Ctrl+=")]
    copies = window.act_copy_image.shortcuts()
    assert copies[: len(QtGui.QKeySequence.keyBindings(keys.Copy))] == \
        QtGui.QKeySequence.keyBindings(keys.Copy)
    quits = QtGui.QKeySequence.keyBindings(keys.Quit) or [QtGui.QKeySequence("Ctrl+Q")]
    assert window.act_quit.shortcuts() == quits  # offscreen has no Quit key: Ctrl+Q then


def test_copy_in_the_editor_still_copies_its_text(qtbot, make_window):
    window = make_window()
    copied = []
    window.act_copy_image.triggered.connect(lambda: copied.append(True))
    window.editor.setPlainText("w = torch.ones(1)")
    window.editor.selectAll()
    window.editor.setFocus()
    qtbot.keyClick(window.editor, QtCore.Qt.Key.Key_C, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert QtGui.QGuiApplication.clipboard().text() == "w = torch.ones(1)"
    assert copied == []


def test_the_window_wears_gradsteps_own_icon(make_window):
    window = make_window()
    assert not window.windowIcon().isNull()
    assert not window.windowIcon().pixmap(32, 32).toImage().isNull()


class _NoSession:
    """Stands in for gradstep.autograd.session.Session: the window's process must never make one."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("user code would run in the window's process")


def _run_and_wait(qtbot, window, text: str) -> dict:
    window.editor.setPlainText(text)
    with qtbot.waitSignal(window.sigRunFinished, timeout=WAIT) as blocker:
        window.act_run.trigger()
    return blocker.args[0]


def test_a_kernel_that_cannot_start_is_reported_and_nothing_runs_in_the_window(
        qtbot, make_window, monkeypatch):
    import gradstep.autograd.session

    monkeypatch.setattr(gradstep.autograd.session, "Session", _NoSession)
    window = make_window(lambda: Kernel(session="no_such_module:Session", timeout=30))
    result = _run_and_wait(qtbot, window, "x = torch.ones(1)\n")
    assert result["ok"] is False
    err = window.model.error
    assert err["title"] == "The kernel could not start"
    assert "no_such_module" in err["message"] and "GRADSTEP_MEMORY_LIMIT" not in err["fix"]
    assert "The kernel could not start" in window.errors_panel.toPlainText()
    assert window.editor.toPlainText() == "x = torch.ones(1)\n"


def test_a_kernel_that_cannot_even_be_made_names_the_bad_setting(qtbot, make_window):
    window = make_window(lambda: Kernel(memory_limit="lots"))
    result = _run_and_wait(qtbot, window, "x = 1\n")
    assert result["ok"] is False
    assert window.model.error["title"] == "The kernel could not start"
    assert "lots" in window.model.error["message"]
    assert window.editor.toPlainText() == "x = 1\n"


def test_the_backend_is_always_the_kernel():
    backend = qt_runner.make_backend()
    try:
        assert isinstance(backend, Kernel)
    finally:
        backend.shutdown()
