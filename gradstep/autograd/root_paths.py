"""A ``--root`` that names a tensor held inside a top-level value: ``out.loss``,
``outs[0]``, ``d["loss"]``, ``out.hidden_states[1]``.

HuggingFace models return an output object (``out = model(..., labels=y)``, then
``out.loss.backward()``): a snippet written that way binds no tensor at top level, and
``--root`` took only a bare name, so ``gradstep trace`` had nothing to draw.

The path is read once the snippet has ended, so no code of the snippet's may run
(its output would come past the plain run's end): an attribute is looked up only in
the object's own ``__dict__`` (no ``__getattr__``, ``__getattribute__`` or property
runs), an item only through ``dict``'s, ``list``'s or ``tuple``'s own methods on a
value whose type is one of those or a subclass. A HuggingFace ``ModelOutput`` (an
``OrderedDict`` dataclass) holds its fields both ways.
"""

from __future__ import annotations

import ast
import types

MISSING = object()  # what a step that finds nothing gives


def parse(text: str) -> tuple[str, list] | None:
    """Return ``(name, steps)`` for NAME followed by ``.attr`` and ``[constant]`` steps
    (each ``("attr", str)`` or ``("item", str | int)``), or None for anything else."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    steps = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute):
            steps.append(("attr", node.attr))
        elif isinstance(node, ast.Subscript) and _constant_key(node.slice) is not None:
            steps.append(("item", _constant_key(node.slice)))
        else:
            return None
        node = node.value
    return node.id, steps[::-1]


def follow(value, steps: list):
    """Return what ``steps`` lead to from ``value``, or ``MISSING``."""
    for kind, key in steps:
        value = _attribute(value, key) if kind == "attr" else _item(value, key)
        if value is MISSING:
            return MISSING
    return value


def _constant_key(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):  # outs[-1]
        inner = _constant_key(node.operand)
        return -inner if type(inner) is int else None
    if isinstance(node, ast.Constant) and type(node.value) in (str, int):
        return node.value
    return None


def _attribute(value, key: str):
    # the type's own __dict__ slot, not a property of the snippet's named __dict__
    slot = next((vars(k)["__dict__"] for k in type(value).__mro__ if "__dict__" in vars(k)),
                None)
    if type(slot) is not types.GetSetDescriptorType:
        return MISSING
    own = slot.__get__(value, type(value))
    return dict.get(own, key, MISSING) if issubclass(type(own), dict) else MISSING


def _item(value, key):
    kind = type(value)
    if issubclass(kind, dict):
        return dict.get(value, key, MISSING)
    base = list if issubclass(kind, list) else tuple if issubclass(kind, tuple) else None
    if base is None or type(key) is not int or not -base.__len__(value) <= key < base.__len__(value):
        return MISSING
    return base.__getitem__(value, key)
