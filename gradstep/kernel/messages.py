"""The errors the kernel itself reports: timeout, stop, memory, crash.

They are ``gradstep.schema.errors.ErrorRecord``s like any snippet error, so the CLI
and the GUI show them the same way.
"""

from __future__ import annotations

import re
import signal
import sys

from gradstep.kernel.limits import format_size
from gradstep.policies.memory_errors import is_memory_output
from gradstep.schema.errors import ErrorRecord, error_record, source_line

_SIGNAL_WORDS = {
    "SIGSEGV": "a segmentation fault (the process read or wrote memory it does not own)",
    "SIGBUS": "a bus error (a bad memory access)",
    "SIGABRT": "an abort (often a C++ error or running out of memory inside native code)",
    "SIGKILL": "SIGKILL (killed from outside, often by the system when memory runs out)",
    "SIGFPE": "a floating-point exception in native code",
    "SIGILL": "an illegal instruction in native code",
    "SIGTERM": "SIGTERM (asked to terminate from outside)",
}


def kernel_error(kind: str, message: str, *, title: str, explanation: str, fix: str,
                 line: int | None = None, source: str | None = None) -> ErrorRecord:
    """Return an error record of ``kind`` with the given words."""
    return error_record(kind, message, line=line, code=source_line(source, line), title=title,
                        explanation=explanation, fix=fix)


def timeout_error(seconds: float | None, *, by_user: bool, state_lost: bool,
                  line: int | None = None, source: str | None = None) -> dict:
    """Return the error for a request stopped by ``stop()`` or by its timeout."""
    if by_user:
        message, title = "Stopped by the user.", "Stopped"
    else:
        message, title = f"The snippet ran longer than the {seconds:g} s timeout and was stopped.", "Timed out"
    lost = (" The kernel was restarted, so the snippet's variables are gone; run it again."
            if state_lost else " The kernel is still running.")
    return kernel_error(
        "timeout", message + lost, title=title, line=line, source=source,
        explanation="The snippet was still running (a loop that never ends, a long sleep, "
                    "or a slow operation) when it was stopped.",
        fix="Make the loop end or the tensors smaller, or raise the limit with --timeout SECONDS.",
    )


def memory_error(limit: int, detail: str, line: int | None = None,
                 source: str | None = None) -> dict:
    """Return the error for a snippet that asked for more memory than the cap allows."""
    cap = f"the kernel's {format_size(limit)} memory cap" if limit else "the machine's memory"
    return kernel_error(
        "memory", f"Not enough memory: {detail}", title="Not enough memory", line=line,
        source=source,
        explanation=f"The snippet asked for more memory than {cap} allows.",
        fix="Use smaller tensors, or raise the cap with GRADSTEP_MEMORY_LIMIT (e.g. 16G; 0 = no cap).",
    )


def describe_exit(returncode: int) -> str:
    """Return plain words for how a process ended: ``exit code 3`` or ``signal SIGSEGV (...)``."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"signal {name}: {_SIGNAL_WORDS.get(name, name)}"


def crash_error(returncode: int | None, line: int | None = None,
                source: str | None = None) -> dict:
    """Return the error for a kernel process that died while answering a request."""
    how = "an unknown cause" if returncode is None else describe_exit(returncode)
    out_of_memory = returncode in (-signal.SIGKILL, -signal.SIGABRT)
    fix = ("Use smaller tensors or raise GRADSTEP_MEMORY_LIMIT, then run again."
           if out_of_memory else
           "Remove the call that ends the process (os._exit, a crashing native call) and run again.")
    return kernel_error(
        "crash", f"The kernel process died ({how}). It was restarted; the snippet's variables are gone.",
        title="The kernel crashed", line=line, source=source,
        explanation="The snippet ended the Python process that runs it, or native code in it crashed. "
                    "gradstep itself is fine and kept your text.",
        fix=fix,
    )


def start_error(reason: str, output: str, memory_limit: int) -> dict:
    """Return the error for a kernel that could not start, saying what really went wrong.

    ``reason`` is the client's own words (it exited, it timed out); ``output`` is what
    the child printed before it died, read for the cause.
    """
    python = sys.executable
    if is_memory_output(output):
        cap = format_size(memory_limit) if memory_limit else "no"
        explanation = (f"The kernel ran out of memory while importing torch, under a {cap} cap "
                       "on its address space.")
        fix = "Raise the cap with GRADSTEP_MEMORY_LIMIT (e.g. 16G; 0 = no cap) and run again."
    elif "ModuleNotFoundError" in output or "ImportError" in output:
        explanation = (f"The kernel's Python ({python}) could not import a module that "
                       "gradstep or torch needs; the last line of the kernel's output names it.")
        fix = ("Install gradstep with its dependencies into this Python "
               f"({python} -m pip install gradstep), or start gradstep from the environment "
               "it is installed in.")
    elif "did not start within" in reason:
        explanation = "Importing torch in the kernel took longer than allowed (a busy or slow machine)."
        fix = "Run again; if it keeps happening, close other programs that load the machine."
    elif reason.startswith("Stopped"):
        explanation = "The start was stopped on request before the kernel was ready."
        fix = "Run again."
    else:
        explanation = ("The child process that runs snippets ended before it was ready; "
                       "its output (shown with this error) says why.")
        fix = (f"Check that '{python} -c \"import torch\"' works; if it does, report this "
               "with the kernel's output.")
    return kernel_error("crash", reason, title="The kernel could not start",
                        explanation=explanation, fix=fix)


def protocol_error(detail: str) -> dict:
    """Return the error for a reply the kernel could not read (the snippet wrote on its pipe)."""
    return kernel_error(
        "crash", f"The kernel's reply could not be read ({detail}). It was restarted.",
        title="The kernel's reply was garbled",
        explanation="Something in the snippet wrote onto or closed the kernel's private pipe.",
        fix="Do not write to or close file descriptors the snippet did not open.",
    )


def snippet_line_in_traceback(text: str, filename: str) -> int | None:
    """Return the last snippet line named in a faulthandler dump or traceback in ``text``."""
    pattern = re.compile(r'File "' + re.escape(filename) + r'", line (\d+)')
    found = pattern.findall(text)
    # faulthandler lists the innermost frame first; its first snippet frame is the one that ran
    return int(found[0]) if found else None
