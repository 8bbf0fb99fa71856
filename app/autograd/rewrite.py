"""Rewrite a snippet's AST so that running it reports its own names and last value.

After every top-level assignment (also inside top-level ``if``/``for``/
``with``/``try`` blocks, never inside ``def`` or ``class``) a call
``__gradstep_bind__({"name": name, ...})`` is inserted; a final expression
statement ``expr`` becomes ``__gradstep_last__(expr)``. Line numbers are kept,
so tracebacks still point at the user's lines.
"""

from __future__ import annotations

import ast

BIND = "__gradstep_bind__"
LAST = "__gradstep_last__"

_BLOCK_FIELDS = ("body", "orelse", "finalbody")


def rewrite(tree: ast.Module) -> ast.Module:
    """Return ``tree`` (changed in place) with the binder calls and the last-value hook."""
    tree.body = _instrument(tree.body)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        call = ast.Call(func=ast.Name(id=LAST, ctx=ast.Load()), args=[last.value], keywords=[])
        last.value = ast.copy_location(call, last.value)
    return ast.fix_missing_locations(tree)


def last_expression_name(tree: ast.Module) -> str | None:
    """Return the variable name when the snippet ends with a bare name (``loss``)."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        value = tree.body[-1].value
        if isinstance(value, ast.Name):
            return value.id
    return None


def _instrument(statements: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in statements:
        _instrument_blocks(stmt)
        out.append(stmt)
        names = assigned_names(stmt)
        if names:
            out.append(_bind_call(names, stmt))
    return out


def _instrument_blocks(stmt: ast.stmt) -> None:
    """Instrument the statement lists nested in a compound statement (not functions/classes)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    for field in _BLOCK_FIELDS:
        block = getattr(stmt, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            setattr(stmt, field, _instrument(block))
    for handler in getattr(stmt, "handlers", []) or []:
        handler.body = _instrument(handler.body)
    for case in getattr(stmt, "cases", []) or []:
        case.body = _instrument(case.body)


def assigned_names(stmt: ast.stmt) -> list[str]:
    """Return the plain names an assignment statement binds, in order (none for others)."""
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
        targets = [stmt.target]
    else:
        return []
    names: list[str] = []
    for target in targets:
        _collect(target, names)
    return list(dict.fromkeys(names))


def _collect(target: ast.expr, names: list[str]) -> None:
    if isinstance(target, ast.Name):
        names.append(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _collect(elt, names)
    elif isinstance(target, ast.Starred):
        _collect(target.value, names)


def _bind_call(names: list[str], stmt: ast.stmt) -> ast.stmt:
    mapping = ast.Dict(
        keys=[ast.Constant(value=n) for n in names],
        values=[ast.Name(id=n, ctx=ast.Load()) for n in names],
    )
    call = ast.Call(func=ast.Name(id=BIND, ctx=ast.Load()), args=[mapping], keywords=[])
    return ast.copy_location(ast.Expr(value=call), stmt)
