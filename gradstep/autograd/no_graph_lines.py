"""Which line of a snippet made the tensor it ended with, when it made no graph at all.

"Nothing to draw" named no line: the learner was told to set requires_grad=True without
being told where. The snippet's source tells the lines that bind each top-level name
(``assigned_lines``); its namespace, after the run, which of those names hold tensors
(``tensors_made``). A name bound on one line only was bound there; one bound on several
(``if``/``else``, ``x = x.detach()``, a ``global`` in a function) is named without a line,
or not at all: the source cannot tell which of them ran. Reads only a tensor's type,
``requires_grad`` and dtype: nothing with a grad_fn is left to read when no node was made.
"""

from __future__ import annotations

import ast

import torch

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def assigned_lines(source: str) -> dict[str, list[int]]:
    """Return ``{name: lines}``: the lines of ``source`` that bind each name at top level
    (an assignment, ``for``, ``with ... as``, ``:=``; not inside a function or a class),
    in order. A name a function declares ``global`` gets a 0 among them (bound there too)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    lines: dict[str, list[int]] = {}
    stack: list[ast.AST] = [tree]
    while stack:
        for child in ast.iter_child_nodes(stack.pop()):
            if isinstance(child, _SCOPES):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                lines.setdefault(child.id, []).append(child.lineno)
            stack.append(child)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                if name in lines:
                    lines[name].append(0)
    return {name: sorted(found) for name, found in lines.items()}


def tensors_made(namespace: dict, source: str) -> list[tuple[int, str, torch.Tensor, bool]]:
    """Return ``(line, name, tensor, sure)`` for each top-level variable that holds a plain
    tensor (or parameter) after the run, by the last line that binds it; ``sure`` where that
    is its only binding line (so the one that bound it)."""
    made = []
    for name, lines in assigned_lines(source).items():
        value = namespace.get(name)
        if type(value) in (torch.Tensor, torch.nn.Parameter):  # type(): no proxy's code runs
            made.append((lines[-1], name, value, len(lines) == 1))
    return sorted(made, key=lambda item: (item[0], item[1]))


def where_no_graph(namespace: dict, source: str) -> dict | None:
    """Return what to tell about a run that made no autograd node: ``name`` and ``line`` of the
    tensor the snippet binds last; ``leaf``, ``leaf_line`` of the first one that requires
    grad (``grad_leaf`` True) or else of the first floating-point one (a leaf that could).
    None where no top-level variable holds a tensor, or where the source cannot tell which
    line bound the tensor or the leaf named (a name bound on several lines): no line rather
    than a wrong one."""
    made = tensors_made(namespace, source)
    if not made:
        return None
    line, name, _, sure = made[-1]
    found = {"name": name, "line": line, "leaf": None, "leaf_line": None, "grad_leaf": False}
    requiring = [m for m in made if m[2].requires_grad]
    could = [m for m in made if m[2].dtype.is_floating_point or m[2].dtype.is_complex]
    leaf = requiring[0] if requiring else could[0] if could else None
    if leaf is not None:
        found.update(leaf=leaf[1], leaf_line=leaf[0], grad_leaf=bool(requiring))
    if not sure or (leaf is not None and not leaf[3]):
        return None
    if not requiring and any(map(_holds_grad, namespace.values())):
        return None  # a model's parameter or a list's tensor requires grad: not "no variable"
    return found


def _holds_grad(value) -> bool:
    """Whether ``value`` is a module with a parameter that requires grad, or a list, tuple or
    dict with a tensor that does (``type()``, ``__dict__``: no proxy's or module's code runs)."""
    kind = type(value)
    if isinstance(kind, type) and issubclass(kind, torch.nn.Module):
        modules, items = [value], []
        while modules:
            state = vars(modules.pop())
            items += state.get("_parameters", {}).values()
            modules += [m for m in state.get("_modules", {}).values() if m is not None]
    elif kind in (list, tuple):
        items = value
    elif kind is dict:
        items = list(value.values())
    else:
        return False
    return any(type(item) in (torch.Tensor, torch.nn.Parameter) and item.requires_grad
               for item in items)
