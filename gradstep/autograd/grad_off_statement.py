"""Whether a snippet's source shows that a tensor was computed after a statement that turned
grad off for the lines that follow: ``torch.set_grad_enabled(False)`` on a line of its own
(not a ``with`` block). Pure ``ast`` reading, as in ``error_context``; an answer only where
the source establishes it (else None, and the general wording stands)."""

from __future__ import annotations

import ast

from gradstep.autograd.grad_mode_names import GradModeNames, may_turn_grad_on
from gradstep.autograd.grad_off_source import nothing_requires_grad
from gradstep.autograd.snippet_scopes import (
    _SCOPES,
    _assignments,
    _binders,
    _last_assignment,
    _scope_at,
)
from gradstep.autograd.snippet_tree import (
    _read_target,
    _statement_at,
)


def grad_off_statement(source: str | None, line: int, target: str | None,
                       column: int | None = None) -> dict | None:
    """Return ``{"line", "call"}`` (the statement's line and text) when ``target``'s tensor
    was computed, by a torch operation, on a line that runs after a statement
    ``torch.set_grad_enabled(False)`` (under any name torch has in the snippet) of the same
    function or module: in the same block or a block around it, before it. Only where nothing
    in the snippet can switch grad on again (no ``enable_grad``, no other
    ``set_grad_enabled`` call) and the tensor is ``target`` itself (``(w * 2).sum()``) or a
    name last assigned (before ``line``, in its scope) from exactly such an operation: a
    ``torch.`` function or a method no class of the snippet defines (``.sum()``), or
    arithmetic where no class defines an operator; else None, also where nothing but the
    switch keeps ``nothing_requires_grad`` from holding (then that is the cause)."""
    parsed = _read_target(source, target)
    if parsed is None:
        return None
    tree, expr = parsed
    names = GradModeNames(tree)
    switches = _switch_statements(tree, names)
    if not switches or _nothing_else_requires_grad(source, switches):
        return None
    binders = _binders(tree)
    scoped, binder = binders
    at = _scope_at(tree, line, column)
    if isinstance(expr, ast.Name):
        assigned = _last_assignment(_assignments(tree, line, binders, column), expr.id, line, tree)
        computed = None
        for node, scope in scoped:
            if (assigned is not None and isinstance(node, ast.Assign)
                    and node.lineno == assigned[0] and binder(scope, expr.id) is binder(at, expr.id)
                    and [ast.unparse(t) for t in node.targets] == [expr.id]):
                computed, value = node, node.value
    else:  # the failing statement computes it (in ``tree``: ``_statement_at`` parses again)
        found = _statement_at(source, line, column)
        computed = next((node for node in ast.walk(tree) if found is not None
                         and isinstance(node, type(found)) and node.lineno == found.lineno
                         and node.col_offset == found.col_offset), None)
        value = expr
    if computed is None or not _computes_new(value, tree, names):
        return None
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    statement = computed
    while statement is not None and statement is not tree and not isinstance(statement, _SCOPES):
        parent = parents.get(statement)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and statement in block:
                before = [s for s in block[:block.index(statement)] if s in switches]
                if before:
                    return {"line": before[-1].lineno, "call": ast.unparse(before[-1].value)}
        statement = parent
    return None


def _switch_statements(tree: ast.Module, names: GradModeNames) -> set | None:
    """Return the statements ``torch.set_grad_enabled(False)`` (as ``names`` calls it) of
    the snippet; None when anything else in it names a switch that may turn grad on."""
    if may_turn_grad_on(tree, names):
        return None
    return {node for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) in names.setters and not node.value.keywords
            and len(node.value.args) == 1 and isinstance(node.value.args[0], ast.Constant)
            and node.value.args[0].value is False}


def _nothing_else_requires_grad(source: str, switches: set) -> bool:
    """Return True when, the ``switches`` aside (each made ``pass``), nothing in the snippet
    can make a tensor require grad (``nothing_requires_grad``)."""
    lines = source.splitlines()
    for node in switches:
        if node.lineno != node.end_lineno:
            return False
        text = lines[node.lineno - 1].encode()  # (the offsets count UTF-8 bytes)
        blank = b"pass".ljust(node.end_col_offset - node.col_offset)
        lines[node.lineno - 1] = (text[:node.col_offset] + blank
                                  + text[node.end_col_offset:]).decode()
    return nothing_requires_grad("\n".join(lines))


def _computes_new(value: ast.expr, tree: ast.Module, names: GradModeNames) -> bool:
    """Return True when ``value`` is a torch operation that makes a new tensor: a function
    of torch (``torch.matmul(...)``, ``t.exp(...)``), a method no class of the snippet
    defines or assigns (``(w * 2).sum()``), or arithmetic on values no class of the snippet
    gives operators to."""
    defined = {node.name for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    stored = {node.attr for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)}
    if isinstance(value, ast.BinOp) or (isinstance(value, ast.UnaryOp)
                                        and not isinstance(value.op, ast.Not)):
        return not any(name.startswith("__") for name in defined)
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
        return False
    base = value.func.value
    while isinstance(base, ast.Attribute):
        base = base.value
    if isinstance(base, ast.Name) and base.id in names.modules:  # ``torch.exp(w)``, not
        return not _SETS_OWN_MODE & set(ast.unparse(value.func).split("."))  # ``jacobian``
    return (not isinstance(base, ast.Name) or base.id not in _NOT_TENSORS) and (
        value.func.attr not in defined | stored and not value.func.attr.startswith("_"))


# parts of torch whose functions set grad mode themselves (``autograd.functional.jacobian``)
_SETS_OWN_MODE = {"autograd", "func", "jit", "compile", "vmap", "utils"}
# names whose methods are not a tensor's (a class or module the snippet may hold)
_NOT_TENSORS = {"self", "cls", "nn", "F", "np", "numpy", "math", "random"}
