"""Read the text of an aten function schema, as written in torch's derivatives.yaml.

``mul.Tensor(Tensor self, Tensor other) -> Tensor`` gives the base name ``mul``,
the overload ``Tensor``, the arguments in order and the returns. Only what the
derivative formulas need is read: names, types (without alias annotations such
as ``(a!)``), which arguments are keyword-only, and return names. Pure Python:
no torch, no torchgen (torchgen's own parser needs native_functions.yaml, which
costs seconds to load; tests compare this reader with it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCHEMA = re.compile(r"^(?P<name>\w+)(?:\.(?P<overload>\w+))?\((?P<args>.*)\) -> (?P<returns>.+)$")
_ALIAS = re.compile(r"\([^)]*\)")  # "Tensor(a!)" -> "Tensor", "Tensor(a -> *)" -> "Tensor"

# Schema types whose saved values torch exposes to Python as ``_saved_<name>``
# (gen_autograd_functions.py gives getters only to these; ScalarType, Layout,
# Device, Generator, bool?, bool[3] ... are saved without one).
_EXPOSED_TYPES = frozenset(
    {"Tensor", "Tensor?", "Tensor[]", "Tensor?[]", "int", "int?", "SymInt", "SymInt?",
     "float", "float?", "bool", "str", "str?", "Scalar", "Scalar?", "Scalar[]",
     "int[]", "int[]?", "SymInt[]", "SymInt[]?", "float[]?"}
)


@dataclass(frozen=True)
class Argument:
    """One argument of a schema: ``Tensor other`` or ``*, Scalar alpha=1``."""

    name: str
    type: str  # without alias annotations and sizes: "Tensor", "Tensor?[]", "int[]"
    kwarg_only: bool
    default: str | None

    @property
    def is_tensor(self) -> bool:
        """True for Tensor and Tensor? (one autograd input slot)."""
        return self.type in ("Tensor", "Tensor?")

    @property
    def is_tensor_list(self) -> bool:
        """True for Tensor[] and Tensor?[] (one slot per element of the list)."""
        return self.type in ("Tensor[]", "Tensor?[]")


@dataclass(frozen=True)
class Return:
    """One return of a schema; ``name`` is None when the schema leaves it unnamed."""

    name: str | None
    type: str


@dataclass(frozen=True)
class Schema:
    """A parsed schema: ``base`` (``mul``), ``overload`` (``Tensor`` or ""), arguments, returns."""

    text: str
    base: str
    overload: str
    arguments: tuple[Argument, ...]
    returns: tuple[Return, ...]

    @property
    def name(self) -> str:
        """Return the operator name as torch writes it: ``mul.Tensor``, ``addmm``."""
        return f"{self.base}.{self.overload}" if self.overload else self.base

    @property
    def is_inplace(self) -> bool:
        """True for ``add_`` style names (their single return is called ``self``)."""
        return self.base.endswith("_") and not self.base.endswith("__")


def plain_type(annotated: str) -> str:
    """Return a schema type without alias annotations or fixed sizes: ``int[2]`` -> ``int[]``."""
    text = _ALIAS.sub("", annotated)
    return re.sub(r"\[\d+\]", "[]", text)


def parse_schema(text: str) -> Schema:
    """Return the Schema of ``text``; raises ValueError when it is not a schema."""
    match = _SCHEMA.match(text.strip())
    if match is None:
        raise ValueError(f"not a function schema: {text!r}")
    return Schema(
        text=text.strip(),
        base=match["name"],
        overload=match["overload"] or "",
        arguments=_parse_arguments(match["args"]),
        returns=_parse_returns(match["returns"]),
    )


def _parse_arguments(text: str) -> tuple[Argument, ...]:
    """Return the arguments of ``Tensor self, *, Scalar alpha=1`` in order."""
    arguments: list[Argument] = []
    kwarg_only = False
    for part in _split_top_level(text):
        if part == "*":
            kwarg_only = True
            continue
        declaration, _, default = part.partition("=")
        type_text, _, name = declaration.strip().rpartition(" ")
        arguments.append(Argument(name, plain_type(type_text), kwarg_only, default or None))
    return tuple(arguments)


def _parse_returns(text: str) -> tuple[Return, ...]:
    """Return the returns of ``Tensor``, ``(Tensor values, Tensor indices)`` or ``()``."""
    text = text.strip()
    if text.startswith("("):  # a tuple; a single return starts with its type
        text = text[1:-1]
    returns = []
    for part in _split_top_level(text):
        type_text, _, name = part.rpartition(" ")
        if not type_text:  # an unnamed return: the whole part is its type
            type_text, name = part, ""
        returns.append(Return(name or None, plain_type(type_text)))
    return tuple(returns)


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets (``Tensor(a -> *) self, int[2] k=[1, 1]``)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    last = text[start:].strip()
    if last:
        parts.append(last)
    return parts


def is_exposed_type(schema_type: str) -> bool:
    """True when torch gives a saved value of this schema type a ``_saved_`` getter."""
    return schema_type in _EXPOSED_TYPES


def return_names(schema: Schema) -> list[str]:
    """Return the names a derivative formula uses for the op's outputs.

    torchgen's rule (``cpp.return_names``, with ``self`` renamed ``result``): an
    in-place op's return is ``result``; a named return keeps its name (with
    ``_return`` added when an argument has that name); unnamed ones are
    ``result`` or ``result0``, ``result1``, ...
    """
    argument_names = {a.name for a in schema.arguments}
    names = []
    for index, ret in enumerate(schema.returns):
        if schema.is_inplace:
            names.append("result")
        elif ret.name:
            names.append(f"{ret.name}_return" if ret.name in argument_names else ret.name)
        else:
            names.append("result" if len(schema.returns) == 1 else f"result{index}")
    return names
