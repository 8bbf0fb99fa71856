"""An error a hook of the snippet's raised while torch's engine ran a backward pass.

torch's engine calls a tensor hook (``y.register_hook(hook)``), a node's pre- or post-hook
and a leaf's post-accumulate-grad hook straight from C++: in the traceback the hook's
frame comes right after the frame of the call into the engine (``_engine_run_backward``).
Such an error is the hook's, not the line's the generic words describe ("A value on this
line is out of range"): its words name the hook, where it was defined, the line that
raised and the backward call torch was running (a custom ``Function.backward`` is called
through torch's ``function.py``, a module's backward hook through ``utils/hooks.py``: not
named a hook here). No torch import here: a kernel with a session that does not use torch
loads its error words too."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from gradstep.i18n import lazy, with_words

_ENGINE_CALLS = {("graph.py", "_engine_run_backward"),  # torch 2.3 on
                 ("__init__.py", "backward"), ("__init__.py", "grad")}  # before it


@dataclass(frozen=True)
class HookFrame:
    """The hook torch called: its name, the line of its ``def`` (or lambda), and the
    snippet's line that ran the backward call (None: gradstep's own pass)."""

    name: str
    defined: int
    call_line: int | None
    grad: bool = False  # the call is ``torch.autograd.grad`` (else a backward call)
    via: str | None = None  # the line called this function, which made the call (jacobian)
    file: str | None = None  # the hook's file, in a pass gradstep.backward ran (no snippet)
    raised: int | None = None  # there: the line of that file that raised


def hook_frame(exc: BaseException, filename: str) -> HookFrame | None:
    """Return the outermost hook of the snippet's (``filename``) that torch's engine called
    in ``exc``'s traceback, or None where no snippet frame was called by the engine."""
    tb = exc.__traceback__
    call_line, engine = None, False  # engine: the frame before was torch's engine call
    grad = False  # torch's ``autograd.grad`` came after the snippet's call line
    via, called = None, False  # called: the frame before was the snippet's
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename:
            if engine:
                return HookFrame(code.co_name, code.co_firstlineno, call_line, grad, via)
            call_line, grad, via = tb.tb_lineno, False, None
        elif called:
            via = _functional(code)
        called = code.co_filename == filename
        engine = _is_engine_call(code)
        grad = grad or (engine and code.co_name == "grad")
        tb = tb.tb_next
    return None


_CHECKS = ("gradcheck", "gradgradcheck")  # torch/autograd/gradcheck.py: torch.autograd.<name>


def live_hook_frame(exc: BaseException) -> HookFrame | None:
    """Return the outermost hook that torch's engine called in ``exc``'s traceback, in a pass
    ``gradstep.backward`` ran (no snippet: the hook is the caller's code, in any file but
    torch's and gradstep's), with its file and the line of it that raised; else None."""
    tb, engine = exc.__traceback__, False
    while tb is not None:
        code = tb.tb_frame.f_code
        if engine and _callers(code.co_filename):
            line, inner = tb.tb_lineno, tb.tb_next
            while inner is not None:  # the innermost frame of the hook's file raised
                if inner.tb_frame.f_code.co_filename == code.co_filename:
                    line = inner.tb_lineno
                inner = inner.tb_next
            return HookFrame(code.co_name, code.co_firstlineno, None, file=code.co_filename,
                             raised=line)
        engine = _is_engine_call(code)
        tb = tb.tb_next
    return None


def _callers(filename: str) -> bool:
    """Whether ``filename`` is neither torch's nor gradstep's: the caller's own code."""
    packages = [sys.modules.get(name) for name in ("torch", "gradstep")]
    folders = [os.path.dirname(getattr(p, "__file__", None) or "") for p in packages if p]
    return not any(folder and filename.startswith(folder + os.sep) for folder in folders)


def _functional(code) -> str | None:
    """Return ``torch.autograd.functional.jacobian`` (``hessian``, ``vjp``, ...), or
    ``torch.autograd.gradcheck`` (``gradgradcheck``), where ``code`` is that public function
    of torch's, called by the snippet's line: it makes the ``autograd.grad`` calls the engine
    runs, the line does not. Else None."""
    path = code.co_filename.replace("\\", "/")
    if path.endswith("torch/autograd/functional.py") and not code.co_name.startswith("_"):
        return f"torch.autograd.functional.{code.co_name}"
    if path.endswith("torch/autograd/gradcheck.py") and code.co_name in _CHECKS:
        return f"torch.autograd.{code.co_name}"
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
    if hook.file is not None:  # a pass gradstep.backward ran: lines of the hook's own file
        return _live_hook_words(kind, hook)
    where = (lazy("gradstep's own backward pass") if not hook.call_line
             else lazy("the autograd.grad call made by {call} (called at line {line})",
                       call=hook.via, line=hook.call_line) if hook.grad and hook.via
             else lazy("the autograd.grad call at line {line}", line=hook.call_line) if hook.grad
             else lazy("the backward call at line {line}", line=hook.call_line))
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


def _live_hook_words(kind: str, hook: HookFrame) -> dict:
    """``hook_words`` for a hook that raised in a pass ``gradstep.backward`` ran: no snippet
    and no marked line, so its lines are given with the hook's file."""
    file = os.path.basename(hook.file) or hook.file
    return {
        "title": lazy("A hook raised {kind} during backward", kind=kind),
        "explanation": lazy(
            "torch called the hook `{name}` (defined at line {defined} of {file}) in the pass "
            "gradstep.backward ran, and the hook raised {kind} at line {line}: the error is "
            "the hook's own, and torch stopped the pass there (the nodes after it did not "
            "run).", name=hook.name, defined=hook.defined, file=file, kind=kind,
            line=hook.raised),
        "fix": lazy("Correct the hook `{name}` at line {line} of {file}, or remove the hook "
                    "(the handle register_hook returned has .remove()).", name=hook.name,
                    line=hook.raised, file=file),
    }


_VERSIONS = re.compile(r"is at version (\d+); expected version (\d+) instead")
_TENSOR = re.compile(r"inplace operation: (\[\S+ \[[\d, ]*\]\])")  # torch's "[torch.FloatTensor [3]]"


def failed_node(steps: list) -> str | None:
    """Return the node id of the step torch raised in (a pass's ``steps``), else None."""
    return next((step["node"] for step in reversed(steps) if step.get("error")), None)


def written_in_the_pass(error: dict | None, exc: BaseException | None, changed_before: dict | None,
                        raised: dict | None, id_of: dict, failed: str | None,
                        views: bool = False) -> dict | None:
    """Return ``error`` (torch's version error, kind ``inplace``, as ``errors.explain`` worded
    it for ``exc``) with words that say the tensor torch refused was changed in place during
    the pass, by code torch ran in it (a hook of the snippet's, a custom Function's
    backward), where that is known: torch raised it in a node it ran (``raised_in_a_node``),
    the probe as it raised found a saved tensor with the error's versions (``raised``: the
    timeline's ``changed_when_raised``), and the probe as the pass began found none of them
    changed (``changed_before``; None: not probed, nothing known). Only the node torch
    raised in counts (``failed``: the id of the step that raised), and only where the probes
    read all its saved tensors at the error's version: a saved view of a live program is not
    read (``views`` False, ``safe_reads.unread_views``), and one changed before the pass
    with the same versions may be the tensor torch refused. The writer is named a hook
    where no node of the pass (``id_of``: grad_fn -> id) runs Python code of its own (a
    custom Function's, checkpoint's): then only the snippet's hooks ran its code in the
    pass. Else ``error`` as it is (the generic words: "saved during the forward pass ...
    then modified in place")."""
    if (not error or error.get("kind") != "inplace" or exc is None or changed_before is None
            or not raised):
        return error
    found = _VERSIONS.search(error.get("detail") or "")
    if found is None or not raised_in_a_node(exc):
        return error
    versions = (int(found[1]), int(found[2]))
    fn = next((f for f, node_id in id_of.items() if node_id == failed), None) if failed else None
    hits = {name for name, marks in (raised.get(failed) or {}).items()
            if (marks.get("version"), marks.get("saved_version")) == versions}
    if fn is None or not hits or hits & set(changed_before.get(failed) or {}):
        return error
    # (torch: loaded by the pass)
    from gradstep.autograd.safe_reads import is_python_node, unread_views

    if not views and unread_views(fn, versions[0]) - hits:  # which one torch refused: not known
        return error
    tensor = _TENSOR.search(error.get("detail") or "")
    args = {"tensor": tensor[1] if tensor else "", "version": versions[0], "saved": versions[1]}
    if any(is_python_node(node) for node in id_of):
        explanation = lazy(
            "The tensor {tensor} was saved during the forward pass to compute gradients, and "
            "code that torch ran during this backward pass (a hook of the snippet's, or a "
            "custom Function's backward) then modified it in place: it was unchanged as the "
            "pass began, and is at version {version} where it was saved at version {saved}. "
            "Its version no longer matches, so its gradient would be wrong.", **args)
    else:  # no node of the pass runs Python code: the snippet's hooks alone did
        explanation = lazy(
            "The tensor {tensor} was saved during the forward pass to compute gradients, and "
            "a hook of the snippet's that torch ran during this backward pass then modified "
            "it in place: it was unchanged as the pass began, and is at version {version} "
            "where it was saved at version {saved}. Its version no longer matches, so its "
            "gradient would be wrong.", **args)
    return with_words(dict(error), explanation=explanation,
        fix=lazy("Do not modify a saved tensor in place inside a hook or a backward: use the "
               "out-of-place form (x = x + 1 instead of x += 1), or modify a clone()."))
