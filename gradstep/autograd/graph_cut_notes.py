"""Facts on the way to a tensor without a ``grad_fn``, told beside the general wording's
possible causes (never as the cause: another input may have been cut too): a variable it
was computed from made inside a ``with torch.no_grad():`` block, or a ``.detach()`` /
``.data`` it was computed from. Pure ``ast`` reading, as in ``error_context``."""

from __future__ import annotations

import ast

from gradstep.autograd.error_context import (
    _no_grad_blocks,
    with_header,
)
from gradstep.autograd.grad_mode_names import GradModeNames
from gradstep.autograd.grad_off_source import _loaded_names
from gradstep.autograd.snippet_scopes import (
    _assignments,
    _bound_by,
    _last_assignment,
)
from gradstep.autograd.snippet_tree import (
    _names_in,
    _read_target,
)


def no_grad_input(source: str | None, line: int, target: str | None,
                  column: int | None = None) -> dict | None:
    """Return ``{"name", "line", "block"}`` for a variable ``target``'s tensor was computed from
    (following assignments back, in the line's scope) whose last assignment before that lies
    inside a ``with torch.no_grad():`` (or inference_mode) block (``line``, ``block``: the
    block's line and header), the nearest first; None when there is none. An assignment that only hands on a tensor made
    elsewhere (``p = w`` in the block) is followed, not told. A fact to tell, not a cause:
    another input may also have been cut (the general wording's causes stay)."""
    parsed = _read_target(source, target)
    if parsed is None:
        return None
    tree, names = parsed[0], _names_in(parsed[1])
    assigns = _assignments(tree, line, column=column)
    blocks = _no_grad_blocks(tree, GradModeNames(tree))
    values = _values(tree)
    for name, assigned in _computed_from(assigns, names, line, tree):
        block = next((start for start, end in blocks if start < assigned[0] <= end), None)
        made = values.get((assigned[0], name), [])
        if block is not None and name not in names and made and all(
                _loaded_names(value) == set() for value in made):  # computed there
            return {"name": name, "line": block, "block": with_header(tree, block)}
    return None


def detached_input(source: str | None, line: int, target: str | None,
                   column: int | None = None) -> dict | None:
    """Return ``{"expr", "line"}`` for a ``X.detach()`` or ``X.data`` that ``target``'s
    tensor was computed from: in ``target`` itself (``line``) or in the value of an
    assignment it was computed from (following assignments back, in the line's scope), the
    nearest first; None when there is none. A fact to tell, not a cause."""
    parsed = _read_target(source, target)
    if parsed is None:
        return None
    tree, expr = parsed
    found = _detached_in(expr)
    if found is not None:
        return {"expr": found, "line": line}
    assigns = _assignments(tree, line, column=column)
    values = _values(tree)
    for name, assigned in _computed_from(assigns, _names_in(expr), line, tree):
        for value in values.get((assigned[0], name), ()):  # (the one that gave those reads)
            found = _detached_in(value) if _names_in(value) == assigned[1] else None
            if found is not None:
                return {"expr": found, "line": assigned[0]}
    return None


def _computed_from(assigns, names: set[str], line: int, tree: ast.AST):
    """Yield (name, (line, reads) of its last assignment) for ``names`` as read on ``line``
    and each variable they were computed from, following assignments back (``assigns``:
    ``_assignments`` for the line's scope), the nearest first."""
    queue = [(name, line) for name in sorted(names)]
    seen = set(names)
    while queue:
        name, before = queue.pop(0)
        assigned = _last_assignment(assigns, name, before, tree)
        if assigned is None:
            continue
        yield name, assigned
        for read in sorted(assigned[1] - seen):
            seen.add(read)
            queue.append((read, assigned[0]))


def _values(tree: ast.AST) -> dict[tuple[int, str], list[ast.expr]]:
    """Return {(line, name): [the values bound to ``name`` on that line]}."""
    found: dict[tuple[int, str], list[ast.expr]] = {}
    for node in ast.walk(tree):
        for target, value, at in _bound_by(node):
            for name in _names_in(target):
                found.setdefault((at, name), []).append(value)
    return found


def _detached_in(node: ast.AST) -> str | None:
    """Return the text of the first ``X.detach()`` or ``X.data`` in ``node``, else None."""
    for part in ast.walk(node):
        if isinstance(part, ast.Attribute) and part.attr == "data":
            return ast.unparse(part)
        if (isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute)
                and part.func.attr == "detach" and not part.args and not part.keywords):
            return ast.unparse(part)
    return None
