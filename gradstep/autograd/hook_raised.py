"""An error a hook of the snippet's raised while torch's engine ran a backward pass.

torch's engine calls a tensor hook (``y.register_hook(hook)``), a node's pre- or post-hook
and a leaf's post-accumulate-grad hook straight from C++: in the traceback the hook's
frame comes right after the frame of the call into the engine (``_engine_run_backward``).
Such an error is the hook's, not the line's the generic words describe ("A value on this
line is out of range"): its words name the hook, where it was defined, the line that
raised and the backward call torch was running (a custom ``Function.backward`` is called
through torch's ``function.py``, a module's backward hook through ``utils/hooks.py``: not
named a hook here)."""

from __future__ import annotations

from dataclasses import dataclass

from gradstep.i18n import lazy

_ENGINE_CALLS = {("graph.py", "_engine_run_backward"),  # torch 2.3 on
                 ("__init__.py", "backward"), ("__init__.py", "grad")}  # before it


@dataclass(frozen=True)
class HookFrame:
    """The hook torch called: its name, the line of its ``def`` (or lambda), and the
    snippet's line that ran the backward call (None: gradstep's own pass)."""

    name: str
    defined: int
    call_line: int | None


def hook_frame(exc: BaseException, filename: str) -> HookFrame | None:
    """Return the outermost hook of the snippet's (``filename``) that torch's engine called
    in ``exc``'s traceback, or None where no snippet frame was called by the engine."""
    tb = exc.__traceback__
    call_line, engine = None, False  # engine: the frame before was torch's engine call
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename:
            if engine:
                return HookFrame(code.co_name, code.co_firstlineno, call_line)
            call_line = tb.tb_lineno
        engine = _is_engine_call(code)
        tb = tb.tb_next
    return None


def _is_engine_call(code) -> bool:
    """Whether ``code`` is torch's Python call into its engine (``_ENGINE_CALLS``)."""
    path = code.co_filename.replace("\\", "/")
    return "torch/autograd/" in path and (path.rsplit("/", 1)[-1], code.co_name) in _ENGINE_CALLS


def raised_in_a_node(exc: BaseException) -> bool:
    """Whether torch's engine raised ``exc`` in a node it ran: no Python frame comes after the
    outermost call into the engine (a built-in node's C++), or only a custom Function's
    ``backward`` called through torch's ``function.py`` (its ``ctx.saved_tensors``). Not
    where a hook of the snippet's raised it (its frame comes after the engine's), a backward
    call inside one included: torch's message there is about another node."""
    tb = exc.__traceback__
    while tb is not None and not _is_engine_call(tb.tb_frame.f_code):
        tb = tb.tb_next
    while tb is not None and tb.tb_next is not None and _is_engine_call(tb.tb_next.tb_frame.f_code):
        tb = tb.tb_next  # ``backward`` in ``__init__.py`` calls ``_engine_run_backward``
    if tb is None:
        return False
    after = []
    tb = tb.tb_next
    while tb is not None:
        code = tb.tb_frame.f_code
        after.append((code.co_filename.replace("\\", "/"), code.co_name))
        tb = tb.tb_next
    return not after or (len(after) == 2 and after[0][0].endswith("torch/autograd/function.py")
                         and after[0][1] == "apply")


def hook_words(exc: BaseException, hook: HookFrame, line: int | None) -> dict:
    """Return ``{"title", "explanation", "fix"}`` for ``exc``, raised at ``line`` inside
    ``hook`` (``hook_frame``)."""
    kind = type(exc).__name__
    name = hook.name  # as python's traceback names it: ``<lambda>`` for a lambda
    where = (lazy("the backward call at line {line}", line=hook.call_line)
             if hook.call_line else lazy("gradstep's own backward pass"))
    return {
        "title": lazy("A hook raised {kind} during backward", kind=kind),
        "explanation": lazy(
            "torch called the hook `{name}` (defined at line {defined}) in {where}, and the "
            "hook raised {kind} at line {line}: the error is the hook's own, and torch stopped "
            "the pass there (the nodes after it did not run).",
            name=name, defined=hook.defined, where=where, kind=kind,
            line=line if line is not None else hook.defined),
        "fix": lazy("Correct the hook `{name}` at the marked line, or remove the hook (the "
                    "handle register_hook returned has .remove()).", name=name),
    }
