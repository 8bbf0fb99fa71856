"""One kernel worker process, as its client sees it: the process and the parent's ends of
its pipes (requests, replies, printed output, lifeline, stack dumps); start it, read from
it, signal it, end it. ``client.Kernel`` decides when.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time

from gradstep.kernel import messages, protocol
from gradstep.kernel.launch import child_environment, worker_command
from gradstep.policies.output_cap import CappedBytes

READ_CHUNK = 1 << 16


class Child:
    """One running worker process and the parent's ends of its pipes (a plain class:
    ``dataclasses`` would import ``inspect``, ~5 ms of every command's start)."""

    def __init__(self, proc: subprocess.Popen, request_w: int, reply_r: int, output_r: int,
                 lifeline_w: int, traceback_r: int):
        self.proc = proc
        self.request_w, self.reply_r, self.output_r = request_w, reply_r, output_r
        self.lifeline_w, self.traceback_r = lifeline_w, traceback_r
        self.frames = protocol.FrameReader()
        self.ready = False

    def fds(self) -> tuple[int, ...]:
        return (self.request_w, self.reply_r, self.output_r, self.lifeline_w, self.traceback_r)

    @classmethod
    def start(cls, memory_limit: int, session_spec: str, *,
              collect_at_start: bool = True, inherit_stdin: bool = False) -> Child:
        """Start a worker (``launch.worker_command``) in its own process group; return it
        (not yet ready: it says so on its reply pipe once torch is imported). Its standard
        input is this process's with ``inherit_stdin``, else none (``/dev/null``)."""
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        output_r, output_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        traceback_r, traceback_w = os.pipe()
        command = worker_command([
            "--request-fd", str(request_r), "--reply-fd", str(reply_w),
            "--lifeline-fd", str(lifeline_r), "--traceback-fd", str(traceback_w),
            "--memory-limit", str(memory_limit), "--session", session_spec,
            *(() if collect_at_start else ("--no-start-collection",))])
        try:
            proc = subprocess.Popen(
                command, stdin=None if inherit_stdin else subprocess.DEVNULL,
                stdout=output_w, stderr=output_w,
                pass_fds=(request_r, reply_w, lifeline_r, traceback_w), env=child_environment(),
                start_new_session=True,  # its own process group: killed as one, no terminal ^C
            )
        finally:
            for fd in (request_r, reply_w, output_w, lifeline_r, traceback_w):
                os.close(fd)
        for fd in (reply_r, output_r, traceback_r):
            os.set_blocking(fd, False)
        return cls(proc, request_w, reply_r, output_r, lifeline_w, traceback_r)

    def read_reply(self):
        """Return the next whole reply (a dict), None when it has not fully arrived,
        "eof" when the child closed its reply pipe (it died), or ``{"protocol_error"}``."""
        try:
            data = os.read(self.reply_r, READ_CHUNK)
        except BlockingIOError:
            return None
        if not data:
            return "eof"
        self.frames.feed(data)
        try:
            return self.frames.pop()
        except protocol.ProtocolError as exc:
            return {"protocol_error": str(exc)}

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the worker (nothing when it is gone)."""
        try:
            self.proc.send_signal(signum)
        except ProcessLookupError:
            pass

    def running_line(self, filename: str) -> int | None:
        """Return the snippet line the worker was stopped at (the note its SIGINT handler
        wrote) or, without one, is running, from a faulthandler dump (SIGUSR1)."""
        dump = CappedBytes(64 * 1024)
        drain_output(self.traceback_r, dump, seconds=0.05)  # what is there: no waiting
        line = messages.snippet_line_in_traceback(dump.text(), filename)
        if line is not None:
            return line
        self.signal(signal.SIGUSR1)
        for _ in range(8):  # the dump comes at once, unless the machine is busy: up to 1.2 s
            drain_output(self.traceback_r, dump, seconds=0.15, until_eof=True)
            line = messages.snippet_line_in_traceback(dump.text(), filename)
            if line is not None:
                break
        return line

    def forget_dumps(self) -> None:
        """Drop what the traceback pipe holds (a stop's note of where it found the run)."""
        try:
            while os.read(self.traceback_r, READ_CHUNK):
                pass
        except OSError:  # empty (BlockingIOError) or closed
            pass

    def ask_to_exit(self) -> None:
        """Ask a ready worker to end by itself (it gets half a second)."""
        if self.ready and self.proc.poll() is None:
            try:
                protocol.write_message(self.request_w, {"id": 0, "method": "shutdown"})
                self.proc.wait(timeout=0.5)
            except (OSError, subprocess.TimeoutExpired):
                pass

    def kill(self) -> None:
        """Kill the worker and its whole process group, reap it and close its pipes."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass  # unkillable (stuck in the kernel's D state); nothing more to do
        for fd in self.fds():
            close_fd(fd)


def read_into(fd: int, out: CappedBytes) -> bool:
    """Read what is available on ``fd`` into ``out``; return False at end of file."""
    try:
        data = os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if not data:
        return False
    out.write(data)
    return True


def drain_output(fd: int, out: CappedBytes, *, seconds: float, until_eof: bool = False) -> None:
    """Read the output pipe until it is empty (or at its end), for at most ``seconds``.

    A snippet's leftover thread may print forever; the time bound keeps the
    reply from waiting on it.
    """
    end = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < end:
            if not selector.select(0.0 if not until_eof else max(0.0, end - time.monotonic())):
                return
            if not read_into(fd, out):
                return


def close_fd(fd: int) -> None:
    """Close ``fd``; one that is closed already is fine."""
    try:
        os.close(fd)
    except OSError:
        pass
