"""The errors the kernel itself reports: timeout, stop, memory, crash.

They are ``gradstep.schema.errors.ErrorRecord``s like any snippet error, so the CLI
and the GUI show them the same way.
"""

from __future__ import annotations

import re
import signal
import sys
from typing import TYPE_CHECKING

from gradstep.i18n import N_, lazy, render
from gradstep.kernel.limits import format_size
from gradstep.policies.memory_errors import is_memory_output
from gradstep.policies.script_name import script_path

if TYPE_CHECKING:
    from gradstep.schema.errors import ErrorRecord

_SIGNAL_WORDS = {
    "SIGSEGV": N_("a segmentation fault (the process read or wrote memory it does not own)"),
    "SIGBUS": N_("a bus error (a bad memory access)"),
    "SIGABRT": N_("an abort (often a C++ error or running out of memory inside native code)"),
    "SIGKILL": N_("SIGKILL (killed from outside, often by the system when memory runs out)"),
    "SIGFPE": N_("a floating-point exception in native code"),
    "SIGILL": N_("an illegal instruction in native code"),
    "SIGTERM": N_("SIGTERM (asked to terminate from outside)"),
}


def kernel_error(kind: str, message, *, title, explanation, fix,
                 line: int | None = None, source: str | None = None) -> ErrorRecord:
    """Return an error record of ``kind`` with the given words (``errors.make_error``'s);
    each text a ``gradstep.i18n.lazy`` message (or a plain string: torch's own words)."""
    # here: a command that succeeds never loads the error machinery (~7 ms of its start)
    from gradstep.autograd.errors import make_error

    return make_error(kind, message, line=line, source=source, title=title,
                      explanation=explanation, fix=fix)


def timeout_error(seconds: float | None, *, by_user: bool, state_lost: bool,
                  line: int | None = None, source: str | None = None) -> dict:
    """Return the error for a request stopped by ``stop()`` or by its timeout."""
    if by_user:
        message, title = lazy("Stopped by the user."), lazy("Stopped")
    else:
        message = lazy("The snippet ran longer than the {seconds} s timeout and was stopped.",
                       seconds=f"{seconds:g}")
        title = lazy("Timed out")
    lost = (lazy("The kernel was restarted, so the snippet's variables are gone; run it again.")
            if state_lost else lazy("The kernel is still running."))
    return kernel_error(
        "timeout", lazy("{what} {state}", what=message, state=lost), title=title, line=line,
        source=source,
        explanation=lazy("The snippet was still running (a loop that never ends, a long sleep, "
                         "or a slow operation) when it was stopped."),
        fix=lazy("Make the loop end or the tensors smaller, or raise the limit with "
                 "--timeout SECONDS."),
    )


def _cap_words(limit: int) -> dict:
    """The memory cap in words: the kernel's (a size) or, with none, the machine's."""
    return (lazy("the kernel's {size} memory cap", size=format_size(limit)) if limit
            else lazy("the machine's memory"))


def memory_error(limit: int, detail: str, line: int | None = None,
                 source: str | None = None) -> dict:
    """Return the error for a snippet that asked for more memory than the cap allows."""
    cap = _cap_words(limit)
    return kernel_error(
        "memory", lazy("Not enough memory: {detail}", detail=detail),
        title=lazy("Not enough memory"), line=line, source=source,
        explanation=lazy("The snippet asked for more memory than {cap} allows.", cap=cap),
        fix=lazy("Use smaller tensors, or raise the cap with GRADSTEP_MEMORY_LIMIT (e.g. 16G; "
                 "0 = no cap)."),
    )


def describe_exit(returncode: int) -> str:
    """Return plain words for how a process ended: ``exit code 3`` or ``signal SIGSEGV (...)``."""
    return render(exit_words(returncode), "en")


def exit_words(returncode: int) -> dict:
    """Return how a process ended as a ``lazy`` message (``describe_exit`` in any language)."""
    if returncode >= 0:
        return lazy("exit code {code}", code=returncode)
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    what = lazy(_SIGNAL_WORDS[name]) if name in _SIGNAL_WORDS else name
    return lazy("signal {name}: {what}", name=name, what=what)


def crash_error(returncode: int | None, line: int | None = None,
                source: str | None = None) -> dict:
    """Return the error for a kernel process that died while answering a request."""
    how = lazy("an unknown cause") if returncode is None else exit_words(returncode)
    out_of_memory = returncode in (-signal.SIGKILL, -signal.SIGABRT)
    fix = (lazy("Use smaller tensors or raise GRADSTEP_MEMORY_LIMIT, then run again.")
           if out_of_memory else
           lazy("Remove the call that ends the process (os._exit, a crashing native call) and "
                "run again."))
    return kernel_error(
        "crash", lazy("The kernel process died ({how}). It was restarted; the snippet's "
                      "variables are gone.", how=how),
        title=lazy("The kernel crashed"), line=line, source=source,
        explanation=lazy("The snippet ended the Python process that runs it, or native code in "
                         "it crashed. gradstep itself is fine and kept your text."),
        fix=fix,
    )


def start_error(reason: str, output: str, memory_limit: int) -> dict:
    """Return the error for a kernel that could not start, saying what really went wrong.

    ``reason`` is the client's own words (it exited, it timed out); ``output`` is what
    the child printed before it died, read for the cause.
    """
    python = sys.executable
    if is_memory_output(output):
        explanation = (lazy("The kernel ran out of memory while importing torch, under a {cap} "
                            "cap on its address space.", cap=format_size(memory_limit))
                       if memory_limit else
                       lazy("The kernel ran out of memory while importing torch."))
        fix = lazy("Raise the cap with GRADSTEP_MEMORY_LIMIT (e.g. 16G; 0 = no cap) and run "
                   "again.")
    elif "ModuleNotFoundError" in output or "ImportError" in output:
        explanation = lazy("The kernel's Python ({python}) could not import a module that "
                           "gradstep or torch needs; the last line of the kernel's output names "
                           "it.", python=python)
        fix = lazy("Install gradstep with its dependencies into this Python "
                   "({python} -m pip install gradstep), or start gradstep from the environment "
                   "it is installed in.", python=python)
    elif "did not start within" in reason:
        explanation = lazy("Importing torch in the kernel took longer than allowed (a busy or "
                           "slow machine).")
        fix = lazy("Run again; if it keeps happening, close other programs that load the "
                   "machine.")
    elif reason.startswith("Stopped"):
        explanation = lazy("The start was stopped on request before the kernel was ready.")
        fix = lazy("Run again.")
    else:
        explanation = lazy("The child process that runs snippets ended before it was ready; "
                           "its output (shown with this error) says why.")
        fix = lazy("Check that '{python} -c \"import torch\"' works; if it does, report this "
                   "with the kernel's output.", python=python)
    return kernel_error("crash", reason, title=lazy("The kernel could not start"),
                        explanation=explanation, fix=fix)


def protocol_error(detail: str) -> dict:
    """Return the error for a reply the kernel could not read (the snippet wrote on its pipe)."""
    return kernel_error(
        "crash", lazy("The kernel's reply could not be read ({detail}). It was restarted.",
                      detail=detail),
        title=lazy("The kernel's reply was garbled"),
        explanation=lazy("Something in the snippet wrote onto or closed the kernel's private "
                         "pipe."),
        fix=lazy("Do not write to or close file descriptors the snippet did not open."),
    )


def snippet_line_in_traceback(text: str, filename: str) -> int | None:
    """Return the last snippet line named in a faulthandler dump or traceback in ``text``
    (its frames carry the name python gives the script's code, ``script_path``)."""
    pattern = re.compile(r'File "' + re.escape(script_path(filename)) + r'", line (\d+)')
    found = pattern.findall(text)
    # faulthandler lists the innermost frame first; its first snippet frame is the one that ran
    return int(found[0]) if found else None


def drawing_memory_error(limit: int, detail: str) -> dict:
    """Return the error for a file the kernel could not draw within its memory cap."""
    cap = _cap_words(limit)
    return kernel_error(
        "memory", lazy("Not enough memory: {detail}", detail=detail or "MemoryError"),
        title=lazy("Not enough memory"),
        explanation=lazy("The snippet ran to its end; drawing its graph needed more memory "
                         "than {cap} allows.", cap=cap),
        fix=lazy("Fold the modules (--collapse 1), or raise the cap with GRADSTEP_MEMORY_LIMIT "
                 "(e.g. 16G; 0 = no cap)."),
    )


def error_line(result) -> int | None:
    """Return the snippet line of ``result``'s error (a reply dict), or None."""
    error = result.get("error") if isinstance(result, dict) else None
    return error.get("line") if isinstance(error, dict) else None
