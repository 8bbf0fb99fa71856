"""The Examples menu loads every seed lesson into the editor without running it."""

from __future__ import annotations

from PySide6 import QtCore

from gradstep.examples import EXAMPLES, load_example


class RecordingBackend:
    """Fails the test if the window sends anything to a session."""

    calls: list = []

    def __getattr__(self, name):
        RecordingBackend.calls.append(name)
        raise AssertionError(f"loading an example must not call the session ({name})")


def test_each_example_loads_without_running(qtbot, make_window):
    window = make_window(RecordingBackend)
    actions = [a for a in window.examples_menu.actions() if a.data()]
    assert [a.data() for a in actions] == [e.id for e in EXAMPLES]
    for action in actions:
        action.trigger()
        assert window.editor.toPlainText() == load_example(action.data())
        assert window.model.trace is None
    QtCore.QCoreApplication.processEvents()  # anything the loading queued is delivered now
    assert RecordingBackend.calls == [] and not window.runner.busy
