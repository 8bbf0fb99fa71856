"""Which values a backward node saves for one derivative formula, and their names.

torch's codegen (``saved_variables`` in torchgen/packaged/autograd/load_derivatives.py)
reads each formula of derivatives.yaml and decides what the node keeps:
``self.sym_sizes()`` becomes a saved ``self_sym_sizes`` (so the tensor itself need
not be kept), ``zeros_like(self)`` a saved ``self_info``, and any argument still
named in the formula afterwards is saved whole. The node then exposes some of them
to Python as ``_saved_<name>``. This module repeats that rule, in the same order and
with the same patterns, so that a name in a formula can be linked to the node's
saved attribute. Tests compare it with torchgen's own loader on every entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gradstep.autograd.schema_text import is_exposed_type

IDENT_PATTERN = r"(^|\W){}($|\W)"  # torchgen.utils.IDENT_REGEX


@dataclass(frozen=True)
class SavedName:
    """A value a backward node saves: ``self_sym_sizes`` for ``self.sym_sizes()``."""

    name: str  # the attribute name without "_saved_": "self_sym_sizes"
    source: str  # the argument or return it is taken from: "self"
    text: str  # what it stands for in the yaml formula: "self.sym_sizes()"
    is_output: bool  # taken from the op's result rather than an input
    exposed: bool  # torch gives the node a `_saved_<name>` attribute for it


@dataclass(frozen=True)
class _Replacement:
    pattern: str  # formatted with the variable's name
    needle: str  # text every match contains: skips the regex for most formulas
    suffix: str | Callable[[re.Match], str]
    exposed: bool
    result: str | None = None  # what the codegen writes in place of the match


# The order is torchgen's: an earlier pattern rewrites text a later one would match.
_REPLACEMENTS = (
    _Replacement(r"{}.sym_sizes\(\)", "sym_sizes()", "_sym_sizes", True),
    _Replacement(r"{}->sym_sizes\(\)", "->sym_sizes()", "_sym_sizes_opt", True),
    _Replacement(r"{}.sym_blocksize\(\)", "sym_blocksize()", "_self_sym_blocksize_opt", True),
    _Replacement(r"{}.options\(\)", "options()", "_options", False),
    _Replacement(r"zeros_like\({}\)", "zeros_like(", "_info", False, "{}_info.zeros()"),
    _Replacement(
        r"{}.sym_size\((-?\w+)\)",
        "sym_size(",
        lambda m: f"_sym_argsize_{m.groups()[0].replace('-', 'minus_')}",
        True,
    ),
    _Replacement(r"{}.numel\(\)", "numel()", "_numel", True),
    _Replacement(r"{}.sym_numel\(\)", "sym_numel()", "_sym_numel", True),
    _Replacement(r"to_args_sizes\({}\)", "to_args_sizes(", "_args_sizes", False),
    _Replacement(r"to_args_sizes_symint\({}\)", "to_args_sizes_symint(", "_args_sizes_symint", False),
    _Replacement(r"to_args_scalartypes\({}\)", "to_args_scalartypes(", "_args_scalartypes", False),
    _Replacement(r"TensorGeometry\({}\)", "TensorGeometry(", "_geometry", False),
    _Replacement(r"{}.scalar_type\(\)", "scalar_type()", "_scalar_type", False),
    _Replacement(r"{}.dim\(\)", "dim()", "_dim", True),
    _Replacement(r"{}.sym_strides\(\)", "sym_strides()", "_sym_strides", True),
    _Replacement(r"{}.layout\(\)", "layout()", "_layout", False),
    _Replacement(r"{}.is_conj\(\)", "is_conj()", "_conjugate", True),
)

_compiled: dict[str, re.Pattern] = {}


def _regex(pattern: str) -> re.Pattern:
    """Return ``pattern`` compiled, kept for the next formula (the names repeat a lot)."""
    compiled = _compiled.get(pattern)
    if compiled is None:
        compiled = _compiled[pattern] = re.compile(pattern)
    return compiled


def mentions(formula: str, name: str) -> bool:
    """True when ``name`` occurs in ``formula`` as a whole identifier (torchgen's test)."""
    return name in formula and _regex(IDENT_PATTERN.format(name)).search(formula) is not None


def saved_variables(
    formula: str, variables: Iterable[tuple[str, str]], *, is_output: bool
) -> tuple[str, list[SavedName]]:
    """Return the formula as the node evaluates it and what it saves for it.

    ``variables`` are ``(name, schema type)`` pairs: the op's arguments, or its
    returns (``is_output``). The formula comes back rewritten over saved names
    (``self.sym_sizes()`` -> ``self_sym_sizes``), as torch's generated code has it.
    A name matched several times is listed once per match, as torchgen does.
    """
    saved: list[SavedName] = []
    for name, schema_type in variables:
        if name not in formula:  # every pattern below contains the name itself
            continue
        for replacement in _REPLACEMENTS:
            if replacement.needle in formula:
                formula = _apply(replacement, name, formula, saved, is_output)
        if schema_type == "str?":  # the codegen unwraps optional strings in place
            unwrapped = f"{name}.has_value() ? std::optional<std::string_view>({name}.value()) : std::nullopt"
            formula = _regex(rf"\b{name}\b").sub(unwrapped, formula)
        if mentions(formula, name):
            saved.append(SavedName(name, name, name, is_output, is_exposed_type(schema_type)))
    return formula, saved


def _apply(replacement: _Replacement, name: str, formula: str, saved: list, is_output: bool) -> str:
    """Return ``formula`` with ``replacement`` applied for variable ``name``, noting each save."""

    def substitute(match: re.Match) -> str:
        suffix = replacement.suffix
        saved_name = name + (suffix(match) if callable(suffix) else suffix)
        saved.append(SavedName(saved_name, name, match.group(0), is_output, replacement.exposed))
        return replacement.result.format(name) if replacement.result else saved_name

    return _regex(replacement.pattern.format(name)).sub(substitute, formula)


def dedup(names: Iterable[SavedName]) -> tuple[SavedName, ...]:
    """Return ``names`` without repeats of a name, first one kept (torchgen's ``dedup_vars``)."""
    seen: set[str] = set()
    kept = []
    for saved in names:
        if saved.name not in seen:
            seen.add(saved.name)
            kept.append(saved)
    return tuple(kept)
