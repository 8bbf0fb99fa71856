"""What a snippet's source says about the line that failed: which tensor it
differentiates, with respect to which inputs, and whether it fell into the
stale-graph trap or computed that tensor inside ``torch.no_grad()``. Pure ``ast``
reading; the snippet is never run here."""

from __future__ import annotations

import ast
import bisect
import builtins
import difflib
import functools

from gradstep.autograd.grad_mode_names import (
    GradModeNames,
    match_names,
    may_turn_grad_on,
    torch_switches,
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


def _parse(source: str | None) -> ast.Module | None:
    """Return the snippet's AST, or None when it does not parse. One error's readings
    each ask for the same source: it is parsed once (``_parsed``); the tree is shared, so
    a reading only reads it (``_branches`` notes what it derives on it)."""
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


def _names_in(node: ast.AST) -> set[str]:
    """Return every variable name read in ``node``."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


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


# Decorators under which a function's whole body records nothing.
