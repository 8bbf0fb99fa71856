"""The snippet's source as a tree: parsed once per error (``_parse``), the simple
statement at a failing line and column, the names an expression reads. Pure ``ast``
reading; the snippet is never run here."""

from __future__ import annotations

import ast
import functools


def _parse(source: str | None) -> ast.Module | None:
    """Return the snippet's AST, or None when it does not parse. One error's readings
    each ask for the same source: it is parsed once (``_parsed``); the tree is shared, so
    a reading only reads it (``snippet_scopes._branches`` notes what it derives on it)."""
    if not source:
        return None
    try:
        return _parsed(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@functools.lru_cache(maxsize=4)
def _parsed(source: str) -> ast.Module:
    """``ast.parse(source)``, kept for the next reading (a failed parse is not kept)."""
    return ast.parse(source)


def _read_target(source: str | None, target: str | None):
    """Return the snippet's tree and ``target``'s expression (the differentiated tensor's
    text, parsed), or None when either does not parse."""
    tree = _parse(source)
    if tree is None or not target:
        return None
    try:
        return tree, ast.parse(target, mode="eval").body
    except (SyntaxError, ValueError):
        return None


def _statement_at(source: str | None, line: int | None,
                  column: int | None = None) -> ast.stmt | None:
    """Return the innermost simple statement that covers ``line`` (and ``column``, 1-based,
    where several statements share the line)."""
    tree = _parse(source)
    if tree is None or line is None:
        return None
    best = at_column = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not _is_compound(node):
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                best = node
                if column is not None and _covers(node, line, column):
                    at_column = node
    return at_column or best


def _covers(node: ast.AST, line: int, column: int) -> bool:
    """Return True when ``node``'s source span holds 1-based ``column`` of ``line``."""
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
    return start <= (line, column - 1) < end


def _is_compound(node: ast.stmt) -> bool:
    """Return True for statements that hold other statements (if, for, def, ...)."""
    return any(isinstance(getattr(node, f, None), list) and getattr(node, f)
               and isinstance(getattr(node, f)[0], ast.stmt)
               for f in ("body", "orelse", "finalbody", "handlers"))


def _names_in(node: ast.AST) -> set[str]:
    """Return every variable name read in ``node``."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _base_name(node: ast.expr) -> str | None:
    """Return ``a`` for ``a``, ``a.b.c`` or ``a[0].b``; None for anything else."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _turns_off(call: ast.Call) -> bool:
    """Return True for ``requires_grad_(False)`` (or ``requires_grad=False``)."""
    args = list(call.args) + [kw.value for kw in call.keywords]
    return bool(args) and _is_false(args[0])


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False
