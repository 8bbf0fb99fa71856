"""Which variable a name means at a line of the snippet (Python's scoping: functions,
lambdas, classes, ``global``, ``nonlocal``) and where that variable was assigned before
it. Pure ``ast`` reading; the snippet is never run here."""

from __future__ import annotations

import ast
import bisect

from gradstep.autograd.grad_mode_names import match_names
from gradstep.autograd.snippet_tree import _names_in, _parse

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _scoped_nodes(tree: ast.Module):
    """Yield ``(node, scope)`` for every node: the innermost function, lambda or class
    that holds it, else the module (iteratively: a snippet may nest deeply)."""
    stack = [(tree, tree)]
    while stack:
        node, scope = stack.pop()
        yield node, scope
        inner = node if isinstance(node, _SCOPES) else scope
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def _binders(tree: ast.Module):
    """Return (``_scoped_nodes(tree)`` as a list, ``binder``): ``binder(scope, name)`` is
    the function, class or module whose variable ``name`` means inside ``scope``."""
    scoped = list(_scoped_nodes(tree))
    parents: dict = {}
    facts: dict = {}  # scope -> (names it binds, {name: "global" | "nonlocal"})
    loop_names: set[int] = set()  # a comprehension's targets: its own scope's, not ours
    for node, scope in scoped:
        bound, declared = facts.setdefault(scope, (set(), {}))
        if isinstance(node, ast.Global | ast.Nonlocal):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            declared.update(dict.fromkeys(node.names, kind))
        elif isinstance(node, ast.comprehension):
            loop_names.update(id(n) for n in ast.walk(node.target))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            if id(node) not in loop_names:
                bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif match_names(node):  # ``case loss:``, ``case [*rest]``, ``case {**rest}``
            bound.update(match_names(node))
        elif isinstance(node, _SCOPES) and node is not tree:
            parents[node] = scope
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)

    def binder(scope, name):
        first = True
        while scope is not tree:
            bound, declared = facts.get(scope, (set(), {}))
            if declared.get(name) == "global":
                return tree
            if ((first or not isinstance(scope, ast.ClassDef))
                    and declared.get(name) != "nonlocal" and name in bound):
                return scope
            first = False
            scope = parents.get(scope, tree)
        return tree
    return scoped, binder


def _scope_at(tree: ast.Module, line: int, column: int | None = None) -> ast.AST:
    """Return the innermost function, lambda or class whose body holds ``line`` (at
    ``column``, 1-based, for a one-line ``def`` or lambda), else the module."""
    best, size = tree, None
    for node in ast.walk(tree):
        if isinstance(node, _SCOPES) and _holds(node, tree, line, column):
            span = (node.end_lineno or node.lineno) - node.lineno
            if size is None or span <= size:
                best, size = node, span
    return best


def _holds(scope: ast.AST, tree: ast.Module, line: int, column: int | None = None) -> bool:
    """Return True when ``scope`` is the module or a function, lambda or class around ``line``
    (``_scope_at``'s bounds): below its first line, or on it inside its body when
    ``column`` (1-based) says so (``def f(x): return x * 2``, ``lambda: loss.backward()``)."""
    if scope is tree or scope.lineno < line <= (scope.end_lineno or scope.lineno):
        return True
    if column is None or line != scope.lineno:
        return False
    body = scope.body if isinstance(scope.body, list) else [scope.body]
    start = (body[0].lineno, body[0].col_offset)
    end = (body[-1].end_lineno or body[-1].lineno, body[-1].end_col_offset or 0)
    return start <= (line, column - 1) < end


def one_line_scope_on(source: str | None, line: int | None) -> bool:
    """Return True when a ``def``, class or lambda whose body starts on its own first line
    sits on ``line``: without the failing column, which scope the line means is not known."""
    tree = _parse(source)
    if tree is None or line is None:
        return False
    for node in ast.walk(tree):
        if isinstance(node, _SCOPES) and node.lineno == line:
            body = node.body if isinstance(node.body, list) else [node.body]
            if body[0].lineno == line:
                return True
    return False


def _calls_in(at: ast.AST, scoped, binder):
    """Yield (line, def) for each call ``f()`` by a plain name in the scope ``at`` where
    ``f`` means a function defined in the scope that binds ``f`` there: the last ``def f``
    above the call (a method of the same name is another function)."""
    defs: dict[str, list] = {}
    for node, scope in scoped:
        if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and scope is binder(at, node.name)):
            defs.setdefault(node.name, []).append(node)
    for node, scope in scoped:
        if (scope is at and isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in defs):
            above = [d for d in defs[node.func.id] if d.lineno < node.lineno]
            if above:
                yield node.lineno, max(above, key=lambda d: d.lineno)


def _bound_by(node: ast.AST) -> list[tuple[ast.expr, ast.expr, int]]:
    """Return (target, value, line) for each name binding ``node`` makes from a value: an
    assignment, a ``for`` loop's target (from the iterable), ``with ... as``, ``:=``, a
    ``match`` case's captures (from the subject, at the case's line)."""
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Assign):
        return [(target, node.value, line) for target in node.targets]
    if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value:
        return [(node.target, node.value, line)]
    if isinstance(node, ast.For | ast.AsyncFor):
        return [(node.target, node.iter, line)]
    if isinstance(node, ast.With | ast.AsyncWith):
        return [(item.optional_vars, item.context_expr, line) for item in node.items
                if item.optional_vars is not None]
    if isinstance(node, ast.Match):
        return [(ast.Name(id=name, ctx=ast.Store()), node.subject, case.pattern.lineno)
                for case in node.cases for part in ast.walk(case.pattern)
                for name in match_names(part)]
    return []


def _assignments(tree: ast.Module, line: int, binders=None,
                 column: int | None = None) -> dict[str, list[tuple[int, set[str]]]]:
    """Return {name: [(line, names read on the right-hand side), ...] in line order}
    for every assignment, in any scope, to the variable a plain name means at ``line``
    under Python's scoping: the innermost function around ``line`` that binds the name
    (class bodies skipped past the first), else the module; ``global`` and ``nonlocal``
    followed. Another function's local of the same name is not that variable (a ``loss``
    an evaluate function computes under no_grad). ``binders``: ``_binders(tree)``;
    ``column`` (1-based): where on ``line`` (the body of a one-line ``def`` or lambda)."""
    scoped, binder = binders or _binders(tree)
    at = _scope_at(tree, line, column)
    here: dict[str, ast.AST] = {}  # name -> what it means at ``line``
    seen: dict[str, list[tuple[int, set[str]]]] = {}
    elsewhere: dict = {}  # a function not around ``line`` -> [(name, reads)] it assigns
    for node, scope in scoped:
        for target, value, bound_at in _bound_by(node):
            reads = _names_in(value)
            for name in _names_in(target):
                if name not in here:
                    here[name] = binder(at, name)
                if binder(scope, name) is not here[name]:
                    continue
                if _holds(scope, tree, line, column) or isinstance(scope, ast.ClassDef):
                    seen.setdefault(name, []).append((bound_at, reads))  # (runs there)
                else:  # through ``global`` or ``nonlocal``: only once that function is called
                    elsewhere.setdefault(scope, []).append((name, bound_at, reads))
    called = {function for call_line, function in _calls_in(at, scoped, binder)
              if call_line < line}
    for function in called:
        for name, assigned_at, reads in elsewhere.get(function, ()):
            seen.setdefault(name, []).append((assigned_at, reads))
    for items in seen.values():
        items.sort(key=lambda item: item[0])
    return seen


def _last_assignment(assigns, name: str, before: int,
                     tree: ast.AST | None = None) -> tuple[int, set[str]] | None:
    """Return (line, reads) of the last assignment of ``name`` on a line before
    ``before``, or None. With the snippet's ``tree``, None also where that assignment may
    not have run while an earlier one did: it lies in a branch, loop or ``try`` block that
    ``before`` is not in (``if c: loss = a`` / ``else: loss = b``)."""
    items = assigns.get(name, [])
    index = bisect.bisect_left([line for line, _ in items], before)
    if not index:
        return None
    line = items[index - 1][0]
    if tree is not None and index > 1 and any(
            first <= line <= last and not first <= before <= last
            for first, last in _branches(tree)):
        return None
    return items[index - 1]


def _branches(tree: ast.AST) -> list[tuple[int, int]]:
    """Return (first line, last line) of every block that may run or not (the body or
    ``else`` of an ``if``, loop or ``try``, an ``except`` or ``case`` body), and of each
    loop header (its target is bound only when the loop runs); kept on ``tree``."""
    if hasattr(tree, "gradstep_branches"):
        return tree.gradstep_branches
    found = []
    for node in ast.walk(tree):
        blocks = [getattr(node, field, None) for field in ("body", "orelse", "finalbody")]
        if isinstance(node, ast.For | ast.AsyncFor):
            found.append((node.lineno, node.end_lineno or node.lineno))
        elif isinstance(node, ast.Try | ast.TryStar):
            blocks += [handler.body for handler in node.handlers]
        elif isinstance(node, ast.Match):
            blocks = [case.body for case in node.cases]
        elif not isinstance(node, ast.If | ast.While):
            continue
        found += [(block[0].lineno, block[-1].end_lineno or block[-1].lineno)
                  for block in blocks if block]
    tree.gradstep_branches = found
    return found


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
