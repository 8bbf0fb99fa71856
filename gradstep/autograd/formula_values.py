"""Bind the names in a derivative formula to a node's saved values, given as plain data.

A trace node's ``saved`` list (``gradstep.autograd.saved.saved_items``) holds
``{name, value}`` for plain values, ``{name, shape, dtype, freed, value}`` for
tensors (``value`` a ``values.tensor_value`` dict, whose ``data`` is the nested
list for small tensors, or None with a ``note`` when it cannot be read safely),
``{name, freed: true}`` once freed (with ``value`` and ``remembered: true`` when the
kernel read it before the pass freed it, ``saved_memory``), ``{name, freed: false, hooked: true}`` while a
saved-tensors hook holds it, and ``name[i]`` items for each tensor of a saved list. Nothing here touches torch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from gradstep.autograd.elements import flatten
from gradstep.autograd.saved_names import SavedName
from gradstep.autograd.step_state import held_as_tuple
from gradstep.policies.number_text import TORCH_WORDS, float_text, print_mode

SMALL = 6  # at most this many numbers are written into a formula's text
_ITEM = re.compile(r"^(?P<name>\w+)\[(?P<index>\d+)\]$")


def saved_lookup(saved) -> dict[str, dict]:
    """Return ``{saved name: what is known}``: ``value`` (plain data), ``summary`` (a large
    tensor's min/max/mean...), ``shape``, ``freed``. ``saved`` is a trace node's
    ``saved`` list, a ``{name: plain value}`` mapping, or None."""
    if not saved:
        return {}
    if isinstance(saved, Mapping):
        return {name: {"value": value} for name, value in saved.items()}
    lookup: dict[str, dict] = {}
    listed: dict[str, dict[int, object]] = {}
    for item in saved:
        known = _known(item)
        match = _ITEM.match(item.get("name", ""))
        if match:  # one tensor of a saved list: gather the list back
            listed.setdefault(match["name"], {})[int(match["index"])] = known.get("value")
            continue
        lookup[item.get("name", "")] = known
    for name, values in listed.items():
        lookup[name] = {"value": [values.get(i) for i in range(max(values) + 1)]}
    return lookup


def _known(item: dict) -> dict:
    """Return what one saved item tells: its value (or a large tensor's summary), shape,
    and whether torch freed it or a saved-tensors hook holds it (``hooked``, with no value)."""
    if item.get("freed") and "value" not in item:
        return {"freed": True}
    known = {key: item[key] for key in ("shape", "hooked", "note", "freed", "remembered")
             if item.get(key) is not None and item.get(key) is not False}
    if "value" not in item:
        return known
    value = item["value"]
    if "shape" not in item and "dtype" not in item:  # a plain value: a size list, a dim, a flag
        known["value"] = value
        if held_as_tuple(item):  # torch holds it as a tuple: (2, 2), not [2, 2]
            known["tuple"] = True
    elif isinstance(value, dict):  # a tensor: values.tensor_value(...)
        known["value" if "data" in value else "summary"] = value.get("data", value)
    return known  # a tensor whose value could not be read safely (None) stays without one


def bind_names(saved: Iterable[SavedName], lookup: Mapping[str, dict]) -> dict[str, dict]:
    """Return ``{text in the formula: {"saved": name, ...}}`` for the saved values a formula uses.

    ``"other"`` -> ``{"saved": "other", "value": [2.0]}``; ``"self.sym_sizes()"`` ->
    ``{"saved": "self_sym_sizes", "value": [3]}``; a value torch keeps but does not show
    to Python (``self.scalar_type()``) gets ``"exposed": False``.
    """
    names: dict[str, dict] = {}
    for item in saved:
        bound = {"saved": item.name, **lookup.get(item.name, {})}
        if not item.exposed:
            bound["exposed"] = False
        names.setdefault(item.text, bound)
    return names


def substitute(formula: str, names: Mapping[str, dict]) -> str | None:
    """Return ``formula`` with each small known value written in place of its name
    (``mul_tensor_backward(grad, [2.0], self.scalar_type())``), or None when no value
    is known or small enough."""
    shown = {text: _short(bound["value"]) for text, bound in names.items() if "value" in bound}
    shown = {text: value for text, value in shown.items() if value is not None}
    if not shown:
        return None
    # longest first, so "self.sym_sizes()" is replaced whole rather than its "self"
    alternatives = "|".join(re.escape(t) for t in sorted(shown, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.])(?:{alternatives})(?!\w)")
    return pattern.sub(lambda m: shown[m.group(0)], formula)


def _short(value) -> str | None:
    """Return a value written compactly into a formula's source (a word quoted:
    ``reduce='mean'``), or None when it has more than SMALL numbers."""
    flat = flatten(value)
    if len(flat) > SMALL:
        return None
    return value_text(value, print_mode(flat), quoted=True)


def value_text(value, mode: str, in_tensor: bool = False, *, quoted: bool = False) -> str:
    """Return plain data (a number, a word, nested lists) as text, as torch prints a tensor
    (``mode``: ``print_mode`` of all its numbers: ``[1.0000, 2.5000]``, 0.0000 beside
    0.2500, ``[0., 2.]``; an int as torch prints it: 100000002, not 1e+08). A word reads
    as torch prints it (strict JSON's "NaN": nan), else as it is, or as Python source
    where ``quoted`` (approximate='none')."""
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v, mode, True, quoted=quoted) for v in value) + "]"
    if isinstance(value, str):
        return TORCH_WORDS.get(value) or (repr(value) if quoted else value)
    if isinstance(value, float):
        return float_text(value, mode, in_tensor)
    return str(value)
