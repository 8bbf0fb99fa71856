"""Which line of a snippet made the tensor it ended with, when it made no graph at all.

"Nothing to draw" named no line: the learner was told to set requires_grad=True without
being told where. The snippet's source tells the line that last bound each top-level name
(``assigned_lines``); its namespace, after the run, which of those names hold tensors
(``tensors_made``). Reads only a tensor's type, ``requires_grad`` and dtype: nothing with a
grad_fn is left to read when no node was made.
"""

from __future__ import annotations

import ast

import torch

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def assigned_lines(source: str) -> dict[str, int]:
    """Return ``{name: line}``: the last line of ``source`` that binds each name at top level
    (an assignment, ``for``, ``with ... as``, ``:=``; not inside a function or a class)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    lines: dict[str, int] = {}
    stack: list[ast.AST] = [tree]
    while stack:
        for child in ast.iter_child_nodes(stack.pop()):
            if isinstance(child, _SCOPES):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                lines[child.id] = max(lines.get(child.id, 0), child.lineno)
            stack.append(child)
    return lines


def tensors_made(namespace: dict, source: str) -> list[tuple[int, str, torch.Tensor]]:
    """Return ``(line, name, tensor)`` for each top-level variable that holds a plain tensor
    (or parameter) after the run, by the line that last bound it."""
    made = []
    for name, line in assigned_lines(source).items():
        value = namespace.get(name)
        if type(value) in (torch.Tensor, torch.nn.Parameter):  # type(): no proxy's code runs
            made.append((line, name, value))
    return sorted(made, key=lambda item: (item[0], item[1]))


def where_no_graph(namespace: dict, source: str) -> dict | None:
    """Return what to tell about a run that made no autograd node: ``name`` and ``line`` of the
    tensor the snippet bound last; ``leaf``, ``leaf_line`` of the first one that requires
    grad (``grad_leaf`` True) or else of the first floating-point one (a leaf that could);
    None where no top-level variable holds a tensor."""
    made = tensors_made(namespace, source)
    if not made:
        return None
    line, name, _ = made[-1]
    found = {"name": name, "line": line, "leaf": None, "leaf_line": None, "grad_leaf": False}
    requiring = [m for m in made if m[2].requires_grad]
    could = [m for m in made if m[2].dtype.is_floating_point or m[2].dtype.is_complex]
    if requiring:
        found.update(leaf=requiring[0][1], leaf_line=requiring[0][0], grad_leaf=True)
    elif could:
        found.update(leaf=could[0][1], leaf_line=could[0][0])
    return found
