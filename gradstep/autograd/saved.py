"""What a graph node saved for backward, and whether torch still holds it.

Saved tensors are read through ``_raw_saved_*`` (``safe_reads.saved_slots``),
never unpacked to be described: unpacking runs ``saved_tensors_hooks`` (user
code, checkpoint's recomputation). Each saved tensor is ``alive``, ``freed``
(a backward pass without retain_graph released it), ``hooked`` (a
saved-tensors hook holds it) or ``changed_in_place`` (torch still holds it, but the
snippet changed it in place since the node saved it: backward through the node raises;
``version`` and ``saved_version`` as torch's own error says them, see
``safe_reads.changed_versions``) — an attribute that was never saved (an optional
input that was None) is left out: "not saved" is not "freed". Plain saved
values (sizes, dims, flags) are read as they are.
"""

from __future__ import annotations

import re

import torch

from gradstep.autograd import saved_shapes
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.hook_raised import raised_in_a_node
from gradstep.autograd.node_class_caches import class_dict, node_class_cache
from gradstep.autograd.safe_reads import (
    DETACHED_WORDS,
    VERSION_ERROR,
    changed_versions,
    detached_in_place,
    is_freed_error,
    is_plain,
    is_python_node,
    raw_detached,
    raw_saved_names,
    saved_slots,
    unpack,
    view_node_fixed,
)
from gradstep.autograd.safe_reads import display_name as _display_name
from gradstep.autograd.saved_inputs import saved_input_names
from gradstep.autograd.values import dtype_name, shape_of, tensor_value, to_jsonable

__all__ = ["saved_items", "is_freed_error", "first_line", "plain_saved_names", "refusals_now",
           "refusals_when_raised", "resolve_view_versions", "raised_view"]


@node_class_cache
def plain_saved_names(node_type: type) -> tuple[str, ...]:
    """Return the ``_saved_*`` attributes of a node class that hold no tensor (sizes, dims,
    scalars): those that have no ``_raw_saved_*`` twin."""
    names = set(dir(node_type))
    return tuple(a for a in sorted(names) if a.startswith("_saved_")
                 and "_raw" + a not in names)


def saved_items(node, *, values: bool = False, snippet_done: bool = False,
                slots: list | None = None) -> list[dict]:
    """Return one dict per saved value of ``node``, tensors first, in attribute order.

    A tensor gives ``{name, shape, dtype, freed: False}`` (plus ``changed_in_place: True,
    version, saved_version`` where the snippet changed it in place since it was saved, a
    saved view only once the snippet is done: ``snippet_done``; plus ``value`` when
    ``values`` and torch would hand it to backward unchanged; a saved view only once
    the snippet is done, see ``safe_reads.unpack``), a released one
    ``{name, freed: True}``, one held by a saved-tensors hook ``{name, freed: False,
    hooked: True}``; anything else (sizes, scalars, flags) ``{name, value}`` (torch hands
    a C++ node's sizes out as tuples: ``step_state.held_as_tuple``).
    ``slots``: the node's ``saved_slots`` when the caller read them already.
    """
    node_type = type(node)
    kind = _KINDS.get(node_type)
    if kind is None:  # what a node's class alone decides, asked once a class
        kind = _KINDS[node_type] = (is_python_node(node), bool(raw_saved_names(node_type)),
                                    _plain_saved_attrs(node_type))
    python, saves_tensors, plain_attrs = kind
    if slots is None:
        slots = saved_slots(node) if saves_tensors else []
    inputs = () if python or not slots else saved_input_names(node_type)
    items = []
    for slot in slots:
        state = slot.state
        if state == "alive" and not values and not python:  # _tensor_item's usual case
            data = slot.data
            item = {"name": slot.name, "shape": shape_of(data), "dtype": dtype_name(data.dtype),
                    "freed": False}
            if type(data) in _PLAIN:
                if data._version:  # version 0: never changed
                    _mark_changed(item, node, slot, snippet_done)
                elif (not data.requires_grad and slot.attr[11:] in inputs
                      and detached_in_place(node, slot)):  # (``refusal``, inline)
                    item["detached_in_place"] = True
            items.append(item)
        elif state != "unsaved":
            items.append(_tensor_item(node, slot, values, snippet_done))
    if python:
        items.extend(_ctx_items(node))
        return items
    for attr, name in plain_attrs:
        try:
            saved = getattr(node, attr)
        except RuntimeError as exc:  # a SymInt list torch cannot give back, say
            items.append({"name": name, "error": first_line(exc)})
            continue
        if saved is not None:
            items.append(_plain_item(name, saved))
    return items


_KINDS: dict = class_dict({})  # node class -> (a Python node?, has _raw_saved_*?, _plain_saved_attrs)


@node_class_cache
def _plain_saved_attrs(node_type: type) -> tuple[tuple[str, str], ...]:
    """Return ``(attribute, name shown)`` for each of ``plain_saved_names(node_type)``."""
    return tuple((attr, attr.removeprefix("_saved_")) for attr in plain_saved_names(node_type))


def _plain_item(name: str, saved) -> dict:
    """Return ``{name, value: to_jsonable(_signed(saved))}``, sizes and dims (ints, or a list
    or tuple of ints below 2**63: nothing to convert) without a call per element. A tuple of
    anything else (``_foreach_pow``'s exponents ``(2.5, 3.0)``, a ``Scalar[]``) is marked
    ``tuple``: its JSON list of floats reads like a complex number's ``[real, imag]``."""
    kind = type(saved)
    if kind is int:
        return {"name": name, "value": saved - 2**64 if 2**63 <= saved < 2**64 else saved}
    if kind is list or kind is tuple:
        for v in saved:  # a loop, not all(genexpr): ~0.5 us less a size list, ~1,800 a trace
            if type(v) is not int or v >= 2**63:
                break
        else:
            return {"name": name, "value": list(saved)}
    item = {"name": name, "value": to_jsonable(_signed(saved))}
    if kind is tuple:
        item["tuple"] = True
    return item


def _plain_saved(saved):
    """Return ``to_jsonable(_signed(saved))``, as ``_plain_item`` writes it."""
    return _plain_item("", saved)["value"]


def _signed(saved):
    """Return ``saved`` with each int as the int64 torch holds: its Python binding hands
    some int64 attributes out as unsigned (``NllLossBackward0._saved_ignore_index`` reads
    18446744073709551516 for torch's -100)."""
    if isinstance(saved, int) and not isinstance(saved, bool) and 2**63 <= saved < 2**64:
        return saved - 2**64
    if isinstance(saved, (list, tuple)):
        return type(saved)(_signed(v) for v in saved)
    return saved


def _tensor_item(node, slot, values: bool, snippet_done: bool) -> dict:
    name = _display_name(node, slot.name)
    if slot.state == "freed":
        noted = saved_shapes.recall(node, name)  # its shape, noted before the pass
        if noted is None:
            return {"name": name, "freed": True}
        return {"name": name, "shape": noted[0], "dtype": noted[1], "freed": True}
    if slot.state == "hooked":
        return {"name": name, "freed": False, "hooked": True}
    data = slot.data
    item = {"name": name, "shape": shape_of(data), "dtype": dtype_name(data.dtype),
            "freed": False}
    _mark_changed(item, node, slot, snippet_done)
    if values:
        item["value"] = _saved_value(node, slot, snippet_done)
        if item["value"] is None:
            item["note"] = _why_no_value(data, snippet_done)
    return item


_PLAIN = (torch.Tensor, torch.nn.Parameter)  # (safe_reads.is_plain, inline)


def _mark_changed(item: dict, node, slot, views: bool) -> None:
    """Add ``changed_in_place``, ``version`` and ``saved_version`` to ``item`` where torch
    would refuse its tensor as changed in place since it was saved, or ``detached_in_place``
    where torch's backward refuses it as detached in place first (``b.detach_()``); or
    ``view_version`` for a saved view at a version past 0 that is not unpacked while the
    program runs (``safe_reads.view_node_fixed``): torch refuses it at backward where that
    version is not the one it was saved at, which only unpacking tells."""
    found = refusal(node, slot, views)
    if found:
        item.update(found)
        return
    data = slot.data
    if (not views and slot.state == "alive" and type(data) in _PLAIN and data._version
            and not view_node_fixed(data)):
        item["view_version"] = data._version


def refusal(node, slot, views: bool = False) -> dict:
    """Return the fields ``_mark_changed`` adds for ``slot`` ({} where torch takes it)."""
    if detached_in_place(node, slot):
        return {"detached_in_place": True}
    changed = changed_versions(node, slot, views=views)
    if changed is None:
        return {}
    return {"changed_in_place": True, "version": changed[0], "saved_version": changed[1]}


def refusals_now(id_of: dict, *, views: bool = False, view_versions: dict | None = None) -> dict | None:
    """Return ``{node id: {saved name: refusal fields}}`` for the nodes of ``id_of`` (grad_fn
    -> id) whose saved tensors torch would refuse now (``refusal``): a pass's
    ``changed_before``, probed as it starts, so each pass shows the state at its own time.
    Only slots whose version counter is past 0, or a saved input that does not require grad,
    are looked at further (``saved_items``' rule). None where the probe fails (a step state
    then reads the trace's, ``step_state``): it never keeps a call from being recorded.

    A saved *view* is unpacked only with ``views`` (the snippet is done: unpacking it reads
    the view's node, which torch rebuilds if the view went stale, see ``safe_reads``).
    Without, ``view_versions`` (a dict) gets ``{node id: {saved name: version now}}`` for
    each saved view whose version is past 0: its saved version is torch's to tell only
    once the snippet is done (``resolve_view_versions``)."""
    try:
        return _refusals_now(id_of, views, view_versions)
    except Exception as exc:
        if view_versions is not None:
            view_versions.clear()
        reraise_if_handlers(exc)
        return None


def _refusals_now(id_of: dict, views: bool, view_versions: dict | None) -> dict:
    out: dict = {}
    attrs_of = _PROBED
    for fn, node_id in id_of.items():
        kind = type(fn)
        attrs = attrs_of.get(kind)
        if attrs is None:
            inputs = () if is_python_node(fn) else saved_input_names(kind)
            attrs = attrs_of[kind] = tuple((a, a[11:] in inputs) for a in raw_saved_names(kind))
        if not attrs or not _may_refuse(fn, attrs):
            continue
        marks = {}
        for slot in saved_slots(fn):
            data = slot.data
            if slot.state == "alive" and type(data) in _PLAIN and (
                    data._version or not data.requires_grad):
                found = refusal(fn, slot, views)
                if found:
                    marks[_display_name(fn, slot.name)] = found
                elif (not views and view_versions is not None and data._version
                      and not view_node_fixed(data)):
                    view_versions.setdefault(node_id, {})[_display_name(fn, slot.name)] = data._version
        if marks:
            out[node_id] = marks
    return out


def refusals_when_raised(exc, id_of: dict, *, views: bool = False,
                         view_versions: dict | None = None) -> dict | None:
    """Return ``refusals_now(id_of, views=..., view_versions=...)`` where ``exc`` (what a pass
    raised) is torch's error for a saved tensor changed or detached in place, else None. Called right
    after the pass, before any code of the snippet's runs again: torch's state as it raised
    (a hook that changed a saved tensor in place during the pass, ``b.add_(1)`` in
    ``d.register_hook``, made it raise)."""
    # torch raises a plain RuntimeError holding its message: a subclass, or one holding
    # another object, is the snippet's own, and ``str`` of it would run the snippet's code
    # once more than the plain run does (its ``__str__``)
    if (type(exc) is not RuntimeError or len(exc.args) != 1 or type(exc.args[0]) is not str
            or not (VERSION_ERROR.search(exc.args[0]) or DETACHED_WORDS in exc.args[0])):
        return None
    return refusals_now(id_of, views=views, view_versions=view_versions)


_MESSAGE_SHAPE = re.compile(r"modified by an inplace operation: \[\S+ \[([\d, ]*)\]\]")
# torch's words name the refused tensor's type and sizes: "[torch.FloatTensor [2, 3]]"


def raised_view(exc, fn, node_id: str, raised: dict) -> dict:
    """Return ``{node_id: {saved name: refusal fields}}`` for the saved *view* of ``fn`` (the
    node torch raised its version error in, ``exc``) that torch refused, told from torch's own
    message while the program is live (a view is not unpacked then, ``refusals_now``): the
    one saved view of ``fn`` whose version now is the error's "is at version V", where
    ``raised`` (the probe as torch raised) names no slot of ``fn`` with the error's
    versions, and whose shape is the one torch's message names. {} where that is not one
    view (none, or two at that version: neither is claimed), or where torch did not raise it
    in a node it ran (``hook_raised.raised_in_a_node``: a backward call inside a hook of the
    snippet's raises about another graph's node). Plain reads: nothing is unpacked."""
    found = VERSION_ERROR.search(exc.args[0]) if (
        type(exc) is RuntimeError and len(exc.args) == 1 and type(exc.args[0]) is str) else None
    shape = _MESSAGE_SHAPE.search(exc.args[0]) if found is not None else None
    if shape is None or fn is None or not raised_in_a_node(exc):
        return {}
    sizes = [int(size) for size in shape[1].split(",") if size.strip()]
    version, saved_version = int(found[1]), int(found[2])
    if any((m.get("version"), m.get("saved_version")) == (version, saved_version)
           for m in (raised.get(node_id) or {}).values()):
        return {}  # torch's error is for a slot the probe already told
    views = [slot for slot in saved_slots(fn) if slot.state == "alive"
             and type(slot.data) in _PLAIN and slot.data._is_view()
             and slot.data._version == version and list(slot.data.shape) == sizes]
    if len(views) != 1:
        return {}
    return {node_id: {_display_name(fn, views[0].name): {
        "changed_in_place": True, "version": version, "saved_version": saved_version}}}


def resolve_view_versions(changed_before: dict, view_versions: dict, saved_of) -> None:
    """Add to ``changed_before`` (a pass's, probed as it began) the saved views that pass
    found at a version past 0 (``view_versions``, from ``refusals_now``) and that torch
    refused then, told once the snippet is done: ``saved_of(node id)`` gives the node's
    saved entries as probed then (``saved_items(snippet_done=True)``). A saved version is
    fixed when the node saves the tensor, before the pass, and a version only grows: a view
    torch takes now (no ``changed_in_place``) was taken as the pass began; one refused now
    with ``saved_version`` S was refused then where its version then was not S (with that
    version). Only that is added: an entry with no ``changed_in_place`` says nothing here
    (freed since: its node ran in a pass, whose version check passed; or a view the probe
    cannot tell, an item of a saved list, ``safe_reads._alone_in_list``).
    """
    for node_id, names in view_versions.items():  # (a view torch takes now was taken then)
        entries = {e.get("name"): e for e in saved_of(node_id) or () if isinstance(e, dict)}
        for name, version in names.items():
            entry = entries.get(name)
            if not entry or not entry.get("changed_in_place"):
                continue
            if version != entry["saved_version"]:
                changed_before.setdefault(node_id, {})[name] = {
                    "changed_in_place": True, "version": version,
                    "saved_version": entry["saved_version"]}


_PROBED: dict = class_dict({})  # node class -> ((raw attribute, named as an input), ...)


def _may_refuse(fn, attrs) -> bool:
    """Return True when a saved tensor of ``fn`` reads a version past 0, or a saved input
    was detached in place (``safe_reads.raw_detached``): the only ones ``refusal`` can find
    refused. One raw read a slot; an unpack only for a saved input that no longer requires
    grad."""
    for attr, an_input in attrs:
        try:
            raw = getattr(fn, attr)
        except RuntimeError:  # a custom Function's list, once released
            continue
        if type(raw) is list or type(raw) is tuple:
            if any(type(d) in _PLAIN and d._version for d in (r.data for r in raw)):
                return True
            if an_input and any(raw_detached(r) for r in raw):  # an item, ``unpack_list``
                return True
        elif raw is not None:
            data = raw.data
            if type(data) in _PLAIN and (
                    data._version or (an_input and not data.requires_grad and raw_detached(raw))):
                return True
    return False


def _saved_value(node, slot, snippet_done: bool) -> dict | None:
    """Return the summary of what backward would unpack, or None when it cannot be read safely."""
    tensor = unpack(node, slot, views=snippet_done)
    if tensor is None or not is_plain(tensor):
        return None
    return tensor_value(tensor)


def _why_no_value(data: torch.Tensor, snippet_done: bool) -> str:
    if not snippet_done and not view_node_fixed(data):
        return "a view: reading it could make torch rebuild its graph node"
    if not is_plain(data):
        return "a tensor subclass: reading it would run its own code"
    return "changed in place since it was saved (backward through this node would fail)"


def _ctx_items(node) -> list[dict]:
    """Return a custom ``autograd.Function``'s plain ``ctx`` attributes (no tensors, no code)."""
    items = []
    for key, val in vars(node).items():
        if not key.startswith("_") and not isinstance(val, torch.Tensor) and not callable(val):
            item = {"name": f"ctx.{key}", "value": to_jsonable(val)}
            if type(val) is tuple:  # a ctx attribute may be a list or a tuple: the JSON tells
                item["tuple"] = True
            items.append(item)
    return items


def first_line(exc: BaseException) -> str:
    """Return the first line of ``exc``'s message, or its type name when it has none
    (a bare ``assert`` in a custom backward)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
