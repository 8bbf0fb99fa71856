"""What a graph node saved for backward (``_saved_*``) and whether it is freed.

Reading a saved tensor after a backward without ``retain_graph`` raises
RuntimeError ("... saved tensors after they have already been freed"); that is
reported as ``freed: True``. An attribute that was never saved reads as None
and is left out: "not saved" is not "freed".
"""

from __future__ import annotations

from functools import cache

import torch

from app.autograd.values import dtype_name, tensor_value, to_jsonable

_FREED_WORDS = ("freed", "backward through the graph a second time")


@cache
def saved_attribute_names(node_type: type) -> tuple[str, ...]:
    """Return the ``_saved_*`` attribute names of a node class (without ``_raw_saved_*``)."""
    return tuple(a for a in dir(node_type) if a.startswith("_saved_"))


def saved_items(node, *, values: bool = False) -> list[dict]:
    """Return one dict per saved value of ``node``, in attribute order.

    A tensor gives ``{name, shape, dtype, freed: False}`` (plus ``value`` when
    ``values``), a freed one ``{name, freed: True}``, anything else (sizes,
    scalars, flags) ``{name, value}`` as plain data.
    """
    if isinstance(node, torch.autograd.function.BackwardCFunction):
        return _custom_function_items(node, values)
    items: list[dict] = []
    for attr in saved_attribute_names(type(node)):
        name = attr.removeprefix("_saved_")
        items.extend(_read(node, attr, name, values))
    return items


def _read(node, attr: str, name: str, values: bool) -> list[dict]:
    """Return the entries for one ``_saved_`` attribute (a list of tensors gives several)."""
    try:
        saved = getattr(node, attr)
    except RuntimeError as exc:
        if is_freed_error(exc):
            return [{"name": name, "freed": True}]
        return [{"name": name, "error": first_line(exc)}]
    return _describe(name, saved, values)


def _describe(name: str, saved, values: bool) -> list[dict]:
    """Return the entries describing one saved Python value."""
    if saved is None:
        return []
    if isinstance(saved, torch.Tensor):
        return [_tensor_item(name, saved, values)]
    if type(saved) in (int, bool, str):
        return [{"name": name, "value": saved}]
    if type(saved) is tuple and all(type(s) is int for s in saved):  # sizes, dims
        return [{"name": name, "value": list(saved)}]
    if isinstance(saved, (list, tuple)) and saved and all(
        isinstance(s, torch.Tensor) or s is None for s in saved
    ):
        return [
            _tensor_item(f"{name}[{i}]", s, values) for i, s in enumerate(saved) if s is not None
        ]
    return [{"name": name, "value": to_jsonable(saved)}]


def _tensor_item(name: str, t: torch.Tensor, values: bool) -> dict:
    item = {"name": name, "shape": list(t.shape), "dtype": dtype_name(t.dtype), "freed": False}
    if values:
        item["value"] = tensor_value(t)
    return item


def _custom_function_items(node, values: bool) -> list[dict]:
    """Return a custom ``autograd.Function``'s saved tensors and plain ``ctx`` attributes."""
    try:
        tensors = node.saved_tensors
    except RuntimeError as exc:
        items = [{"name": "saved_tensors", "freed": True}] if is_freed_error(exc) else []
    else:
        items = _describe("saved_tensors", tuple(tensors), values) if tensors else []
    for key, val in vars(node).items():
        if not key.startswith("_") and not isinstance(val, torch.Tensor) and not callable(val):
            items.append({"name": f"ctx.{key}", "value": to_jsonable(val)})
    return items


def is_freed_error(exc: Exception) -> bool:
    """Return True for torch's "saved tensors already freed" error."""
    text = str(exc)
    return any(word in text for word in _FREED_WORDS)


def first_line(exc: BaseException) -> str:
    """Return the first line of ``exc``'s message, or its type name when it has none
    (a bare ``assert`` in a custom backward)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
