"""Rewrite a snippet's syntax tree so that running it reports its values, names and last value.

In the snippet's top-level code (also inside top-level ``if``/``for``/``while``/
``with``/``try`` blocks, never inside ``def``, ``class`` or ``lambda``):

- each call, arithmetic operator and subscript becomes
  ``__gradstep_see__(expression, kind)``, which returns the expression's value
  unchanged (``kind`` says what made it, see ``observe``);
- after every assignment a call ``__gradstep_bind__({"name": name, ...}, kind)``
  reports the names it bound; after ``x[i] = v`` or ``x.a = v``, ``x`` is seen again
  (the assignment changed it in place; ``changed_in_place``);
- a final expression statement ``expr`` becomes ``__gradstep_last__(expr)``;
- a statement ``breakpoint()`` or ``pdb.set_trace()`` is left as it is (its arguments
  seen): a debugger steps on from its return, and stopped in gradstep's call around it.

Line and column numbers are kept, so tracebacks point at the user's own text.
Nothing is evaluated twice and the order of evaluation is unchanged.
"""

from __future__ import annotations

import ast
import itertools
from functools import cache

from gradstep.autograd.observe import (
    BIND,
    CHANGED,
    ITEM,
    LAST,
    METHOD_OP,
    METHOD_VIEW,
    OP,
    RECEIVER,
    SEE,
    SEEN,
    VIEW_OPS,
    torch_op_names,
)

__all__ = ["BIND", "LAST", "SEE", "rewrite", "last_expression_name", "assigned_names"]

_BLOCK_FIELDS = ("body", "orelse", "finalbody")
_VIEW_ATTRIBUTES = frozenset({"T", "mT", "H", "mH"})


def rewrite(tree: ast.Module) -> ast.Module:
    """Return ``tree`` (changed in place) with the value, binder and last-value calls."""
    _Seer.own_names = own_names(tree)
    tree.body = _instrument(tree.body)
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not _enters_debugger(tree.body[-1]):
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
        _see_values(stmt)
        out.append(stmt)
        names = assigned_names(stmt)
        if names:
            out.append(_bind_call(names, stmt))
        for name in changed_in_place(stmt):  # OP: a view's node is not read (see there)
            out.append(_see_statement(ast.Name(id=name, ctx=ast.Load()), OP, stmt))
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


# Statement fields whose expressions are evaluated once per execution of the statement.
_VALUE_FIELDS = {
    ast.Expr: ("value",), ast.Assign: ("value",), ast.AugAssign: ("value",),
    ast.AnnAssign: ("value",), ast.If: ("test",), ast.While: ("test",),
}


def _see_values(stmt: ast.stmt) -> None:
    if _enters_debugger(stmt):  # its receiver and arguments are seen, not its own value
        call = stmt.value
        call.func = _Seer().visit(call.func)
        call.args = [_Seer().visit(arg) for arg in call.args]
        for keyword in call.keywords:
            keyword.value = _Seer().visit(keyword.value)
        return
    for field in _VALUE_FIELDS.get(type(stmt), ()):
        value = getattr(stmt, field, None)
        if value is not None:
            setattr(stmt, field, _Seer().visit(value))


_DEBUGGER_ENTRIES = frozenset({"breakpoint", "set_trace"})


def _enters_debugger(stmt: ast.stmt) -> bool:
    """Whether ``stmt`` is a statement ``breakpoint()`` or ``pdb.set_trace()`` (``ipdb``'s,
    ``Pdb().set_trace()``, a bare ``set_trace()``).

    Such a debugger traces its caller from the call's return on, stopping at the next
    event: a call of ``__gradstep_see__`` (or ``__gradstep_last__``) around it was that
    event, so pdb stopped in gradstep's ``observe.py`` ("--Call--", ``p loss`` a
    NameError) where python stops at the snippet's next line (fidhunt10). Its value, None
    for these, is not seen; the next statement's line comes first, as in python."""
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return False
    func = stmt.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in _DEBUGGER_ENTRIES


class _Seer(ast.NodeTransformer):
    """Wraps calls, operators and subscripts in ``__gradstep_see__(node, kind)``."""

    own_names: frozenset = frozenset()  # the names the snippet binds itself (rewrite)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        kind = _call_kind(node, self.own_names)
        if kind in (METHOD_VIEW, METHOD_OP):
            if not isinstance(node.func, ast.Attribute):  # obj.T(...): its attribute was seen
                return _wrap(node, SEEN)
            return _wrap(node, kind, _note_receiver(node.func))
        return _wrap(node, kind)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        return _wrap(node, OP)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return node if isinstance(node.op, ast.Not) else _wrap(node, OP)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node
        if isinstance(node.value, ast.Name):  # read again after: a name lookup changes nothing
            container = ast.copy_location(ast.Name(id=node.value.id, ctx=ast.Load()), node.value)
            return _wrap(node, ITEM, container)
        return _wrap(node, SEEN)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and node.attr in _VIEW_ATTRIBUTES:
            return _wrap(node, METHOD_VIEW, _note_receiver(node))
        return node

    # Not entered: code that runs later, or not once per evaluation of the statement.
    def visit_Lambda(self, node):
        return node

    def visit_GeneratorExp(self, node):
        return node

    def visit_JoinedStr(self, node):
        return node

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.AST:
        node.value = self.visit(node.value)
        return node


def _wrap(node: ast.expr, kind: int, container: ast.expr | None = None) -> ast.expr:
    args = [node, ast.Constant(value=kind)] + ([container] if container is not None else [])
    call = ast.Call(func=ast.Name(id=SEE, ctx=ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, node)


def _call_kind(node: ast.Call, own_names: frozenset = frozenset()) -> int:
    func = node.func
    if isinstance(func, ast.Call) and _is_see(func):
        func = func.args[0]
    if isinstance(func, ast.Attribute):  # x.view(...), torch.mul(...), obj.select(...)
        if func.attr in VIEW_OPS:  # VIEW or OP only if the receiver is torch's (observe)
            return METHOD_VIEW
        return METHOD_OP if func.attr in _torch_names() else SEEN
    # A bare name: the snippet's own function of a torch op's name (def normalize(t): ...;
    # def select(t): return t) may return an old tensor, or an old view whose node reading
    # would rebuild: neither taken as the op's output
    name = getattr(func, "id", None)
    if name in own_names or name in VIEW_OPS:
        return SEEN
    return OP if name in _torch_names() else SEEN


_sites = itertools.count()


def _note_receiver(node: ast.Attribute) -> ast.Constant:
    """Wrap ``node``'s receiver in ``__gradstep_receiver__(receiver, site)`` (its type is
    noted; nothing is evaluated twice); return the site's constant for the value's call."""
    site = ast.Constant(value=next(_sites))
    call = ast.Call(func=ast.Name(id=RECEIVER, ctx=ast.Load()), args=[node.value, site],
                    keywords=[])
    node.value = ast.copy_location(call, node.value)
    return ast.Constant(value=site.value)


def own_names(tree: ast.Module) -> frozenset:
    """Return every name the snippet binds itself, anywhere: functions, classes, assignment,
    loop and ``with`` targets, imports (but ``from torch... import name``, torch's own)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] != "torch":
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return frozenset(names)


def _is_see(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id == SEE


@cache
def _torch_names() -> frozenset:
    return torch_op_names()


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


def changed_in_place(stmt: ast.stmt) -> list[str]:
    """Return the names an assignment may change in place: ``x`` of ``x[i] = v``,
    ``x[i] += v`` or ``x.a = v``. They are seen again as ``OP``: a new node of ``x``'s own
    gets its value, but a view's node is not read. torch changed the temporary ``x[i]``
    (a view of ``x``) in place, not ``x`` itself, so ``x``'s node is stale whatever the
    grad mode, and reading it would rebuild it early (another engine order)."""
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AugAssign):
        targets = [stmt.target]
    else:
        return []
    names = []
    for target in targets:
        if isinstance(target, (ast.Subscript, ast.Attribute)) and isinstance(target.value, ast.Name):
            names.append(target.value.id)
    return list(dict.fromkeys(names))


def _collect(target: ast.expr, names: list[str]) -> None:
    if isinstance(target, ast.Name):
        names.append(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _collect(elt, names)
    elif isinstance(target, ast.Starred):
        _collect(target.value, names)


def _bind_kind(stmt: ast.stmt) -> int:
    """Return what made the values an assignment binds (see ``observe``)."""
    if isinstance(stmt, ast.AugAssign):
        return CHANGED  # `x += v` changed x in place: its node is new (a view's: with grad on)
    value = stmt.value
    if isinstance(value, ast.Call) and _is_see(value):
        kind = value.args[1].value
        return SEEN if kind == ITEM else kind  # the container is not known here
    return SEEN


def _bind_call(names: list[str], stmt: ast.stmt) -> ast.stmt:
    mapping = ast.Dict(
        keys=[ast.Constant(value=n) for n in names],
        values=[ast.Name(id=n, ctx=ast.Load()) for n in names],
    )
    call = ast.Call(func=ast.Name(id=BIND, ctx=ast.Load()),
                    args=[mapping, ast.Constant(value=_bind_kind(stmt))], keywords=[])
    return ast.copy_location(ast.Expr(value=call), stmt)


def _see_statement(value: ast.expr, kind: int, stmt: ast.stmt) -> ast.stmt:
    return ast.copy_location(ast.Expr(value=_wrap(ast.copy_location(value, stmt), kind)), stmt)
