"""Whether the tensor a snippet differentiates is a gradient ``torch.autograd.grad`` returned
without ``create_graph=True`` (differentiated again for a second derivative): such a gradient
is computed with no graph recorded, so it has no ``grad_fn``. Pure ``ast`` reading, as in
``error_context``; an answer only where the source establishes it, else None."""

from __future__ import annotations

import ast

from gradstep.autograd.grad_mode_names import GradModeNames
from gradstep.autograd.snippet_scopes import (
    _assignments,
    _binders,
    _last_assignment,
    _scope_at,
)
from gradstep.autograd.snippet_tree import (
    _is_false,
    _read_target,
)


def grad_without_graph(source: str | None, line: int, target: str | None,
                       column: int | None = None) -> dict | None:
    """Return ``{"name", "line"}`` when ``target`` is a name, or methods called on it with
    no other variable (``g.sum()``), last assigned (before ``line``, in its scope) from a
    ``torch.autograd.grad(...)`` call without ``create_graph=True``: ``g, = grad(...)``,
    ``(g,) = ...``, ``g = grad(...)[0]``; else None."""
    parsed = _read_target(source, target)
    if parsed is None:
        return None
    tree, expr = parsed
    base = expr
    while isinstance(base, ast.Call | ast.Attribute):
        base = base.func if isinstance(base, ast.Call) else base.value
    if not isinstance(base, ast.Name) or any(
            isinstance(node, ast.Name) and node is not base for node in ast.walk(expr)) or any(
            isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute)
            for node in ast.walk(expr)):
        return None
    name = base.id
    binders = _binders(tree)
    scoped, binder = binders
    at = _scope_at(tree, line, column)
    assigned = _last_assignment(_assignments(tree, line, binders, column), name, line, tree)
    if assigned is None:
        return None
    names = GradModeNames(tree)  # (read once, not per assignment)
    for node, scope in scoped:
        if (isinstance(node, ast.Assign) and node.lineno == assigned[0]
                and binder(scope, name) is binder(at, name) and len(node.targets) == 1):
            call = _grad_call(node.targets[0], node.value, name, names)
            if call is not None and not any(
                    kw.arg == "create_graph" and not _is_false(kw.value) or kw.arg is None
                    for kw in call.keywords) and len(call.args) < 5:  # (the 5th: create_graph)
                return {"name": name, "line": node.lineno}
    return None


def _grad_call(target: ast.expr, value: ast.expr, name: str,
               names: GradModeNames) -> ast.Call | None:
    """Return the ``torch.autograd.grad(...)`` call (torch under the ``names`` the snippet
    gives it, not an ``autograd`` of its own) whose result ``target = value`` gives ``name``
    (one element of its tuple), else None."""
    if isinstance(target, ast.Name) and isinstance(value, ast.Subscript):
        if target.id != name or not isinstance(value.slice, ast.Constant):
            return None
        value = value.value
    elif isinstance(target, ast.Tuple | ast.List):
        if not any(isinstance(e, ast.Name) and e.id == name for e in target.elts) or any(
                isinstance(e, ast.Starred) for e in target.elts):
            return None
    else:
        return None
    if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr == "grad" and ast.unparse(value.func.value) in names.autograd):
        return value
    return None
