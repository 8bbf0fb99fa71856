"""Call the session off the GUI thread and deliver its answers as signals.

One worker thread serialises requests (a session is not re-entrant). The backend
is always the kernel, a child process: user code never runs in the window's
process, even when the kernel cannot start (the window then shows why).
"""

from __future__ import annotations

import itertools
import traceback

from PySide6 import QtCore

from gradstep.i18n import lazy, with_words
from gradstep.kernel.client import Kernel
from gradstep.policies import gc_pause
from gradstep.schema.errors import error_record
from gradstep.schema.kernel import failure_reply


def make_backend():
    """Return the object that runs user code: the kernel client (a child process)."""
    return Kernel()


def _start_failure(method: str, kwargs: dict, exc: BaseException) -> dict:
    """Return ``method``'s reply for a kernel that could not even be created (bad settings)."""
    error = with_words(
        error_record("crash", f"The kernel could not start: {exc}", type=type(exc).__name__, code=""),
        title=lazy("The kernel could not start"),
        message=lazy("The kernel could not start: {reason}", reason=str(exc)),
        explanation=lazy("gradstep runs snippets in a separate kernel process, and it could not "
                         "be created. Nothing was run; your text is kept."),
        fix=lazy("Correct the setting the message names (for example GRADSTEP_MEMORY_LIMIT) "
                 "and run again."))
    return failure_reply(method, error, kwargs)


def _failure(method: str, kwargs: dict, exc: BaseException) -> dict:
    """Return ``method``'s reply for a request that raised inside the app (not the snippet)."""
    error = with_words(
        error_record("other", f"{type(exc).__name__}: {exc}", type=type(exc).__name__, code="",
                     explanation=traceback.format_exc(limit=3)),
        title=lazy("gradstep could not {method}", method=method),
        fix=lazy("Report this with the snippet."))
    return failure_reply(method, error, kwargs)


# No cyclic garbage collection while any runner's worker thread works: a collection
# started on a worker thread could free the window's Qt objects off the GUI thread (a
# crash or a hang). Each busy runner holds a pause (``gc_pause.hold``: counted with every
# other pause, on any thread); collection resumes, on the GUI thread, when the last reply
# is in and no other pause is open.
_pause_gc = gc_pause.hold
_resume_gc = gc_pause.release


class _Worker(QtCore.QObject):
    """Lives in the worker thread; runs one request at a time."""

    sigDone = QtCore.Signal(int, str, object)

    def __init__(self, backend_factory):
        super().__init__()
        self._factory = backend_factory
        self.backend = None

    @QtCore.Slot(int, str, object)
    def handle(self, request_id: int, method: str, kwargs: dict) -> None:
        if self.backend is None:
            try:
                self.backend = self._factory()
            except Exception as exc:  # e.g. a memory limit that is not a size
                self.sigDone.emit(request_id, method, _start_failure(method, kwargs, exc))
                return
        try:
            result = getattr(self.backend, method)(**kwargs)
        except Exception as exc:  # the window must stay up whatever the backend does
            result = _failure(method, kwargs, exc)
        self.sigDone.emit(request_id, method, result)


class QtRunner(QtCore.QObject):
    """Send requests (run, backward, inspect, reset) to the backend in a worker thread.

    Signals
    -------
    sigResult(str, object)   method name and its plain-data result
    sigBusyChanged(bool)     True while any request is outstanding
    """

    sigResult = QtCore.Signal(str, object)
    sigBusyChanged = QtCore.Signal(bool)
    _sigRequest = QtCore.Signal(int, str, object)

    def __init__(self, backend_factory=make_backend, parent=None):
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._pending: set[int] = set()
        self._gc_paused = False  # this runner has requests outstanding (see _pause_gc)
        self._closed = False
        self._thread = QtCore.QThread()
        self._thread.setObjectName("gradstep-session")
        self._worker = _Worker(backend_factory)
        self._worker.moveToThread(self._thread)
        self._sigRequest.connect(self._worker.handle)
        self._worker.sigDone.connect(self._on_done)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def backend(self):
        """Return the object that runs user code (None until the first request made it)."""
        return self._worker.backend

    def request(self, method: str, **kwargs) -> int:
        """Queue ``backend.method(**kwargs)``; return the request id."""
        request_id = next(self._ids)
        was_busy = self.busy
        self._pending.add(request_id)
        if not was_busy:
            if not self._closed:  # after shutdown no reply comes to resume collection
                self._gc_paused = True
                _pause_gc()
            self.sigBusyChanged.emit(True)
        self._sigRequest.emit(request_id, method, kwargs)
        return request_id

    def stop(self) -> bool:
        """Ask the backend to stop the running snippet; return False if it cannot."""
        backend = self._worker.backend
        stop = getattr(backend, "stop", None)
        if stop is None:
            return False
        stop()  # the kernel's stop is safe from another thread: it signals the child
        return True

    def shutdown(self) -> None:
        """Stop the worker thread and the backend (the kernel process)."""
        self._closed = True
        self.stop()
        self._thread.quit()
        self._thread.wait(5000)
        self._resume_gc()
        shutdown = getattr(self._worker.backend, "shutdown", None)
        if shutdown is not None:
            try:
                shutdown()
            except Exception:  # closing: nothing left to report to
                pass

    @QtCore.Slot(int, str, object)
    def _on_done(self, request_id: int, method: str, result) -> None:
        self._pending.discard(request_id)
        if not self._pending:
            self._resume_gc()
        self.sigResult.emit(method, result)
        if not self._pending:
            self.sigBusyChanged.emit(False)

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            _resume_gc()
