"""Check plain data against the records of ``gradstep.schema`` (the tests hold every reply
to them, so the types and docs/schema.md cannot drift from what the code sends).

``problems(value, Record)`` returns what does not fit, as ``path: words`` lines: a missing
required key, a key the record does not declare, a value of another type. ``Any`` fits
anything; ``Annotated`` metadata is only documentation.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Annotated, Any, Literal, Union

_SCALARS = {str: (str,), int: (int,), float: (int, float), bool: (bool,), type(None): (type(None),)}


def problems(value: Any, record: Any, path: str = "$") -> list[str]:
    """Return what in ``value`` does not fit ``record`` (a TypedDict, a typing form or a
    plain type); [] when it fits."""
    out: list[str] = []
    _check(value, record, path, out)
    return out


@cache
def hints(record: type) -> dict[str, Any]:
    """Return the field types of a TypedDict (with their ``Annotated`` documentation)."""
    return typing.get_type_hints(record, include_extras=True)


def is_record(kind: Any) -> bool:
    """Return True for a TypedDict class."""
    return isinstance(kind, type) and issubclass(kind, dict) and hasattr(kind, "__required_keys__")


def strip(kind: Any) -> Any:
    """Return ``kind`` without its ``Annotated`` wrapper."""
    while typing.get_origin(kind) is Annotated:
        kind = kind.__origin__
    return kind


def _check(value: Any, kind: Any, path: str, out: list[str]) -> None:
    kind = strip(kind)
    if kind is Any or kind is object:
        return
    if is_record(kind):
        _check_record(value, kind, path, out)
        return
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (Union, types.UnionType):
        tried: list[list[str]] = []
        for option in args:
            found: list[str] = []
            _check(value, option, path, found)
            if not found:
                return
            tried.append(found)
        out.append(f"{path}: {value!r:.80} fits none of {_name(kind)}: "
                   + min(tried, key=len)[0].split(": ", 1)[-1])
        return
    if origin is Literal:
        if value not in args:
            out.append(f"{path}: {value!r:.80} is not one of {list(args)}")
        return
    if origin is list:
        if not isinstance(value, list):
            out.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(item, args[0] if args else Any, f"{path}[{i}]", out)
        return
    if origin is dict:
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                out.append(f"{path}: key {key!r} is not a string")
            _check(item, args[1] if args else Any, f"{path}.{key}", out)
        return
    if kind in (dict, list):
        if not isinstance(value, kind):
            out.append(f"{path}: expected {kind.__name__}, got {type(value).__name__}")
        return
    allowed = _SCALARS.get(kind)
    if allowed is None:
        raise TypeError(f"the schema checker does not know {kind!r} ({path})")
    if not isinstance(value, allowed) or (kind is not bool and isinstance(value, bool)
                                          and bool not in allowed):
        out.append(f"{path}: expected {_name(kind)}, got {type(value).__name__} {value!r:.60}")


def _check_record(value: Any, record: type, path: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{path}: expected a {record.__name__} object, got {type(value).__name__}")
        return
    fields = hints(record)
    for key in sorted(record.__required_keys__ - value.keys()):
        out.append(f"{path}: {record.__name__} lacks {key!r}")
    for key, item in value.items():
        if key not in fields:
            out.append(f"{path}: {record.__name__} has no field {key!r}")
        else:
            _check(item, fields[key], f"{path}.{key}", out)


def _name(kind: Any) -> str:
    kind = strip(kind)
    if isinstance(kind, type):
        return "None" if kind is type(None) else kind.__name__
    return str(kind).replace("typing.", "")
