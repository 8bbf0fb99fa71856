"""Fixtures for the window tests: a private state directory and a window to drive."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """Point autosave and settings at a fresh directory, so tests never see the user's files."""
    path = tmp_path / "state"
    monkeypatch.setenv("GRADSTEP_STATE_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def english_after():
    """A test that switches the window's language leaves the next one in English."""
    yield
    from gradstep import i18n

    i18n.set_language(None)
    if i18n.language() != "en" or _translators_installed():
        from gradstep.ui.qt_language import apply_language

        apply_language(None)


def _translators_installed() -> bool:
    from gradstep.ui import qt_language

    return bool(qt_language._installed)


@pytest.fixture
def make_window(qtbot):
    """Return a factory of main windows (backend factory optional) that are closed afterwards."""
    from gradstep.ui.qt_main_window import QtMainWindow

    windows = []

    def make(backend_factory=None):
        window = QtMainWindow(backend_factory) if backend_factory else QtMainWindow()
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
