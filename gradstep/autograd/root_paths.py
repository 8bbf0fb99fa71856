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

Classes are read through ``type``'s own descriptors (a metaclass's ``__getattribute__``
or ``__mro__`` does not run), and a key is matched only against keys of a built-in
type (a key object's own ``__eq__`` does not run: python's ``d[7]`` would run it). An
attribute that a data descriptor of the class (a property) answers in python is not
read: the ``__dict__`` entry under it is not what python's ``out.loss`` gives.
"""

from __future__ import annotations

import ast
import itertools
import types

from gradstep.autograd.call_site import is_user_file

MISSING = object()  # what a step that finds nothing gives

_MRO = type.__dict__["__mro__"]  # type's own descriptors: no metaclass code runs
_CLASS_DICT = type.__dict__["__dict__"]
_PLAIN_KEYS = (str, int, bool, float, complex)  # their == runs no snippet code


def parse(text: str) -> tuple[str, list] | None:
    """Return ``(name, steps)`` for NAME followed by ``.attr`` and ``[constant]`` steps
    (each ``("attr", str)`` or ``("item", str | int)``), or None for anything else."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a NUL, a deep path
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


def follow(value, steps: list) -> tuple[object, int]:
    """Return ``(what steps lead to from value, len(steps))``, or ``(MISSING, i)`` where
    step ``i`` finds nothing."""
    for index, (kind, key) in enumerate(steps):
        value = _attribute(value, key) if kind == "attr" else _item(value, key)
        if value is MISSING:
            return MISSING, index
    return value, len(steps)


def text(name: str, steps: list) -> str:
    """Return the path ``name`` and ``steps`` spell: ``out.hidden[1]``."""
    return name + "".join(f".{key}" if kind == "attr" else f"[{key!r}]" for kind, key in steps)


def _constant_key(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):  # outs[-1]
        inner = _constant_key(node.operand)
        return -inner if type(inner) is int else None
    if isinstance(node, ast.Constant) and type(node.value) in (str, int):
        return node.value
    return None


def _lookup(pairs, key):
    # python's d[key] finds a key equal to it; only built-in keys are compared here
    for k, v in pairs:
        if type(k) in _PLAIN_KEYS and k == key:
            return v
    return MISSING


def _class_attribute(kind: type, name: str):
    for klass in _MRO.__get__(kind, type(kind)):
        found = _lookup(types.MappingProxyType.items(_CLASS_DICT.__get__(klass, type(klass))),
                        name)
        if found is not MISSING:
            return found
    return MISSING


def _attribute(value, key: str):
    kind = type(value)
    held = _class_attribute(kind, key)
    if held is not MISSING and any(_class_attribute(type(held), hook) is not MISSING
                                   for hook in ("__set__", "__delete__")):
        return MISSING  # a property (or a slot): python's out.loss runs or reads it
    own = _own_dict(value)
    return MISSING if own is None else _lookup(dict.items(own), key)


def _own_dict(value):
    """Return ``value``'s own ``__dict__``, read through its type's C slot (no property or
    ``__getattribute__`` of the snippet's), or None."""
    kind = type(value)
    slot = _class_attribute(kind, "__dict__")  # the type's own, not a snippet's property
    if (type(slot) not in (types.GetSetDescriptorType, types.MemberDescriptorType)  # C code
            or slot.__name__ != "__dict__"):  # a Python class's; SimpleNamespace's, a module's
        return None
    try:
        own = slot.__get__(value, kind)
    except TypeError:  # another type's getset put there under the name __dict__
        return None
    return own if issubclass(type(own), dict) else None


def _item(value, key):
    kind = type(value)
    if issubclass(kind, dict):
        return _lookup(dict.items(value), key)
    base = list if issubclass(kind, list) else tuple if issubclass(kind, tuple) else None
    if base is None or type(key) is not int:
        return MISSING
    size = base.__len__(value)
    if not -size <= key < size:
        return MISSING
    return base.__getitem__(value, key)


def paths_to(namespace: dict, ids: set, wanted, *, depth: int = 4, limit: int = 20_000,
             per_value: int = 1_000) -> dict:
    """Return ``{id(target): (path, target)}`` for each target (an object whose ``id`` is in
    ``ids`` and for which ``wanted(target)`` is true) that a path of at most ``depth`` steps
    from a top-level value of ``namespace`` reaches: the shortest, the top-level names in the
    order they were bound, an object's own attributes before its items. Read as ``follow``
    reads (no code of the snippet's runs); each path is one ``parse`` reads back to the same
    steps, so ``--root PATH`` draws that very target. At most ``limit`` values are looked at,
    ``per_value`` of one value's (a top-level list of a million items takes no more). The
    top-level names are the snippet's (``searched_name``: ``_out`` too, not ``__spec__``); a
    top-level module is looked into only where it is the user's own (``users_module``)."""
    found: dict = {}
    looked = 0
    seen: set = set()
    level = [((name, []), value) for name, value in dict.items(namespace)
             if searched_name(name)]
    for top in (True, *[False] * (depth - 1)):
        below = []
        for (name, steps), value in level:
            if id(value) in seen or (issubclass(type(value), _OPAQUE)
                                     and not (top and users_module(value))):
                continue
            seen.add(id(value))
            for step, item in itertools.islice(_steps(value), per_value):
                looked += 1
                if looked > limit:
                    return found
                path = (name, [*steps, step])
                if id(item) in ids and wanted(item):  # a target is not looked into
                    spelt = text(*path)
                    if id(item) not in found and parse(spelt) == path and follow(
                            dict.get(namespace, name), path[1])[0] is item:
                        found[id(item)] = spelt, item
                elif id(item) not in seen and not issubclass(type(item), _OPAQUE):
                    below.append((path, item))
        if len(found) == len(ids) or not below:
            break
        level = below
    return found


def searched_name(name) -> bool:
    """Return True for a top-level name the search for a call's tensor starts from: every
    name of the snippet's (``_out`` too), not Python's own ``__name__``, ``__builtins__``,
    ``__spec__``... (a name that starts and ends with ``__``)."""
    return type(name) is str and not (name.startswith("__") and name.endswith("__"))


def users_module(value) -> bool:
    """Return True for a module of the user's own (``import helper``, a file beside the
    snippet: ``call_site.is_user_file``), whose own attributes the search reads (``helper.
    loss``); not torch's, numpy's or the standard library's (thousands of values, none the
    snippet's), nor a module with no file."""
    if not issubclass(type(value), types.ModuleType):
        return False
    own = _own_dict(value)
    path = MISSING if own is None else _lookup(dict.items(own), "__file__")
    return type(path) is str and is_user_file(path)


# what holds no tensor a path could name (a class's or a module's attributes are not its own
# ``__dict__``'s; a function's are the snippet's rarely)
_OPAQUE = (type, types.ModuleType, types.FunctionType, str, bytes, int, float, complex)


def _steps(value):
    """Yield ``(step, item)`` for what ``follow`` may read from ``value``: its own attributes,
    then a dict's, a list's or a tuple's items (``("attr", name)`` or ``("item", key)``)."""
    kind = type(value)
    module = issubclass(kind, types.ModuleType)  # (its __builtins__, __spec__: Python's)
    for key, item in _own_items(value):
        if type(key) is str and not (module and not searched_name(key)):
            yield ("attr", key), item
    if issubclass(kind, dict):
        for key, item in dict.items(value):
            if type(key) in (str, int):
                yield ("item", key), item
    elif issubclass(kind, (list, tuple)):
        base = list if issubclass(kind, list) else tuple
        for index in range(base.__len__(value)):
            yield ("item", index), base.__getitem__(value, index)


def _own_items(value) -> list:
    """Return the items of ``value``'s own ``__dict__`` (``_own_dict``), or []."""
    own = _own_dict(value)
    return [] if own is None else list(dict.items(own))
