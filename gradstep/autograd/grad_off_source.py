"""Whether a snippet's source shows why a tensor has no ``grad_fn``: a function of the
snippet that returned it with grad off (``no_grad_call``), or nothing in the snippet that
could make a tensor require grad (``nothing_requires_grad``). Pure ``ast`` reading, as in
``error_context`` (its scopes and bindings from ``snippet_scopes``); each answer is given only where
the source establishes it, else None/False and the general wording stands."""

from __future__ import annotations

import ast

from gradstep.autograd.error_context import (
    _NO_GRAD_BLOCKS,
    _no_grad_blocks,
)
from gradstep.autograd.grad_mode_names import (
    GradModeNames,
    bound_names,
    match_names,
    may_turn_grad_on,
    torch_switches,
)
from gradstep.autograd.snippet_scopes import (
    _assignments,
    _binders,
    _last_assignment,
    _scope_at,
)
from gradstep.autograd.snippet_tree import (
    _base_name,
    _is_false,
    _parse,
    _read_target,
    _turns_off,
)

_NO_GRAD_DECORATORS = {"torch.no_grad", "no_grad", "torch.inference_mode", "inference_mode",
                       *_NO_GRAD_BLOCKS}


def no_grad_call(source: str | None, line: int, target: str | None,
                 column: int | None = None) -> dict | None:
    """Return ``{"function", "call_line", "block_line", "decorated"}`` when ``target``'s tensor is what a
    function of the snippet returned with grad off: ``target`` is the call ``f(...)`` itself,
    or a name last assigned (before ``line``, in its scope) from exactly ``f(...)``, where
    ``f`` is the ``def`` that name means there, decorated ``@torch.no_grad()`` (or
    inference_mode), or whose every ``return`` lies in a ``with torch.no_grad():`` block of
    its own (``block_line``: that decorator's or the first such block's line); or a method
    call ``self.f(...)`` / ``model.f(...)`` that can only mean such a ``def`` of a class
    (``_only_method``); else None, also where grad may be switched on again
    (``may_turn_grad_on``). ``column``: where on ``line`` (a one-line ``def``)."""
    parsed = _read_target(source, target)
    if parsed is None:
        return None
    tree, expr = parsed
    binders = _binders(tree)
    scoped, binder = binders
    at = _scope_at(tree, line, column)
    call, call_line = (expr, line) if isinstance(expr, ast.Call) else (None, None)
    if isinstance(expr, ast.Name):
        assigned = _last_assignment(_assignments(tree, line, binders, column), expr.id, line, tree)
        if assigned is None:
            return None
        for node, scope in scoped:
            if (isinstance(node, ast.Assign) and node.lineno == assigned[0]
                    and binder(scope, expr.id) is binder(at, expr.id)
                    and [ast.unparse(t) for t in node.targets] == [expr.id]):
                call, call_line, at = node.value, node.lineno, scope
                break
    if not isinstance(call, ast.Call):
        return None
    names = GradModeNames(tree)  # (what torch's switches are called: read once)
    if isinstance(call.func, ast.Name):
        name = call.func.id
        function = _only_def(scoped, binder, binder(at, name), name)
        if function is None or function.lineno >= call_line:
            return None
    elif isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        name = ast.unparse(call.func)
        function = _only_method(tree, binders, at, call, call_line, names)
    else:
        return None
    if function is None or may_turn_grad_on(tree, names):
        return None  # (a helper it calls may compute with grad on)
    block = _grad_off_body(function, scoped, names)
    if block is None:
        return None
    return {"function": name, "call_line": call_line, "block_line": block,
            "decorated": any(d.lineno == block for d in function.decorator_list)}


def _only_method(tree, binders, at, call: ast.Call, call_line: int,
                 names: GradModeNames) -> ast.FunctionDef | None:
    """Return the ``def`` that ``obj.f(...)`` (``call``, in scope ``at``) can only mean: ``obj``
    is ``self`` (a method's first parameter, never rebound) of a class no class of the
    snippet derives from, or a name last assigned (before ``call_line``, in its scope) from
    exactly ``C(...)``; ``f`` is a ``def`` of that class's own body, its one binding there,
    and nothing in the snippet could put another ``f`` before it: no attribute ``f`` is
    assigned anywhere, no ``setattr``, ``__dict__``, ``__getattr__``/``__getattribute__``,
    ``__new__``, metaclass or class decorator, no 3-argument ``type(...)``. None otherwise."""
    scoped, binder = binders
    obj, method = call.func.value.id, call.func.attr
    cls = None
    if (isinstance(at, ast.FunctionDef | ast.AsyncFunctionDef) and at.args.args
            and at.args.args[0].arg == obj and not at.decorator_list):
        owner = next((scope for node, scope in scoped if node is at), None)
        if isinstance(owner, ast.ClassDef) and at in owner.body and not any(
                node.id == obj for node in ast.walk(at)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del)):
            cls = None if _may_be_derived(tree, owner) else owner
    else:
        assigned = _last_assignment(_assignments(tree, call_line, binders), obj, call_line, tree)
        made = None
        for node, scope in scoped:
            if (assigned is not None and isinstance(node, ast.Assign)
                    and node.lineno == assigned[0] and binder(scope, obj) is binder(at, obj)
                    and [ast.unparse(t) for t in node.targets] == [obj]):
                made, at = node.value, scope
        if isinstance(made, ast.Call) and isinstance(made.func, ast.Name):
            found = _only_def(scoped, binder, binder(at, made.func.id), made.func.id,
                              ast.ClassDef)
            cls = found if found is not None and found.lineno < call_line else None
    if cls is None or cls.keywords or cls.decorator_list or _may_redirect(tree, method):
        return None
    defs = [node for node in cls.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef
                                                    | ast.ClassDef) and node.name == method]
    own = [node for node, scope in scoped if scope is cls and method in bound_names(node)]
    if len(defs) != 1 or own != defs or not isinstance(defs[0], ast.FunctionDef):
        return None
    off = names.off_decorators | torch_switches(_NO_GRAD_DECORATORS, names)
    return defs[0] if all(ast.unparse(d) in off for d in defs[0].decorator_list) else None


def _may_be_derived(tree, owner: ast.ClassDef) -> bool:
    """Return True when a class of the snippet may derive from ``owner`` (then ``self`` may
    be one whose method of that name is another): a base that is ``owner`` or a class of the
    snippet that may be, or any base but ``object`` and torch's (``Alias = Net`` then
    ``class Sub(Alias)``, ``class Sub(base())``)."""
    classes: dict[str, list[ast.ClassDef]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            classes.setdefault(node.name, []).append(node)

    def may(base: ast.expr, seen: frozenset) -> bool:
        if isinstance(base, ast.Name) and base.id == "object":
            return False
        if isinstance(base, ast.Name):
            found = classes.get(base.id, [])
            return (base.id == owner.name or base.id in seen or len(found) != 1
                    or any(may(b, seen | {base.id}) for b in found[0].bases))
        root = base
        while isinstance(root, ast.Attribute):
            root = root.value
        return not (isinstance(root, ast.Name) and root.id in ("torch", "nn"))

    return any(may(base, frozenset({node.name})) for found in classes.values()
               for node in found if node is not owner for base in node.bases)


def _may_redirect(tree, method: str) -> bool:
    """Return True when something in the snippet may make ``obj.method`` mean another
    function than the class's ``def`` (an attribute of that name assigned, setattr, ...)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (
                node.attr == method and isinstance(node.ctx, ast.Store | ast.Del)
                or node.attr in _REDIRECTS):
            return True
        if isinstance(node, ast.Name) and node.id in _REDIRECTS:
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in _REDIRECTS:
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "type" and len(node.args) == 3):
            return True
        if isinstance(node, ast.Constant) and node.value == method:
            return True  # getattr(obj, "f"), a string naming it
    return False


_REDIRECTS = {"setattr", "__dict__", "__getattr__", "__getattribute__", "__new__",
              "__class__", "__init_subclass__", "vars", "exec", "eval", "MethodType"}


def _only_def(scoped, binder, variable, name: str, kind=ast.FunctionDef):
    """Return the ``def`` (or ``class``: ``kind``) that is the only binding of
    ``variable``'s ``name`` anywhere (a statement of that scope's own body, not under an
    ``if``/loop/``try``), else None: a second ``def``, a ``class``, an assignment
    (``f = lambda: ...``), an import, a loop target, a ``match`` capture or a ``global f``
    rebinding in another function may be what ran."""
    found = [node for node, scope in scoped
             if name in bound_names(node) and binder(scope, name) is variable]
    if len(found) != 1 or not isinstance(found[0], kind):
        return None
    return found[0] if found[0] in getattr(variable, "body", ()) else None


def _grad_off_body(function: ast.FunctionDef, scoped, names: GradModeNames) -> int | None:
    """Return the line of ``function``'s no_grad decorator, else of the ``with`` block that
    holds its first ``return`` when every ``return`` (with a value) of its own lies in such a
    block, and returns either an expression computed there or a name assigned only inside
    such blocks; or of the block a ``return name`` after it hands on what was computed
    there (``_computed_in``); None otherwise (a generator, no return, a return with grad on, or grad
    switched back on inside: ``torch.enable_grad()``, ``set_grad_enabled(...)``, under
    any name). ``names``: what torch's switches are called in the snippet."""
    own = [node for node, scope in scoped if scope is function]
    if any(isinstance(node, ast.Yield | ast.YieldFrom) for node in own) or any(
            isinstance(node, ast.Name | ast.Attribute)
            and (node.id if isinstance(node, ast.Name) else node.attr)
            in names.on_names for node in own):
        return None
    returns = [node for node in own if isinstance(node, ast.Return)]
    off = torch_switches(_NO_GRAD_DECORATORS, names) | names.off_decorators
    for decorator in function.decorator_list:
        if ast.unparse(decorator) in off:
            made = {target for at, target in _own_bindings(own) if at}  # not a parameter
            for node in returns:
                loaded = _loaded_names(node.value) if node.value is not None else None
                if loaded is None or not loaded <= made:
                    return None  # returns a tensor computed elsewhere (``return cache``)
            return decorator.lineno if returns else None
    blocks = [(start, end) for start, end in _no_grad_blocks(function, names)
              if any(node.lineno == start for node in own if isinstance(node, ast.With))]
    lines = []
    withs = [node for node in own if isinstance(node, ast.With | ast.AsyncWith)]
    def other_manager(line):  # inside another manager too (``enable_grad`` under another name)
        return any(w.lineno < line <= (w.end_lineno or w.lineno)
                   and (w.lineno, w.end_lineno or w.lineno) not in blocks for w in withs)

    for node in returns:
        around = [start for start, end in blocks if start < node.lineno <= end]
        if node.value is None or other_manager(node.lineno):
            return None
        loaded = _loaded_names(node.value)  # ``return loss``, ``return self.cache[0]``
        if loaded is None:
            return None
        if not around:  # ``return out`` after the block: ``out`` computed (not loaded) in it
            around = _computed_in(own, loaded, blocks, other_manager)
            if not around:
                return None
        for name in loaded:  # where was it computed?
            made = [line for line, target in _own_bindings(own) if target == name]
            if not made or not all(any(start < at <= end for start, end in blocks)
                                   for at in made):
                return None
        lines.append(max(around))
    return lines[0] if lines else None


def _computed_in(own, loaded: set[str], blocks, other_manager) -> list[int]:
    """Return the first lines of the no_grad ``blocks`` in which each of ``loaded`` (plain
    names a ``return`` after them hands on) is assigned, when every assignment of each is a
    plain ``name = <computed value>`` (not a load: ``out = self.cache``) inside such a block
    and no other manager; else empty."""
    found = []
    for name in loaded:
        assigns = [node for node in own if isinstance(node, ast.Assign)
                   and [ast.unparse(t) for t in node.targets] == [name]]
        made = [line for line, target in _own_bindings(own) if target == name]
        if not assigns or len(assigns) != len(made) or any(
                _loaded_names(node.value) != set() or other_manager(node.lineno)
                for node in assigns):
            return []
        for node in assigns:
            inside = [start for start, end in blocks if start < node.lineno <= end]
            if not inside:
                return []
            found.append(max(inside))
    return sorted(found)[:1] if found else []


def _loaded_names(node: ast.expr) -> set[str] | None:
    """Return the variables whose tensor ``node`` hands on as it is (``loss``, ``s.y``,
    ``store[0]``, ``a, b``, ``a if c else b``): empty when it computes a new one (a call,
    arithmetic), None when it loads from something that is no plain variable (``g().y``)."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute | ast.Subscript):
        base = _base_name(node)
        return {base} if base else None
    parts = (node.elts if isinstance(node, ast.Tuple | ast.List)
             else [node.value] if isinstance(node, ast.Starred)
             else [node.body, node.orelse] if isinstance(node, ast.IfExp) else None)
    if parts is None:
        return set()
    found: set[str] = set()
    for part in parts:
        names = _loaded_names(part)
        if names is None:
            return None
        found |= names
    return found


def _own_bindings(own) -> list[tuple[int, str]]:
    """Return (line, name) for each name a function's own nodes bind (parameters count at
    the ``def``'s line, outside any block)."""
    found = [(node.lineno, node.id) for node in own
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del)]
    found += [(node.lineno, name) for node in own for name in match_names(node)]
    found += [(0, node.arg) for node in own if isinstance(node, ast.arg)]
    return found


def nothing_requires_grad(source: str | None) -> bool:
    """Return True when nothing in the snippet can make a tensor require grad: no
    ``requires_grad=True`` / ``requires_grad_()`` / ``.requires_grad = ...`` (other than
    False), no ``Parameter``, no ``nn`` module built (``nn.Linear(...)``), no
    ``parameters()``, nothing loaded (``torch.load``, ``torch.hub``, ``torch.jit``) and no
    import but torch's, math, random and numpy. Then a tensor without a grad_fn was computed
    only from tensors that do not require grad. False when the source does not parse."""
    tree = _parse(source)
    if tree is None:
        return False
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    held = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            tops = [(node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
                    for alias in node.names]
            if any(top.split(".")[0] not in _PLAIN_IMPORTS for top in tops):
                return False
            if any(alias.asname and alias.asname != alias.name
                   and _is_torch_nn(f"{node.module}.{alias.name}" if isinstance(
                       node, ast.ImportFrom) else alias.name) for alias in node.names):
                return False  # ``import torch.nn as tnn``, ``from torch import nn as N``
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch.nn") \
                    and node.module != "torch.nn.functional":
                return False  # ``from torch.nn import Linear``
        elif isinstance(node, ast.keyword) and node.arg == "requires_grad":
            if not _is_false(node.value):
                return False
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "requires_grad_" and not _turns_off(node):
                return False
            if node.func.attr[:1].isupper() and "nn" in ast.unparse(node.func.value).split("."):
                return False
        elif isinstance(node, ast.Assign) and not _is_false(node.value):
            if any(isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                   for t in node.targets):
                return False
        if isinstance(node, ast.Attribute) and node.attr in _MAY_REQUIRE_GRAD:
            return False
        if isinstance(node, ast.Attribute) and node.attr == "requires_grad_" \
                and id(node) not in called:
            return False  # ``switch = torch.Tensor.requires_grad_``
        if (isinstance(node, ast.Name) and node.id == "nn" or isinstance(node, ast.Attribute)
                and node.attr == "nn") and id(node) not in held:
            return False  # ``layers = nn``: its modules built under another name
        if isinstance(node, ast.Constant) and node.value == "requires_grad":
            return False  # ``setattr(w, "requires_grad", True)``, ``**{"requires_grad": True}``
        if isinstance(node, ast.Name) and node.id in _MAY_REQUIRE_GRAD:
            return False
    return True


def _is_torch_nn(module: str) -> bool:
    """Return True for ``torch.nn`` or a module of it other than ``torch.nn.functional``."""
    return (module == "torch.nn" or module.startswith("torch.nn.")) and not (
        module == "torch.nn.functional" or module.startswith("torch.nn.functional."))


_PLAIN_IMPORTS = {"torch", "math", "random", "numpy"}
# Names whose use may give a tensor that requires grad (or a module holding one).
_MAY_REQUIRE_GRAD = {"Parameter", "parameters", "named_parameters", "load", "hub", "jit",
                     "enable_grad", "set_grad_enabled", "__import__", "exec", "eval", "getattr",
                     "setattr", "__setattr__", "vars", "__dict__",
                     "Variable", "_make_subclass"}  # (data, requires_grad) positionally
