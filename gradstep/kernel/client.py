"""``Kernel``: the Session's methods, answered by a child process that can be stopped and restarted.

The GUI and the command line never run user code in their own process. A
``Kernel`` starts the worker (``gradstep.kernel.worker``, see ``launch`` for how), which owns
one Session; its methods are sent to it as length-prefixed JSON on private pipes and return
the Session's plain dicts (``write``: a file written by the kernel, ``kernel.writing``).

Stop and timeout: the child first gets SIGINT (a Python loop or a sleep ends
at once and the session keeps its state); if it has not answered within
``stop_grace`` seconds (a long native operation), its whole process group is
killed and a fresh child is started; the reply then says the state was lost.
Crashes (segfault, ``os._exit``) are seen as the reply pipe closing; the reply
names the exit code or signal. What the snippet prints (fd 1 and 2, so C code
and subprocesses too) is drained by the client while it waits, kept up to the
output cap, and returned in the reply's ``output``.

One request runs at a time (a lock); ``stop()`` and ``shutdown()`` may be
called from any other thread.
"""

from __future__ import annotations

import atexit
import os
import selectors
import signal
import subprocess
import threading
import time
import weakref

from gradstep.i18n.output_note import worded_note
from gradstep.kernel import messages, protocol
from gradstep.kernel.child import Child, close_fd, drain_output, read_into
from gradstep.kernel.limits import resolve_memory_limit, resolve_output_limit
from gradstep.policies.output_cap import CappedBytes, cap_text

DEFAULT_SESSION = f"{__package__.rpartition('.')[0]}.autograd.session:Session"
_UNSET = object()
_LIVE_KERNELS: weakref.WeakSet = weakref.WeakSet()


class KernelUnavailable(Exception):
    """The kernel process could not be started (the message says why)."""


class Kernel:
    """A child process that owns one Session; see the module docstring.

    ``timeout`` (seconds, None = no limit) is the default for every request;
    ``memory_limit`` is bytes or a size text like ``"8G"`` (0 = no cap; None =
    ``GRADSTEP_MEMORY_LIMIT`` or the default); ``output_limit`` is how many bytes
    of printed output a reply keeps; ``restart_eagerly`` starts the next child
    at once after a crash or kill (the GUI) instead of at the next request (the CLI).
    ``collect_at_start``: the child runs one full garbage collection once its modules
    are imported (the GUI, whose kernel starts ahead of the first run); without it (the
    CLI, which waits for its kernel) they are frozen instead, never walked: the full
    collections a big snippet's run calls for walk its own objects only, and a small
    snippet's run calls for none (``worker.settle_imports``).
    """

    def __init__(self, *, timeout: float | None = None, memory_limit: int | str | None = None,
                 output_limit: int | str | None = None, session: str = DEFAULT_SESSION,
                 restart_eagerly: bool = True, stop_grace: float = 0.5,
                 startup_timeout: float = 120.0, collect_at_start: bool = True,
                 inherit_stdin: bool = False) -> None:
        self.timeout = timeout
        self.memory_limit = resolve_memory_limit(memory_limit)
        self.output_limit = resolve_output_limit(output_limit)
        self.session_spec = session
        self.restart_eagerly = restart_eagerly
        self.collect_at_start = collect_at_start
        # the command line's own standard input is the snippet's, as under `python FILE`;
        # a window's kernel reads none (nothing would ever answer an input())
        self.inherit_stdin = inherit_stdin
        self.stop_grace = stop_grace
        self.startup_timeout = startup_timeout
        self.restarts = 0
        self.last_exit: str | None = None  # how the previous child ended, in words
        self._lock = threading.Lock()
        self._stop_requested = False
        self._busy = False
        self._closed = False
        self._child: Child | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        _LIVE_KERNELS.add(self)

    # -- the Session's methods -------------------------------------------------

    def run(self, source: str, *, device: str = "cpu", root: str | None = None,
            filename: str = "<snippet>", deep_values: bool = False, keep_trace: bool = False,
            networkx: bool = False, timeout: float | None = _UNSET) -> dict:
        """Return ``Session.run``'s dict: ok, trace, error, calls, output (+ state_lost on a
        kill); ``keep_trace`` keeps a finished run's trace in the kernel for ``write``;
        ``networkx``: the kept trace's ``write`` will need networkx (GraphML, folded scopes),
        so the kernel loads it before the snippet runs, as it does for a run not kept."""
        params = {"source": source, "device": device, "root": root, "filename": filename}
        params.update({key: True for key, on in (("deep_values", deep_values),
                                                  ("keep_trace", keep_trace),
                                                  ("networkx", networkx)) if on})
        return self._request("run", params, timeout)

    def write(self, path: str, *, kind: str = "text", timeout: float | None = None,
              **options) -> dict:
        """Return the ``WriteReply`` of writing the kept trace to ``path`` (``kernel.writing``);
        no time limit by default: this is gradstep's own work, not the snippet's."""
        return self._request("write", {"path": path, "kind": kind, **options}, timeout)

    def backward(self, *, mode: str = "backward", retain_graph: bool = False, passes: int = 1,
                 gradient=None, timeout: float | None = _UNSET) -> dict:
        """Return ``Session.backward``'s dict (the DESIGN backward JSON), + output when printed."""
        params = {"mode": mode, "retain_graph": retain_graph, "passes": passes,
                  "gradient": gradient}
        return self._request("backward", params, timeout)

    def inspect(self, node_id: str, *, timeout: float | None = _UNSET) -> dict:
        """Return ``Session.inspect``'s dict for ``node_id`` ({"error": ...} when it failed)."""
        return self._request("inspect", {"node_id": node_id}, timeout)

    def zero_grad(self, *, timeout: float | None = _UNSET) -> dict:
        """Return ``Session.zero_grad``'s dict (every leaf's .grad set to None)."""
        return self._request("zero_grad", {}, timeout)

    def grad_stats(self, *, timeout: float | None = _UNSET) -> dict:
        """Return ``Session.grad_stats``'s dict (each leaf's gradient norm and more)."""
        return self._request("grad_stats", {}, timeout)

    def reset(self, *, timeout: float | None = _UNSET) -> None:
        """Forget the session's state and keep the process (``reset`` answers None); a kernel
        that does not answer is restarted instead."""
        if not self.alive:
            return  # a child that is not running holds no state
        reply = self._request("reset", {}, timeout)
        if isinstance(reply, dict) and reply.get("error") and not reply.get("state_lost"):
            self.restart()

    # -- control ---------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """Return True while a child process is running."""
        child = self._child
        return child is not None and child.proc.poll() is None

    @property
    def answering(self) -> bool:
        """Return True while a child that finished starting works on a request."""
        child = self._child
        return self._busy and child is not None and child.ready

    @property
    def pid(self) -> int | None:
        """Return the child's process id, or None when none runs."""
        return self._child.proc.pid if self.alive else None

    def start(self) -> None:
        """Start the child now (without waiting for it to be ready); requests start it anyway."""
        with self._lock:
            self._check_open()
            if not self.alive:
                self._spawn()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Start the child if needed and return True once it has imported torch and can answer."""
        with self._lock:
            self._check_open()
            try:
                self._ready_child(time.monotonic() + (timeout or self.startup_timeout))
            except KernelUnavailable:
                return False
            return True

    def stop(self) -> None:
        """Interrupt the running request (from any thread); nothing happens when none runs."""
        if self._busy:
            self._stop_requested = True
            self._wake()

    def restart(self) -> None:
        """Kill the child (its state is lost) and start a fresh one."""
        self.stop()
        with self._lock:
            self._check_open()
            self._kill("restarted on request")
            self._spawn()

    def shutdown(self) -> None:
        """Stop any request, end the child and its process group, and free the pipes."""
        if self._closed:
            return
        self._closed = True  # before stop(): an interrupted request must not start a new child
        self.stop()
        with self._lock:
            self._end_child()
            for fd in (self._wake_r, self._wake_w):
                close_fd(fd)

    close = shutdown

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    # -- requests ----------------------------------------------------------------

    def _request(self, method: str, params: dict, timeout) -> dict:
        timeout = self.timeout if timeout is _UNSET else timeout
        with self._lock:
            self._check_open()
            self._stop_requested, self._busy = False, True
            self._drain_wake()
            try:
                return self._request_locked(method, params, timeout)
            finally:
                self._busy = False

    def _request_locked(self, method: str, params: dict, timeout) -> dict:
        out = CappedBytes(self.output_limit, worded_note)
        try:
            child = self._ready_child(time.monotonic() + self.startup_timeout, out)
        except KernelUnavailable as exc:
            error = messages.start_error(str(exc), out.text(), self.memory_limit)
            return self._failure(method, params, error, out)
        try:
            protocol.write_message(child.request_w, {"id": 1, "method": method, "params": params})
        except OSError:
            return self._crashed(child, method, params, out)
        return self._await_reply(child, method, params, timeout, out)

    def _await_reply(self, child: Child, method: str, params: dict, timeout, out) -> dict:
        """Wait for the reply while draining output; stop or time out as needed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        reason, kill_at = None, None
        while True:
            now = time.monotonic()
            if reason is None:
                reason = "user" if self._stop_requested else (
                    "timeout" if deadline is not None and now >= deadline else None)
                if reason is not None:
                    # the kernel's SIGINT handler notes where it stopped the snippet: named
                    # if gradstep's own work after it (a huge graph traced) outlasts the grace
                    child.signal(signal.SIGINT)
                    kill_at = now + self.stop_grace
            elif now >= kill_at:
                return self._killed(method, params, reason, timeout, out)
            wait = (kill_at if reason else deadline)
            event = self._wait(child, out, None if wait is None else max(0.0, wait - now))
            if event == "eof":
                return self._crashed(child, method, params, out)
            if isinstance(event, dict):
                return self._finish(child, event, method, params, reason, timeout, out)

    def _wait(self, child: Child, out: CappedBytes, wait: float | None):
        """Wait up to ``wait`` s; return a reply dict, "eof" when the child died, or None."""
        with selectors.DefaultSelector() as selector:
            selector.register(child.reply_r, selectors.EVENT_READ, "reply")
            selector.register(child.output_r, selectors.EVENT_READ, "output")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            events = selector.select(wait)
        for key, _ in events:
            if key.data == "output":
                read_into(child.output_r, out)
            elif key.data == "wake":
                self._drain_wake()
        if any(key.data == "reply" for key, _ in events):
            return child.read_reply()
        return None

    def _finish(self, child, reply: dict, method, params, reason, timeout, out) -> dict:
        """Return the result of a reply that arrived (possibly after a SIGINT)."""
        drain_output(child.output_r, out, seconds=0.2)
        child.forget_dumps()  # where a stop found this run: not the next run's line
        if "protocol_error" in reply or "result" not in reply:
            self._kill("its reply was garbled")
            self._after_death()
            detail = reply.get("protocol_error") or reply.get("error") or "no result"
            return self._failure(method, params, messages.protocol_error(detail), out)
        result = reply["result"]
        if reply.get("interrupted") or (result is None and method != "reset") or (
                reason and reply.get("stop_unnoted") and _keyboard_interrupt(result)):
            error = messages.timeout_error(timeout, by_user=reason != "timeout",
                                           state_lost=False,
                                           line=messages.error_line(result),
                                           source=params.get("source"))
            # keep what the session returned (its captured output) under the stop's error
            base = result if isinstance(result, dict) else {}
            result = {**_failure_reply(method, error, params), **base, "error": error}
            if method == "run":
                result["ok"], result["exit_code"] = False, 1  # a stop, not the snippet's own
        return self._with_output(result, out)

    def _killed(self, method, params, reason, timeout, out) -> dict:
        """Kill a child that ignored SIGINT; return the timeout error (state lost), naming
        the line the snippet was at when stopped (else the one it runs now)."""
        child = self._child
        drain_output(child.output_r, out, seconds=0.05)
        line = child.running_line(params.get("filename", "<snippet>"))
        self._kill("stopped" if reason == "user" else "timed out")
        self._after_death()
        error = messages.timeout_error(timeout, by_user=reason != "timeout", state_lost=True,
                                       line=line, source=params.get("source"))
        return self._failure(method, params, error, out)

    def _crashed(self, child: Child, method, params, out) -> dict:
        """Report a child that died by itself while answering; start the next one."""
        try:
            returncode = child.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:  # it closed the pipe but lives on
            returncode = None
        drain_output(child.output_r, out, seconds=0.3, until_eof=True)
        # a fatal signal's stack dump goes to the traceback pipe, not into the user's output
        dump = CappedBytes(64 * 1024)
        drain_output(child.traceback_r, dump, seconds=0.3, until_eof=True)
        self._kill("crashed")
        if returncode is not None:
            self.last_exit = messages.describe_exit(returncode)
        self._after_death()
        filename = params.get("filename", "<snippet>")
        line = (messages.snippet_line_in_traceback(dump.text(), filename)
                or messages.snippet_line_in_traceback(out.text(), filename))
        return self._failure(method, params, messages.crash_error(returncode, line=line,
                                                                  source=params.get("source")), out)

    def _failure(self, method, params, error: dict, out: CappedBytes) -> dict:
        result = _failure_reply(method, error, params)
        result["state_lost"] = True
        return self._with_output(result, out)

    def _with_output(self, result, out: CappedBytes):
        """Return ``result`` with the printed output added (``output`` key of a dict result)."""
        if not isinstance(result, dict):
            return result
        printed = out.text()
        own = cap_text(result.get("output") or "", self.output_limit, note=worded_note)  # a Session's own capture
        text = own + printed
        if text or "output" in result:
            result = {**result, "output": text}
        return result

    # -- the child process ---------------------------------------------------

    def _ready_child(self, deadline: float, out: CappedBytes | None = None) -> Child:
        """Return a child that said it is ready, starting one if needed; raise KernelUnavailable."""
        out = out if out is not None else CappedBytes(self.output_limit, worded_note)
        if not self.alive:
            self._spawn()
        child = self._child
        while not child.ready:
            if self._stop_requested:
                raise KernelUnavailable("Stopped while the kernel was starting.")
            now = time.monotonic()
            if now >= deadline:
                self._kill("did not start in time")
                raise KernelUnavailable(f"The kernel did not start within {self.startup_timeout:g} s.")
            event = self._wait(child, out, deadline - now)
            if event == "eof" or (isinstance(event, dict) and not event.get("ready")):
                returncode = child.proc.wait(timeout=2.0) if event == "eof" else None
                drain_output(child.output_r, out, seconds=0.3, until_eof=True)
                self._kill("failed to start")
                how = "" if returncode is None else f" ({messages.describe_exit(returncode)})"
                lines = [line for line in out.text().splitlines() if line.strip()]
                last = lines[-1] if lines else "no output"
                raise KernelUnavailable(f"The kernel failed to start{how}: {last}")
            if isinstance(event, dict):
                child.ready = True
        return child

    def _spawn(self) -> None:
        self._child = Child.start(self.memory_limit, self.session_spec,
                                  collect_at_start=self.collect_at_start,
                                  inherit_stdin=self.inherit_stdin)

    def _after_death(self) -> None:
        self.restarts += 1
        if self.restart_eagerly and not self._closed:
            self._spawn()

    def _kill(self, why: str) -> None:
        """Kill the child and its whole process group, reap it and close its pipes."""
        child, self._child = self._child, None
        if child is None:
            return
        child.kill()
        if why != "crashed":  # a crash was described from its own exit status already
            self.last_exit = why

    def _end_child(self) -> None:
        """Ask the child to exit, then make sure its process group is gone."""
        if self._child is not None:
            self._child.ask_to_exit()
        self._kill("shut down")

    def _check_open(self) -> None:
        if self._closed:
            raise KernelUnavailable("This kernel was shut down; create a new one.")

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass  # the wake pipe is full (a wake is pending anyway) or closed

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except OSError:
            pass


@atexit.register
def _shutdown_all() -> None:
    """End every kernel's child when the program exits, so none outlives it."""
    for kernel in list(_LIVE_KERNELS):
        try:
            kernel.shutdown()
        except Exception:  # shutting down at exit must not raise
            pass


def _failure_reply(method: str, error: dict, params: dict) -> dict:
    """``schema.kernel.failure_reply``, imported here: a command whose requests all succeed
    never loads the records' schema (~5 ms of its start)."""
    from gradstep.schema.kernel import failure_reply

    return failure_reply(method, error, params)


def _keyboard_interrupt(result) -> bool:
    """Return True when ``result`` failed with a KeyboardInterrupt. After the client sent its
    SIGINT (a stop, a timeout) to a kernel whose SIGINT handler was the snippet's own
    (``signal.default_int_handler``; the reply's ``stop_unnoted``), that is the stop's, though
    no handler of the kernel's noted it: the reply said "The snippet raised KeyboardInterrupt"
    for a timeout. A snippet that raises one itself there after the stop was sent is taken
    for stopped too: it ran past the limit. Under the kernel's own handler every stop is
    noted (``interrupted``): a KeyboardInterrupt it did not note is the snippet's, even where
    its reply came after the limit."""
    error = result.get("error") if isinstance(result, dict) else None
    return isinstance(error, dict) and error.get("type") == "KeyboardInterrupt"
