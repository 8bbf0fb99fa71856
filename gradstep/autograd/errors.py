"""Turn a snippet's failure into plain data: where it failed, torch's own words,
what that means, and how to fix it.

Every error is a ``gradstep.schema.errors.ErrorRecord``: ``kind, type, message, detail,
line, column, code, title, explanation, fix``. ``message`` is the first line of torch's
(or Python's) message, ``detail`` the whole text. ``line`` and ``column`` are 1-based
positions in the snippet (``None`` when unknown); ``code`` is the text of that line.
"""

from __future__ import annotations

import ast
import sys

from gradstep.autograd import error_context as facts
from gradstep.autograd import error_texts as texts
from gradstep.autograd import grad_off_source as grad_off
from gradstep.autograd import graph_cut_notes as notes
from gradstep.autograd.grad_off_statement import grad_off_statement
from gradstep.autograd.grad_results import grad_without_graph
from gradstep.autograd.hook_raised import hook_frame, hook_words, live_hook_frame
from gradstep.autograd.snippet_scopes import one_line_scope_on
from gradstep.i18n import N_, WORDED, _, localized, with_words
from gradstep.policies.memory_errors import MESSAGE_PATTERNS as MEMORY_PATTERNS
from gradstep.schema.errors import ErrorRecord, error_record, source_line

# Which torch message means which kind. Checked in order; the first match wins.
_RUNTIME_PATTERNS: list[tuple[str, str]] = [
    ("does not require grad and does not have a grad_fn", "no_grad_fn"),
    ("One of the differentiated Tensors does not require grad", "not_requiring_grad"),
    ("Trying to backward through the graph a second time", "freed_buffers"),
    ("grad can be implicitly created only for scalar outputs", "non_scalar"),
    ("appears to not have been used in the graph", "unused_input"),
    ("modified by an inplace operation", "inplace"),
    *((pattern, "memory") for pattern in MEMORY_PATTERNS),
]

# The kinds whose wording names tensors from the source.
_READS_SOURCE = {"no_grad_fn", "not_requiring_grad", "non_scalar", "unused_input"}


LIVE = "<live>"  # the file name of the API's passes (``live.backward_tensor``)


def explain(exc: BaseException, source: str, filename: str = "<snippet>",
            target: str | None = None) -> ErrorRecord:
    """Return the error dict for ``exc`` raised while running ``source``.

    The line is the innermost traceback frame compiled from ``filename`` (or the
    position a SyntaxError reports), so gradstep's and torch's own frames never show.
    ``target`` names the tensor backward ran on when no line of the source does (a pass
    of gradstep's own on the snippet's root).
    """
    detail = _exception_text(exc)
    line, column = _locate(exc, filename)
    kind = _classify(exc, detail, filename)
    context = _read_source(source, line, column) if kind in _READS_SOURCE else {}
    if isinstance(exc, NameError) and getattr(exc, "name", None):
        near = _guarded(lambda: facts.close_name(source, exc.name))
        if near:
            context["near"] = near
    if target and not context.get("target"):
        context["target"] = target
    if filename == LIVE:  # a pass gradstep.backward ran: no snippet, no marked line
        context["live"] = True
    if kind == "unused_input" and not context.get("inputs_listed", True):
        inputs = context.get("inputs") or []
        context["inputs_listed"] = bool(_guarded(lambda: _one_tensor(exc, filename, inputs)))
    if kind == "no_grad_fn" and context.pop("stale", False):
        kind = "stale_graph"
    err = _base(kind, type(exc).__name__, detail, line, column, source)
    hook = _hook_of(exc, kind, filename)
    if hook is not None:  # the hook's own error, not the line's generic words
        return with_words(err, **hook_words(exc, hook, line))
    return with_words(err, **texts.describe(kind, exc, detail, context))


def _hook_of(exc: BaseException, kind: str, filename: str):
    """Return the hook of the snippet's that raised ``exc`` of ``kind`` "other" inside
    torch's engine (``hook_raised.hook_frame``), or None: an exit or an interrupt keeps its
    own words (``hook_exit``), as does an error torch's words explain."""
    if kind != "other" or isinstance(exc, SystemExit | KeyboardInterrupt):
        return None
    if filename == LIVE:  # gradstep.backward's pass: the hook is in the caller's own file
        return _guarded(lambda: live_hook_frame(exc))
    return _guarded(lambda: hook_frame(exc, filename))


def _guarded(read):
    """Return ``read()``, or None when reading the source fails (too deeply nested for
    ``ast``, or any other slip): the snippet's own error is told all the same."""
    try:
        return read()
    except Exception:  # an explanation's helper never replaces the real error
        return None


def _read_source(source: str | None, line: int | None, column: int | None = None) -> dict:
    """Return what the source tells about the failing line: ``target`` and
    ``inputs`` of its backward call, ``stale`` (the stale-graph trap), ``no_grad_line`` and
    ``no_grad_block`` (the line and header of the no_grad block it was computed in),
    ``no_grad_call`` (a function of the snippet that returned it with grad off),
    ``grad_off_statement`` (a ``torch.set_grad_enabled(False)`` line before it was computed),
    ``grad_without_graph`` (a gradient autograd.grad returned without create_graph=True)
    and ``nothing_requires_grad`` (nothing in the snippet can make a tensor require grad).
    Where the target's names are a comprehension's own (``[l.backward() for l in ls]``), or
    the line holds a one-line ``def``/lambda and the column is not known, which variable
    they mean is not read: only the call and ``nothing_requires_grad`` are told (so too
    where nothing requires grad: that is the cause, not a block on the way). A snippet
    too deeply nested for Python's ``ast`` tells nothing, rather than failing the
    explanation; so does any slip of these readings (the general wording then stands,
    never an error of gradstep's own)."""
    if line is None:
        return {}
    try:
        context = facts.failing_call(source, line, column)  # the column: which call of the line
        context["nothing_requires_grad"] = grad_off.nothing_requires_grad(source)
        if context["nothing_requires_grad"]:
            return context  # that is the cause: no block or switch on the way is
        target = context.get("target")
        own = facts.comprehension_names(source, line, column)
        if (column is None and one_line_scope_on(source, line)) or (
                own and target and own & _names(target)):
            return context  # which variable a name means here is not read
        context["stale"] = facts.is_stale_graph(source, line, column)
        context["no_grad_line"] = facts.no_grad_line(source, line, target, column)
        context["no_grad_block"] = facts.with_header(source, context["no_grad_line"])
        context["no_grad_call"] = grad_off.no_grad_call(source, line, target, column)
        context["grad_off_statement"] = grad_off_statement(source, line, target, column)
        context["grad_without_graph"] = grad_without_graph(source, line, target, column)
        context["no_grad_input"] = notes.no_grad_input(source, line, target, column)
        context["detached_input"] = notes.detached_input(source, line, target, column)
        return context
    except Exception:  # an explanation's helper never replaces the real error
        return {}


def _names(target: str) -> set[str]:
    """Return the variable names read in ``target``'s text (none when it does not parse)."""
    try:
        return {node.id for node in ast.walk(ast.parse(target, mode="eval"))
                if isinstance(node, ast.Name)}
    except SyntaxError:
        return set()


def make_error(
    kind: str,
    message: str,
    *,
    line: int | None = None,
    column: int | None = None,
    source: str | None = None,
    **extra,
) -> dict:
    """Return an error dict for a failure that is not a Python exception
    (``nothing_to_draw``, ``device_unavailable``, ``empty``, ``not_text``,
    ``timeout``, ``memory``, ``crash``, ``output``). ``extra`` keys are added and
    may override ``type``, ``title``, ``explanation`` or ``fix``. ``message`` and
    those texts may be ``gradstep.i18n.lazy`` messages (gradstep's own words, worded
    in the person's language where shown); torch's words are plain strings."""
    worded = {key: extra.pop(key) for key in WORDED if key in extra}
    if not isinstance(message, str):  # gradstep's own message, to be translated
        worded["message"] = message
        message = ""
    err = _base(kind, extra.pop("type", None), message, line, column, source)
    with_words(err, **texts.describe_plain(kind, message))
    err.update(extra)
    with_words(err, **worded)
    if "message" in worded:
        err["detail"] = err["message"]
    return err


# the error types that are gradstep's own words, not a Python exception's name: in the
# person's language on stderr (the JSON record keeps the type as it is). Only in
# gradstep's own refusals (exit status 2): a snippet's ``class usage(Exception)`` keeps
# its name, as every exception's
OWN_TYPES = {"usage": N_("usage")}


def format_error(err: dict, filename: str) -> str:
    """Return the text the CLI prints on stderr for ``err``: an uncaught exception as python
    prints it where that says more than one line (``printed``: the rest of the message,
    notes, the exceptions it was raised from), ``FILE:LINE: Type: message``, the snippet's
    line (with a caret under a syntax error's column), the explanation and ``How to fix:
    ...``, in the language of ``gradstep.i18n`` (torch's own message stays as torch wrote
    it, and so does python's text)."""
    err = localized(err)
    # python's own text first, where it says more than the line below (printed_error)
    printed = [err["printed"].rstrip("\n")] if err.get("printed") else []
    where = filename if err.get("line") is None else f"{filename}:{err['line']}"
    label = err.get("type") or err.get("title") or err.get("kind", "error")
    if label in OWN_TYPES and err.get("exit_status") == 2:  # "usage": an option refused
        label = _(OWN_TYPES[label])
    message = str(err.get("message", ""))
    # "Nothing to draw: nothing to draw: ..." reads as a stutter
    head = message if message.lower().startswith(label.lower()) else f"{label}: {message}"
    lines = [*printed, f"{where}: {head}"]
    code = err.get("code")
    if code:
        lines.append(f"    {code.strip()}")
        # Only a syntax error's column is precise enough to point at.
        caret = _caret(code, err.get("column")) if err.get("kind") == "syntax" else None
        if caret:
            lines.append(caret)
    if err.get("explanation"):
        lines.append(err["explanation"])
    if err.get("fix"):
        lines.append(_("How to fix: {fix}", fix=err["fix"]))
    return "\n".join(lines)


# ---------------------------------------------------------------- building blocks


def _base(kind, type_name, detail, line, column, source) -> ErrorRecord:
    """Return the record skeleton shared by ``explain`` and ``make_error``."""
    return error_record(kind, detail, type=type_name, line=line, column=column,
                        code=source_line(source, line))


def _exception_text(exc: BaseException) -> str:
    """Return the exception's own message (a SyntaxError's ``msg``, a KeyError's key)."""
    if isinstance(exc, SyntaxError):
        return exc.msg or "invalid syntax"
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return repr(exc.args[0])
    try:
        text = str(exc)
    except Exception as broken:  # the snippet's own exception class may be broken
        return f"<{type(exc).__name__}: message unreadable ({type(broken).__name__})>"
    if not text and isinstance(exc, SystemExit):
        return f"exit({exc.code!r})" if exc.code is not None else "exit()"
    return text


def _caret(code: str, column: int | None) -> str | None:
    """Return a caret line pointing at ``column`` of ``code`` as printed (stripped)."""
    if not column or column < 1:
        return None
    indent = len(code) - len(code.lstrip())
    offset = max(column - 1 - indent, 0)
    return "    " + " " * offset + "^"


def _classify(exc: BaseException, detail: str, filename: str = "<snippet>") -> str:
    """Return the error kind for an exception and its message."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return "syntax"  # the snippet itself: nothing ran (an eval()'s text is "other")
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, RuntimeError | AssertionError):
        for needle, kind in _RUNTIME_PATTERNS:
            if needle in detail:
                return kind
    return "other"


# ---------------------------------------------------------------- where it failed


# The first argument's name of the one-line frame ``calls.as_if_called_from`` makes at a
# snippet's call site: it has the snippet's file and line, but not its columns (a name,
# not ``co_qualname``, which Python 3.10's code objects do not have)
MOVED_CALL = "__gradstep_moved_call__"


def _locate(exc: BaseException, filename: str) -> tuple[int | None, int | None]:
    """Return the 1-based (line, column) of the failure inside the snippet."""
    # A SyntaxError from compiling the snippet itself; one raised by an eval()
    # inside the snippet names another file and is located like any exception.
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno, exc.offset
    tb = exc.__traceback__
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename and MOVED_CALL not in code.co_varnames[:1]:
            found = tb
        tb = tb.tb_next
    if found is None:
        return None, None
    return found.tb_lineno, _frame_column(found)


def _one_tensor(exc: BaseException, filename: str, inputs: list) -> bool:
    """Return True when autograd.grad's inputs, given as one name (``grad(loss, x)``), held
    one tensor, not a list of them (``params``): torch's "at index 0" is then that name.
    Read from the snippet's module namespace where the call failed (a dict lookup and
    ``type()``: no code of the snippet's runs); False when unknown (inside a function)."""
    torch = sys.modules.get("torch")
    tb, frame = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            frame = tb.tb_frame
        tb = tb.tb_next
    if torch is None or frame is None or frame.f_code.co_name != "<module>" or len(inputs) != 1:
        return False
    value = frame.f_globals.get(inputs[0], None) if inputs[0].isidentifier() else None
    return issubclass(type(value), torch.Tensor)


def _frame_column(tb) -> int | None:
    """Return the 1-based column of the instruction a traceback entry stopped at."""
    try:
        positions = list(tb.tb_frame.f_code.co_positions())
        _line, _end, col, _end_col = positions[tb.tb_lasti // 2]
    except (AttributeError, IndexError, ValueError):
        return None
    return None if col is None else col + 1
