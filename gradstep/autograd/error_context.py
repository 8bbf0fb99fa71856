"""What a snippet's source says about the line that failed: which tensor it
differentiates, with respect to which inputs, and whether it fell into the
stale-graph trap or computed that tensor inside ``torch.no_grad()``. Pure ``ast``
reading; the snippet is never run here."""

from __future__ import annotations

import ast
import builtins
import difflib

from gradstep.autograd.grad_mode_names import (
    GradModeNames,
    match_names,
    may_turn_grad_on,
    torch_switches,
)
from gradstep.autograd.snippet_scopes import (
    _assignments,
    _binders,
    _calls_in,
    _depends_on,
    _last_assignment,
    _scope_at,
)
from gradstep.autograd.snippet_tree import (
    _base_name,
    _is_false,
    _names_in,
    _parse,
    _read_target,
    _statement_at,
    _turns_off,
)


def failing_call(source: str | None, line: int | None, column: int | None = None) -> dict:
    """Return ``{"target", "inputs", "inputs_listed"}`` for the backward call on ``line``:
    the differentiated expression's text, autograd.grad's inputs and whether the call lists
    them one by one (``[a, b]``; not ``params``, a name that may hold one tensor or a list
    of them); {} when there is none. ``column`` (1-based, where the failing instruction
    starts) picks the call among several on the line (``z.backward(); w.backward()``)."""
    stmt = _statement_at(source, line, column)
    if stmt is None:
        return {}
    call = _backward_call(stmt, line, column)
    if call is None:
        return {}
    target, inputs, listed = call
    return {"target": target, "inputs": inputs, "inputs_listed": listed}


def close_name(source: str | None, name: str) -> str | None:
    """Return the name the snippet defines (or ``torch``, ``nn``, ``F``, a builtin) that
    ``name`` is most likely a misspelling of (``los`` -> ``loss``), else None."""
    tree = _parse(source)
    known = {"torch", "nn", "F", *dir(builtins)}
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                known.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                known.add(node.name)
            elif isinstance(node, ast.alias):
                known.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.arg):
                known.add(node.arg)
            known.update(match_names(node))
    known.discard(name)
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return found[0] if found else None


def _backward_call(stmt: ast.stmt, line: int | None = None,
                   column: int | None = None) -> tuple[str | None, list[str], bool] | None:
    """Return (differentiated expression, input names, whether they are listed one by one)
    for the ``X.backward(...)``, ``torch.autograd.grad(X, [...])`` or
    ``torch.autograd.backward(X)`` call inside ``stmt`` that starts at ``line``,
    ``column`` (the failing call: ``a.backward() if c else b.backward()``), else the
    first; None when there is none."""
    calls = [node for node in ast.walk(stmt) if _is_backward_call(node)]
    at = [node for node in calls if line is not None and column is not None
          and (node.lineno, node.col_offset) == (line, column - 1)]
    for node in at[-1:] or calls[:1]:
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name == "backward" and not _is_autograd_module(node.func.value):
            return ast.unparse(node.func.value), [], True
        if name in ("grad", "backward") and _is_autograd_module(node.func.value):
            args = node.args  # ``grad(*args)``: which argument is which is not in the source
            starred = [isinstance(arg, ast.Starred) for arg in args[:2]]
            target = ast.unparse(args[0]) if args and not starred[0] else None
            inputs = _input_names(args[1]) if len(args) > 1 and not any(starred) else []
            listed = len(args) < 2 or isinstance(args[1], ast.List | ast.Tuple)
            return target, inputs, listed
    return None


def comprehension_names(source: str | None, line: int | None,
                        column: int | None = None) -> set[str]:
    """Return the names bound by the comprehensions (``[l.backward() for l in losses]``)
    around the failing backward call on ``line``: there they mean the comprehension's own
    variable, not the one of that name the line's scope assigns."""
    stmt = _statement_at(source, line, column)
    if stmt is None:
        return set()
    calls = [node for node in ast.walk(stmt) if _is_backward_call(node)]
    at = [node for node in calls if column is not None
          and (node.lineno, node.col_offset) == (line, column - 1)]
    found: set[str] = set()
    for call in at[-1:] or calls[:1]:
        for node in ast.walk(stmt):
            if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) \
                    and call in list(ast.walk(node)):
                for generator in node.generators:
                    found |= _names_in(generator.target)
    return found


def _is_backward_call(node: ast.AST) -> bool:
    """Return True for a ``X.backward(...)`` / ``torch.autograd.grad|backward(...)`` call."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    return node.func.attr == "backward" or (node.func.attr == "grad"
                                            and _is_autograd_module(node.func.value))


def _is_autograd_module(node: ast.expr) -> bool:
    """Return True for ``torch.autograd`` or a bare ``autograd``."""
    text = ast.unparse(node)
    return text in ("torch.autograd", "autograd")


def _input_names(node: ast.expr) -> list[str]:
    """Return the source text of each element of autograd.grad's ``inputs`` (none for
    ``[a, *rest]``: which tensor is which element is not in the source)."""
    if isinstance(node, ast.List | ast.Tuple):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return []
        return [ast.unparse(e) for e in node.elts]
    return [ast.unparse(node)]


def is_stale_graph(source: str, line: int, column: int | None = None) -> bool:
    """Return True when the tensor differentiated at ``line`` was last assigned
    before a ``requires_grad_()`` (or ``.requires_grad = True``) that precedes
    ``line`` on one of the tensors it was computed from: its graph was recorded
    before that tensor required grad, so it has no grad_fn."""
    tree = _parse(source)
    stmt = _statement_at(source, line, column)
    call = _backward_call(stmt, line, column) if stmt is not None else None
    if tree is None or call is None or not call[0]:
        return False
    try:
        target_names = _names_in(ast.parse(call[0], mode="eval"))
    except SyntaxError:
        return False
    binders = _binders(tree)
    assigns = _assignments(tree, line, binders, column)
    for switched_line, switched in _requires_grad_switches(tree, line, binders, column):
        if switched_line >= line:
            continue
        for name in target_names:
            assigned = _last_assignment(assigns, name, line)
            if assigned is None or assigned[0] >= switched_line:
                continue
            if switched in _depends_on(assigns, name, assigned[0]):
                return True
    return False


def _requires_grad_switches(tree: ast.Module, line: int, binders=None,
                            column: int | None = None) -> list[tuple[int, str]]:
    """Return (line, name) for each ``name.requires_grad_()`` call and each
    ``name.requires_grad = True`` assignment in the scope of ``line``; a switch inside a
    function counts at each line of that scope that calls the function by name, when its
    name means the same variable there (one in a function that is never called switches
    nothing); for ``model.weight.requires_grad_()`` the name is ``model``, the variable
    the loss was computed from. ``binders``: ``_binders(tree)``."""
    scoped, binder = binders or _binders(tree)
    at = _scope_at(tree, line, column)
    own: dict = {}  # scope -> [(line, name)]
    for node, scope in scoped:
        bases = []
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "requires_grad_" and not _turns_off(node)):
            bases = [_base_name(node.func.value)]
        elif isinstance(node, ast.Assign) and not _is_false(node.value):
            bases = [_base_name(target.value) for target in node.targets
                     if isinstance(target, ast.Attribute) and target.attr == "requires_grad"]
        for base in bases:
            if base and (scope is at or binder(scope, base) is binder(at, base)):
                own.setdefault(scope, []).append((node.lineno, base))
    found = list(own.get(at, []))
    for call_line, function in _calls_in(at, scoped, binder):
        found.extend((call_line, base) for _line, base in own.get(function, ()))
    return found


# Context managers inside which autograd records nothing.
_NO_GRAD_BLOCKS = {"torch.no_grad()", "no_grad()", "torch.inference_mode()",
                   "torch.set_grad_enabled(False)"}


def no_grad_line(source: str | None, line: int, target: str | None,
                 column: int | None = None) -> int | None:
    """Return the line of the ``with torch.no_grad():`` (or inference_mode) block in
    which ``target``'s tensor was last assigned before ``line``, or None. Torch under
    another name counts (``import torch as t``, ``from torch import no_grad as ng``); None
    where grad may be switched on again (``may_turn_grad_on``)."""
    parsed = _read_target(source, target)
    if parsed is None:
        return None
    tree, names = parsed[0], _names_in(parsed[1])
    grad_mode = GradModeNames(tree)
    if may_turn_grad_on(tree, grad_mode):
        return None
    assigns = _assignments(tree, line, column=column)
    blocks = _no_grad_blocks(tree, grad_mode)
    for name in names:
        assigned = _last_assignment(assigns, name, line, tree)
        if assigned is None:
            continue
        for start, end in blocks:
            if start < assigned[0] <= end:
                return start
    return None


def with_header(source: str | ast.AST | None, line: int | None) -> str | None:
    """Return the header of the ``with`` statement on ``line`` of ``source`` (its text or
    tree) as the snippet wrote it (``with torch.inference_mode():``), else None."""
    tree = source if isinstance(source, ast.AST) else _parse(source)
    for node in ast.walk(tree) if tree is not None and line else ():
        if isinstance(node, ast.With | ast.AsyncWith) and node.lineno == line:
            items = ", ".join(ast.unparse(item) for item in node.items)
            return f"{'async ' if isinstance(node, ast.AsyncWith) else ''}with {items}:"
    return None


def _no_grad_blocks(tree: ast.AST, names: GradModeNames) -> list[tuple[int, int]]:
    """Return (first line, last line) of every ``with`` block in ``tree`` that turns grad
    off (``names``: what torch's switches are called in the snippet)."""
    found = []
    off = torch_switches(_NO_GRAD_BLOCKS, names) | names.off_blocks
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
                ast.unparse(item.context_expr) in off for item in node.items):
            found.append((node.lineno, node.end_lineno or node.lineno))
    return found
