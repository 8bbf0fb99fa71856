"""The kernel's child process: owns one Session and answers requests on private pipes.

Started by ``gradstep.kernel.client.Kernel`` (through ``gradstep.kernel.launch``, so that
no folder of the user's can shadow gradstep's modules) with
``--request-fd R --reply-fd W --lifeline-fd L [--traceback-fd T]``.
Its stdout and stderr are one pipe the client drains (what the snippet
prints, at the file-descriptor level); requests and replies travel on
separate pipes, so printed text can never corrupt a reply.
"""

from __future__ import annotations

import argparse
import faulthandler
import functools
import gc
import importlib
import os
import resource
import signal
import sys
import threading
import traceback

from gradstep.autograd.errors import explain
from gradstep.autograd.stop_flag import Stop  # the core tells the kernel's stop from a hook's
from gradstep.kernel import messages, protocol, writing
from gradstep.kernel.launch import plain_environment
from gradstep.kernel.std_streams import (
    flush_output,
    keep_output_pipe,
    restore_input,
    restore_output,
)
from gradstep.policies.gc_pause import gc_paused, settle_after_work
from gradstep.policies.memory_errors import allocation_detail, looks_like_memory
from gradstep.policies.script_name import script_path
from gradstep.schema.kernel import METHODS, failure_reply

DEFAULT_SESSION = f"{__package__.rpartition('.')[0]}.autograd.session:Session"


def _on_sigint(signum, frame):
    # Only a running request is interrupted; a SIGINT that arrives while the
    # worker waits for the next request (a late stop) is ignored.
    if Stop.busy:
        Stop.requested = True
        note_stopped_at(frame)
        raise KeyboardInterrupt


def note_stopped_at(frame, most: int = 100) -> None:
    """Write where the stop found the main thread to the traceback pipe, innermost frame
    first, as faulthandler writes: a run killed after the grace (gradstep's work after the
    interrupt outlasted it) still names the snippet line it was stopped at. No SIGUSR1 is
    sent for it: a snippet's own handler of that signal is not called by the kernel's stop."""
    if not _TRACEBACK_FILES:
        return
    lines = ["Stopped at:\n"]
    while frame is not None and len(lines) <= most:
        lines.append(f'  File "{frame.f_code.co_filename}", line {frame.f_lineno}\n')
        frame = frame.f_back
    try:
        os.write(_TRACEBACK_FILES[0].fileno(), "".join(lines).encode(errors="replace"))
    except (OSError, ValueError):
        pass


def set_memory_limit(limit: int) -> None:
    """Cap the process's address space at ``limit`` bytes (0 = no cap).

    Only the soft limit is set, so ``lift_memory_limit_for_cuda`` can undo it.
    """
    if limit > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def lift_memory_limit_for_cuda() -> bool:
    """Lift the address-space cap when CUDA is usable; return True when it was lifted.

    The CUDA driver reserves far more address space than memory it uses, so
    under an address-space cap it fails to initialise.
    """
    torch = sys.modules.get("torch")
    if torch is None or getattr(torch.version, "cuda", None) is None:
        return False
    if not torch.cuda.is_available():
        return False
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    return True


def watch_lifeline(fd: int) -> None:
    """End the whole process group when the client dies (its end of the pipe closes)."""

    def wait_for_eof():
        # the stack dumps the client asks for (SIGUSR1) are of the main thread: not this one
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        while os.read(fd, 1):
            pass
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=wait_for_eof, name="gradstep-lifeline", daemon=True).start()


_TRACEBACK_FILES: list = []


def register_traceback_dump(fd: int | None) -> None:
    """Dump the main thread's stack to ``fd`` on SIGUSR1 and on a fatal signal (segfault).

    The client asks for a dump before killing a snippet that ignored SIGINT, to
    name the line that was running; after a crash it reads the snippet's line
    from the dump. The dump never goes into the snippet's output, which the
    user sees: it is mostly gradstep's own frames. Without ``fd`` (the worker
    run by hand) a crash dumps to stderr.
    """
    if fd is None:
        faulthandler.enable()
        return
    stream = os.fdopen(fd, "wb", buffering=0)
    _TRACEBACK_FILES.append(stream)  # faulthandler keeps only the descriptor
    faulthandler.enable(file=stream, all_threads=False)
    faulthandler.register(signal.SIGUSR1, file=stream, all_threads=False)


def load_session_class(spec: str):
    """Return the class named by ``module:Class``."""
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def guard_torch_load() -> None:
    """Make ``torch.load`` in the snippet's namespace default to ``weights_only=True``.

    torch >= 2.6 already does; this keeps it so whatever the environment says
    (TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is removed from the child's environment too).
    """
    import torch  # heavy, and a test session (tests/kernel/fake_session.py) runs without it

    from gradstep.autograd.own_frames import frames_out

    original = torch.load
    if getattr(original, "_gradstep_guarded", False):
        return

    @functools.wraps(original)
    def load(*args, **kwargs):
        if kwargs.get("weights_only") is None:
            kwargs["weights_only"] = True
        with frames_out:  # torch's error, as the plain run's traceback has it
            return original(*args, **kwargs)

    load._gradstep_guarded = True
    torch.load = load


def explain_base_exception(exc: BaseException, params: dict, filename: str | None = None) -> dict:
    """Return the error dict for SystemExit, KeyboardInterrupt or anything else raised past
    the Session; ``filename``: the name the snippet's code was compiled under (taken before
    it ran: it may change the current folder)."""
    source = params.get("source", "")
    filename = filename or script_path(params.get("filename", "<snippet>"))
    try:
        error = dict(explain(exc, source, filename))
    except Exception:  # errors.py unable to explain: still answer
        error = messages.kernel_error("other", repr(exc), title=type(exc).__name__,
                                      explanation="", fix="")
    if not error.get("message"):
        error["message"] = repr(exc)
    if isinstance(exc, SystemExit | KeyboardInterrupt):
        error["explanation"] = (error.get("explanation") or "") + " The kernel kept running."
    return error


def interrupted_line(exc: BaseException, filename: str) -> int | None:
    """Return the snippet line the client's interrupt landed on, from ``exc``'s traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def upgrade_memory_error(result: object, limit: int) -> object:
    """Return ``result`` with an allocation failure reported as kind 'memory', naming the cap."""
    if not isinstance(result, dict) or not isinstance(result.get("error"), dict):
        return result
    error = result["error"]
    if not looks_like_memory(error):
        return result
    better = messages.memory_error(limit, allocation_detail(str(error.get("message") or "")),
                                   line=error.get("line"))
    better["code"] = error.get("code")
    for key in ("type", "column", "detail"):
        if key in error:
            better[key] = error[key]
    return {**result, "error": better}


def internal_failure(method, params: dict, message: str) -> dict:
    """Return ``method``'s failure shape for a fault of gradstep itself, not of the snippet."""
    error = messages.kernel_error(
        "other", message, title="Internal error in the kernel",
        explanation="gradstep could not answer this request; the snippet is not to blame.",
        fix="Run the snippet again; if this repeats, report it with the snippet.")
    return failure_reply(str(method), error, params)


def call(session, method: str, params: dict) -> object:
    """Return the result of ``session.method(**params)``; a snippet's escape becomes an error result."""
    Stop.busy, Stop.requested = True, False
    # the code's name, before the snippet runs (it may change the current folder)
    filename = script_path(params.get("filename", "<snippet>"))
    try:
        return getattr(session, method)(**params)
    except KeyboardInterrupt as exc:
        if Stop.requested:
            line = interrupted_line(exc, filename)
            return failure_reply(method, messages.timeout_error(
                None, by_user=True, state_lost=False, line=line,
                source=params.get("source")), params)
        return failure_reply(method, explain_base_exception(exc, params, filename), params)
    except BaseException as exc:  # SystemExit and anything a snippet raises past the Session
        return failure_reply(method, explain_base_exception(exc, params, filename), params)
    finally:
        Stop.busy = False


def write_kept(params: dict, limit: int) -> dict:
    """Return the reply to ``write`` (``writing.write``); a fault of gradstep's is an error reply."""
    try:
        return writing.write(params)
    except MemoryError as exc:  # the drawing counts against the kernel's memory cap
        return failure_reply("write", messages.drawing_memory_error(limit, str(exc)), params)
    except Exception as exc:  # the kernel keeps answering
        return internal_failure("write", params, f"the file could not be written: {exc!r}")


def answer(session, request: dict, limit: int) -> dict:
    """Return the reply to one request: ``{"id", "result"}`` or ``{"id", "interrupted": True}``;
    ``stop_unnoted``: a SIGINT handler of the snippet's own was in force at its end, so a
    stop raised under it was not noted (``kernel.client._keyboard_interrupt``)."""
    method, params = request.get("method"), request.get("params") or {}
    writing.release()  # what the last write drew from: freed now, not before its reply
    if method not in METHODS:
        return {"id": request.get("id"), "result": internal_failure(
            method, params, f"the kernel has no method {method!r}")}
    if method == "write":  # gradstep's own work on the kept trace, not the snippet's
        return {"id": request.get("id"), "result": write_kept(params, limit),
                "interrupted": False}
    keep = method == "run" and bool(params.pop("keep_trace", False))
    wants_networkx = bool(params.pop("networkx", False))
    if keep and hasattr(session, "take_graph"):  # the graph kept as it is (Session.run)
        params = {**params, "keep_graph": True}
    if method == "run" and (wants_networkx or not keep):
        load_networkx()  # before the snippet, not in what it leaves (start_session)
    result = call(session, method, params)
    interrupted = Stop.requested
    # a SIGINT handler of the snippet's own: a stop raised under it was not noted, so the
    # client that sent one reads a KeyboardInterrupt as its stop (under the kernel's, every
    # stop is noted: a KeyboardInterrupt not noted is the snippet's own, its reply late or not)
    unnoted = signal.getsignal(signal.SIGINT) is not Stop.handler
    if method == "run":  # a stop the snippet caught still fails the run: its trace is sent
        result = _after_run(result, keep and not interrupted, session, params)
    return {"id": request.get("id"), "result": upgrade_memory_error(result, limit),
            "interrupted": interrupted, "stop_unnoted": unnoted}


def _after_run(result: object, keep: bool, session, params: dict) -> object:
    """Return ``writing.after_run``'s reply; making a kept graph's trace JSON for the reply
    can fail as the run itself could (memory): that is the run's failure, not the kernel's end."""
    try:
        return writing.after_run(result, keep, session)
    except MemoryError as exc:
        return failure_reply("run", explain_base_exception(exc, params), params)
    except Exception as exc:
        return internal_failure("run", params, f"the trace could not be made: {exc!r}")


def serve(request_fd: int, reply_fd: int, session, limit: int) -> None:
    """Answer requests until the client says shutdown or closes the request pipe."""
    worker_pid = os.getpid()
    while True:
        request = protocol.read_message(request_fd)
        if request is None or request.get("method") == "shutdown":
            return
        restore_output()
        restore_input()
        try:
            reply = answer(session, request, limit)
        except KeyboardInterrupt:  # the stop arrived between the call and the reply
            reply = {"id": request.get("id"), "result": None, "interrupted": True}
        if os.getpid() != worker_pid:
            os._exit(0)  # a process the snippet forked came back here: only the worker answers
        flush_output()
        try:
            protocol.write_message(reply_fd, reply)
        except (TypeError, ValueError) as exc:  # a result that is not JSON-safe
            failure = internal_failure(request.get("method"), request.get("params") or {},
                                       f"the reply could not be sent as JSON: {exc}")
            protocol.write_message(reply_fd, {"id": request.get("id"), "result": failure})


def load_networkx() -> None:
    """Import networkx (with the collector paused) where a run's trace or write needs it.

    A kernel that only writes a kept trace's SVG, DOT or JSON never does (``PlainGraph``);
    any other run loads it before the snippet, as a kernel started with it would have: an
    import after the snippet would run under what the snippet left (a module of its own
    named ``html``, a low recursion limit) and, after a stop, inside the stop's short grace.
    """
    if "networkx" not in sys.modules:
        with gc_paused():
            importlib.import_module("networkx")


def start_session(spec: str, collect: bool):
    """Return a new session of the class ``spec`` names, its imports (torch, gradstep, and
    networkx where ``collect``) made with the collector paused, then settled
    (``settle_imports``) before it resumes.

    The order matters: ~290,000 objects are young when the imports end, and the collector,
    turned back on, walks all of them in a young collection at the next allocation
    (~80 ms of CPU, every command line kernel) before any freeze could spare them.
    """
    with gc_paused():  # no collection walks torch's heap for each module imported after it
        session = load_session_class(spec)()
        if collect:  # the window's kernel, started ahead of its runs, traces networkx graphs:
            # loaded now, as before. The command line's writes its files from a PlainGraph
            # (``Session.run(keep_graph=True)``); its other runs load networkx before the
            # snippet (``load_networkx``).
            load_networkx()
        settle_imports(collect)
    return session


def settle_imports(collect: bool) -> None:
    """Leave the objects the paused imports made where the collector walks them least
    (call it with the collector still paused: ``start_session``).

    ``collect``: one full collection now (~0.1 s, torch's heap), so that the snippet's
    first run does not start with one (a kernel started ahead of its first run, the
    window's). Without it (the command line, which waits for its kernel): the objects are
    frozen as they are (``gc.freeze``, no walk), where no collection walks them: each
    full collection a big snippet's first run calls for walks its own objects only (a
    100,000-node chain's two: ~0.35 s of walking torch's heap less). While frozen they
    are never collected as cyclic garbage (the modules' own objects, which live as long
    as the kernel), and ``gc.get_objects`` does not list them; the freeze ends with the
    first run's walk of its graph (``gc_pause.paused_after_snippet``).
    """
    if collect:
        gc.collect()
        settle_after_work(gc.get_freeze_count())  # every frozen object here is the kernel's
    else:
        gc.freeze()
        settle_after_work(None)  # just frozen, uncounted: a probe tells a snippet's own freeze


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gradstep kernel worker")
    parser.add_argument("--request-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, required=True)
    parser.add_argument("--traceback-fd", type=int, default=None)
    parser.add_argument("--memory-limit", type=int, default=0)
    parser.add_argument("--session", default=DEFAULT_SESSION)
    parser.add_argument("--no-start-collection", dest="start_collection", action="store_false")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    plain_environment()
    set_memory_limit(args.memory_limit)
    watch_lifeline(args.lifeline_fd)
    keep_output_pipe()
    register_traceback_dump(args.traceback_fd)  # a segfault's dump names the snippet line
    Stop.handler = _on_sigint  # a snippet's own handler of SIGINT stops unnoted
    signal.signal(signal.SIGINT, _on_sigint)
    session = start_session(args.session, args.start_collection)
    if hasattr(session, "capture_output"):
        session.capture_output = False  # the client reads fds 1 and 2: Python's own buffering
    if args.session == DEFAULT_SESSION or "torch" in sys.modules:
        # loads torch (here, not at import): a session that runs without it, such as the
        # tests' fake one, starts without paying for torch's import
        from gradstep.autograd import process_state
        from gradstep.autograd.runner import keep_warning_filters

        keep_warning_filters()  # torch's own, as a plain run has them once it imported torch
        guard_torch_load()
        process_state.keep()  # each run starts from it, whatever the one before changed
    if lift_memory_limit_for_cuda():
        args.memory_limit = 0
    protocol.write_message(args.reply_fd, {"ready": True, "pid": os.getpid()})
    serve(args.request_fd, args.reply_fd, session, args.memory_limit)
    flush_output()
    # os._exit: a snippet's never-ending non-daemon thread must not keep the kernel alive
    os._exit(0)


if __name__ == "__main__":
    main()
