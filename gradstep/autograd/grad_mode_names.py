"""The names under which a snippet reaches torch's grad-mode switches: ``torch`` itself, an
``import torch as t``, a ``from torch import no_grad as ng``. Pure ``ast`` reading for
``error_context`` and ``grad_off_source``: a name counts only where the import is its one
binding in the whole snippet (rebound anywhere, it may mean something else where used)."""

from __future__ import annotations

import ast

# what each switch is called in torch (and torch.autograd, torch.autograd.grad_mode)
_OFF = ("no_grad", "inference_mode")
_ON = ("enable_grad", "set_grad_enabled")
_MODULES = ("torch", "torch.autograd", "torch.autograd.grad_mode")


class GradModeNames:
    """``off_blocks``: the texts of the calls that turn grad off in a ``with`` block
    (``torch.no_grad()``, ``t.no_grad()``, ``ng()``, ``torch.set_grad_enabled(False)``);
    ``off_decorators``: the decorators that run a function with grad off (with and without
    parentheses); ``setters``: the texts that call ``set_grad_enabled`` (``torch.set_grad_enabled``,
    ``sge``); ``on_names``: every name that may switch grad on (``enable_grad``,
    ``set_grad_enabled`` and their aliases); ``autograd``: the texts that mean
    ``torch.autograd`` (``torch.autograd``, ``t.autograd``, ``ag``); ``rebound``: the bare switch names the snippet
    binds to something else than torch's (``def no_grad(): ...``)."""

    def __init__(self, tree: ast.AST | None):
        modules = {"torch": "torch"}  # a name -> the module it means
        functions: dict[str, str] = {}  # a name -> the torch switch it means
        self.on_names = set(_ON)
        self.rebound: set[str] = set()
        if tree is not None:
            counts: dict[str, int] = {}
            for node in ast.walk(tree):
                for name in bound_names(node):
                    counts[name] = counts.get(name, 0) + 1
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.asname and alias.name in _MODULES:
                            if counts.get(alias.asname) == 1:
                                modules[alias.asname] = alias.name
                elif isinstance(node, ast.ImportFrom) and node.module in _MODULES:
                    for alias in node.names:
                        bound = alias.asname or alias.name
                        if alias.name in _ON:
                            self.on_names.add(bound)
                        if alias.name in (*_OFF, *_ON) and counts.get(bound) == 1:
                            functions[bound] = alias.name
                        elif alias.name in ("autograd", "grad_mode") and counts.get(bound) == 1:
                            modules[bound] = f"{node.module}.{alias.name}"
            # a bare ``no_grad`` the snippet binds to something of its own (``def no_grad``)
            self.rebound = {name for name in (*_OFF, *_ON)
                            if counts.get(name) and name not in functions}
        self.modules = set(modules)  # the names that mean torch or torch.autograd
        self.autograd = {f"{name}.autograd" for name, module in modules.items()
                         if module == "torch"} | {
            name for name, module in modules.items() if module == "torch.autograd"}
        prefixes = [name for name in modules]
        prefixes += [f"{name}.autograd" for name, module in modules.items() if module == "torch"]
        self.setters = {f"{prefix}.set_grad_enabled" for prefix in prefixes} | {
            name for name, switch in functions.items() if switch == "set_grad_enabled"}
        off = [f"{prefix}.{switch}" for prefix in prefixes for switch in _OFF]
        off += [name for name, switch in functions.items() if switch in _OFF]
        self.off_decorators = {*off, *(f"{text}()" for text in off)}
        self.off_blocks = {f"{text}()" for text in off} | {
            f"{setter}(False)" for setter in self.setters}


def torch_switches(texts, names: GradModeNames) -> set[str]:
    """Return those of ``texts`` (``no_grad()``, ``torch.no_grad``) whose first name is not
    ``names.rebound``: a bare ``no_grad()`` counts unless the snippet defines its own."""
    return {text for text in texts if text.split("(")[0].split(".")[0] not in names.rebound}


def may_turn_grad_on(tree: ast.AST, names: GradModeNames) -> bool:
    """Return True when something in the snippet may switch grad on (again): ``enable_grad``
    or ``set_grad_enabled`` under any name, other than ``set_grad_enabled(False)``; torch's
    internal switches (``torch._C._set_grad_enabled``, also imported under another name);
    or code that reaches names or runs text (``exec``, ``getattr``, ``__dict__``, ...). A
    ``with torch.enable_grad():`` or a decorated helper called inside a no_grad block gives
    its result a graph there, so the block is not the cause."""
    allowed = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)
               and ast.unparse(node.func) in names.setters and not node.keywords
               and len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
               and node.args[0].value is False}
    for node in ast.walk(tree):
        if isinstance(node, ast.alias) and node.name.split(".")[-1] in _INTERNAL:
            return True
        said = (node.id if isinstance(node, ast.Name) else node.attr
                if isinstance(node, ast.Attribute) else None)
        if said in names.on_names | _INTERNAL | _BY_NAME and id(node) not in allowed:
            return True
    return False


_INTERNAL = {"_set_grad_enabled", "_enter_inference_mode", "grad_mode"}
_BY_NAME = {"__import__", "exec", "eval", "getattr", "__dict__", "globals", "vars"}


def bound_names(node: ast.AST) -> list[str]:
    """Return the names ``node`` binds (an import, a def or class, a parameter, a stored
    name, an ``except ... as``, a ``match`` capture)."""
    if isinstance(node, ast.alias):
        return [(node.asname or node.name).split(".")[0]]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        return [node.id]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    return match_names(node)


def match_names(node: ast.AST) -> list[str]:
    """Return the name a ``match`` pattern node captures (``case loss:``, ``case [*rest]``,
    ``case {**rest}``), else none."""
    if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return []
