"""Turn a snippet's failure into plain data: where it failed, torch's own words,
what that means, and how to fix it.

Every error dict has the keys ``kind, type, message, detail, line, column, code,
title, explanation, fix``. ``message`` is the first line of torch's (or Python's)
message, ``detail`` the whole text. ``line`` and ``column`` are 1-based positions
in the snippet (``None`` when unknown); ``code`` is the text of that line.
"""

from __future__ import annotations

import ast
import bisect

from app.autograd import error_texts as texts

# Which torch message means which kind. Checked in order; the first match wins.
_RUNTIME_PATTERNS: list[tuple[str, str]] = [
    ("does not require grad and does not have a grad_fn", "no_grad_fn"),
    ("One of the differentiated Tensors does not require grad", "not_requiring_grad"),
    ("Trying to backward through the graph a second time", "freed_buffers"),
    ("grad can be implicitly created only for scalar outputs", "non_scalar"),
    ("appears to not have been used in the graph", "unused_input"),
    ("modified by an inplace operation", "inplace"),
    ("can't allocate memory", "memory"),
    ("not enough memory", "memory"),
    ("out of memory", "memory"),
]


def explain(exc: BaseException, source: str, filename: str = "<snippet>") -> dict:
    """Return the error dict for ``exc`` raised while running ``source``.

    The line is the innermost traceback frame compiled from ``filename`` (or the
    position a SyntaxError reports), so gradstep's and torch's own frames never show.
    """
    detail = _exception_text(exc)
    line, column = _locate(exc, filename)
    kind = _classify(exc, detail)
    context = _read_source(source, line)
    if kind == "no_grad_fn" and context.pop("stale", False):
        kind = "stale_graph"
    err = _base(kind, type(exc).__name__, detail, line, column, source)
    err.update(texts.describe(kind, exc, detail, context))
    return err


def _read_source(source: str | None, line: int | None) -> dict:
    """Return what the source tells about the failing line (see ``_context``) and
    ``stale``: whether it is the stale-graph trap. A snippet too deeply nested for
    Python's ``ast`` tells nothing, rather than failing the explanation."""
    if line is None:
        return {}
    try:
        return {**_context(source, line), "stale": _is_stale_graph(source, line)}
    except (RecursionError, MemoryError):
        return {}


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
    may override ``type``, ``title``, ``explanation`` or ``fix``."""
    err = _base(kind, extra.pop("type", None), message, line, column, source)
    err.update(texts.describe_plain(kind, message))
    err.update(extra)
    return err


def format_error(err: dict, filename: str) -> str:
    """Return the text the CLI prints on stderr for ``err``: ``FILE:LINE: Type:
    message``, the snippet's line (with a caret under a syntax error's column), the
    explanation and ``How to fix: ...``."""
    where = filename if err.get("line") is None else f"{filename}:{err['line']}"
    label = err.get("type") or err.get("title") or err.get("kind", "error")
    lines = [f"{where}: {label}: {err.get('message', '')}"]
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
        lines.append(f"How to fix: {err['fix']}")
    return "\n".join(lines)


# ---------------------------------------------------------------- building blocks


def _base(kind, type_name, detail, line, column, source) -> dict:
    """Return the dict skeleton shared by ``explain`` and ``make_error``."""
    detail = detail or ""
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    return {
        "kind": kind,
        "type": type_name,
        "message": first,
        "detail": detail,
        "line": line,
        "column": column,
        "code": _source_line(source, line),
        "title": "",
        "explanation": "",
        "fix": "",
    }


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


def _source_line(source: str | None, line: int | None) -> str | None:
    """Return line ``line`` (1-based) of ``source`` without its newline, or None."""
    if not source or not line or line < 1:
        return None
    lines = source.splitlines()
    return lines[line - 1] if line <= len(lines) else None


def _caret(code: str, column: int | None) -> str | None:
    """Return a caret line pointing at ``column`` of ``code`` as printed (stripped)."""
    if not column or column < 1:
        return None
    indent = len(code) - len(code.lstrip())
    offset = max(column - 1 - indent, 0)
    return "    " + " " * offset + "^"


def _classify(exc: BaseException, detail: str) -> str:
    """Return the error kind for an exception and its message."""
    if isinstance(exc, SyntaxError):
        return "syntax"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, RuntimeError | AssertionError):
        for needle, kind in _RUNTIME_PATTERNS:
            if needle in detail:
                return kind
    return "other"


# ---------------------------------------------------------------- where it failed


def _locate(exc: BaseException, filename: str) -> tuple[int | None, int | None]:
    """Return the 1-based (line, column) of the failure inside the snippet."""
    # A SyntaxError from compiling the snippet itself; one raised by an eval()
    # inside the snippet names another file and is located like any exception.
    if isinstance(exc, SyntaxError) and exc.filename in (None, filename):
        return exc.lineno, exc.offset
    tb = exc.__traceback__
    found = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            found = tb
        tb = tb.tb_next
    if found is None:
        return None, None
    return found.tb_lineno, _frame_column(found)


def _frame_column(tb) -> int | None:
    """Return the 1-based column of the instruction a traceback entry stopped at."""
    try:
        positions = list(tb.tb_frame.f_code.co_positions())
        _line, _end, col, _end_col = positions[tb.tb_lasti // 2]
    except (AttributeError, IndexError, ValueError):
        return None
    return None if col is None else col + 1


# ---------------------------------------------------------------- the stale-graph trap


def _context(source: str | None, line: int | None) -> dict:
    """Return facts about the failing statement used to word the explanation:
    ``target`` (the tensor being differentiated) and ``inputs`` (autograd.grad's list)."""
    stmt = _statement_at(source, line)
    if stmt is None:
        return {}
    call = _backward_call(stmt)
    if call is None:
        return {}
    target, inputs = call
    return {"target": target, "inputs": inputs}


def _parse(source: str | None) -> ast.Module | None:
    """Return the snippet's AST, or None when it does not parse."""
    if not source:
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _statement_at(source: str | None, line: int | None) -> ast.stmt | None:
    """Return the innermost simple statement that covers ``line``."""
    tree = _parse(source)
    if tree is None or line is None:
        return None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not _is_compound(node):
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                best = node
    return best


def _is_compound(node: ast.stmt) -> bool:
    """Return True for statements that hold other statements (if, for, def, ...)."""
    return any(isinstance(getattr(node, f, None), list) and getattr(node, f)
               and isinstance(getattr(node, f)[0], ast.stmt)
               for f in ("body", "orelse", "finalbody", "handlers"))


def _backward_call(stmt: ast.stmt) -> tuple[str | None, list[str]] | None:
    """Return (differentiated expression, input names) for the first
    ``X.backward(...)``, ``torch.autograd.grad(X, [...])`` or
    ``torch.autograd.backward(X)`` call inside ``stmt``; None when there is none."""
    for node in ast.walk(stmt):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name == "backward" and not _is_autograd_module(node.func.value):
            return ast.unparse(node.func.value), []
        if name in ("grad", "backward") and _is_autograd_module(node.func.value):
            target = ast.unparse(node.args[0]) if node.args else None
            inputs = _input_names(node.args[1]) if len(node.args) > 1 else []
            return target, inputs
    return None


def _is_autograd_module(node: ast.expr) -> bool:
    """Return True for ``torch.autograd`` or a bare ``autograd``."""
    text = ast.unparse(node)
    return text in ("torch.autograd", "autograd")


def _input_names(node: ast.expr) -> list[str]:
    """Return the source text of each element of autograd.grad's ``inputs``."""
    if isinstance(node, ast.List | ast.Tuple):
        return [ast.unparse(e) for e in node.elts]
    return [ast.unparse(node)]


def _is_stale_graph(source: str, line: int) -> bool:
    """Return True when the tensor differentiated at ``line`` was last assigned
    before a ``requires_grad_()`` (or ``.requires_grad = True``) that precedes
    ``line`` on one of the tensors it was computed from: its graph was recorded
    before that tensor required grad, so it has no grad_fn."""
    tree = _parse(source)
    stmt = _statement_at(source, line)
    call = _backward_call(stmt) if stmt is not None else None
    if tree is None or call is None or not call[0]:
        return False
    target_names = _names_in(ast.parse(call[0], mode="eval"))
    assigns = _assignments(tree)
    for switched_line, switched in _requires_grad_switches(tree):
        if switched_line >= line:
            continue
        for name in target_names:
            assigned = _last_assignment(assigns, name, line)
            if assigned is None or assigned[0] >= switched_line:
                continue
            if switched in _depends_on(assigns, name, assigned[0]):
                return True
    return False


def _names_in(node: ast.AST) -> set[str]:
    """Return every variable name read in ``node``."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _assignments(tree: ast.Module) -> dict[str, list[tuple[int, set[str]]]]:
    """Return {name: [(line, names read on the right-hand side), ...] in line order}
    for every assignment to a plain name."""
    found: dict[str, list[tuple[int, set[str]]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            reads = _names_in(node.value)
            for target in targets:
                for name in _names_in(target):
                    found.setdefault(name, []).append((node.lineno, reads))
    for items in found.values():
        items.sort(key=lambda item: item[0])
    return found


def _last_assignment(assigns, name: str, before: int) -> tuple[int, set[str]] | None:
    """Return (line, reads) of the last assignment of ``name`` on a line before
    ``before``, or None."""
    items = assigns.get(name, [])
    index = bisect.bisect_left([line for line, _ in items], before)
    return items[index - 1] if index else None


def _depends_on(assigns, name: str, at_line: int) -> set[str]:
    """Return the names ``name`` (as assigned at ``at_line``) was computed from,
    following earlier assignments transitively."""
    seen: set[str] = set()
    stack = [(name, at_line + 1)]
    while stack:
        current, before = stack.pop()
        assigned = _last_assignment(assigns, current, before)
        if assigned is None:
            continue
        for read in assigned[1] - seen:
            seen.add(read)
            stack.append((read, assigned[0]))
    return seen


def _requires_grad_switches(tree: ast.Module) -> list[tuple[int, str]]:
    """Return (line, name) for each ``name.requires_grad_()`` call and each
    ``name.requires_grad = True`` assignment."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "requires_grad_"
                and isinstance(node.func.value, ast.Name) and not _turns_off(node)):
            found.append((node.lineno, node.func.value.id))
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Attribute) and target.attr == "requires_grad"
                        and isinstance(target.value, ast.Name)
                        and not _is_false(node.value)):
                    found.append((node.lineno, target.value.id))
    return found


def _turns_off(call: ast.Call) -> bool:
    """Return True for ``requires_grad_(False)`` (or ``requires_grad=False``)."""
    args = list(call.args) + [kw.value for kw in call.keywords]
    return bool(args) and _is_false(args[0])


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False
