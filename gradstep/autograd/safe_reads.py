"""Read autograd state without changing it.

Some of torch's getters are not plain reads:

- ``t.grad_fn`` of a *view* whose base (or a sibling view) was changed in place
  since the view was made regenerates the view's node (a new ``AsStridedBackward0``
  with a new sequence number, which can reorder the engine's steps), and raises
  for a view made under ``no_grad``. For a tensor that is not a view it is a
  plain field read.
- ``node._saved_x`` unpacks a saved tensor: that runs the unpack hook of a
  ``saved_tensors_hooks`` context (user code, or checkpoint's recomputation),
  and for a saved view it reads the view's ``grad_fn`` first (see above).
  ``node._raw_saved_x`` gives torch's ``SavedTensor`` instead, whose ``data``
  and ``unpack_hook`` are plain reads.
- Attribute reads on a tensor *subclass* go through its ``__torch_function__``, and
  any read goes through the snippet's own ``TorchFunctionMode``.
- A custom ``autograd.Function``'s node is its ``ctx``, so whatever the user's
  ``forward`` set on ``ctx`` is an attribute of the node: ``ctx.variable``,
  ``ctx.name`` or ``ctx._sequence_nr`` would hide (or fake) what the same name
  means on torch's own nodes. ``is_leaf_node``, ``leaf_variable``,
  ``name_of`` and ``sequence_nr_of`` read through the node's class instead
  (``step_hooks`` registers its hooks the same way).

Everything here reads only what is safe to read, and answers "unknown" (None)
otherwise: gradstep shows less rather than disturb what it shows.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import torch

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.node_class_caches import PYTHON_NODE as _PYTHON_NODE
from gradstep.autograd.node_class_caches import class_dict, node_class_cache
from gradstep.autograd.saved_inputs import saved_input_names

_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)
# Inside: reading a tensor's attributes runs no subclass's __torch_function__, and no
# TorchFunctionMode of the snippet's sees the read (see ``unseen``).
plain_reads = torch._C.DisableTorchFunction


ACCUMULATE_GRAD = torch._C._functions.AccumulateGrad


def is_leaf_node(fn) -> bool:
    """Return True for a leaf's node (``AccumulateGrad``): by its class, not by a
    ``variable`` attribute, which a custom Function's ``ctx`` may have too."""
    return type(fn) is ACCUMULATE_GRAD


def leaf_variable(fn):
    """Return the leaf tensor of an ``AccumulateGrad`` node, else None."""
    return fn.variable if type(fn) is ACCUMULATE_GRAD else None


def name_of(fn) -> str:
    """Return ``fn.name()`` as torch's node class answers it (a ``ctx.name`` set by a
    custom Function's ``forward`` is the user's own)."""
    return type(fn).name(fn)


def sequence_nr_of(fn) -> int:
    """Return ``fn._sequence_nr()`` as torch's node class answers it."""
    return type(fn)._sequence_nr(fn)


def runs_dispatch_code(t) -> bool:
    """Return True for a tensor subclass with its own ``__torch_dispatch__`` (a logging or
    wrapper subclass, FakeTensor): every op on it, a copy or a summary or a node's backward
    over it, runs the subclass's Python code, and its data may live outside its storage."""
    return type(t).__torch_dispatch__ is not _NO_DISPATCH


_NO_DISPATCH = torch._C._disabled_torch_dispatch_impl


def storage_holds(t, n: int | None = None) -> bool:
    """Return False for a strided tensor whose storage holds fewer bytes than its elements
    span: reading it reads memory torch no longer owns (a segfault, no error). FSDP frees an
    unsharded parameter's memory so after backward (``untyped_storage().resize_(0)``, the
    tensor kept as the graph's leaf; ``torch.distributed.utils._free_storage``). True for
    any tensor whose storage cannot be asked (a wrapper subclass: its reads go elsewhere).

    ``n``: the tensor's ``numel()``, where the caller knows it is strided and not meta
    (``grad_values.plain_values``, ``pass_versions._norms``): the layout and meta reads are
    then spared, and a contiguous tensor spans its ``n`` elements (``dense_storage_holds``'
    reads, inline)."""
    try:
        if n is None:
            if t.layout is not torch.strided or t.is_nested or t.is_meta:
                return True
            n = t.numel()
        elif t.is_nested:
            return True
        if n == 0:
            return True
        if t.is_contiguous():  # (a contiguous tensor spans its elements: 0.7 against 1.4 us)
            span = n
        else:
            span = 1 + sum((size - 1) * abs(stride) for size, stride in zip(t.shape, t.stride()))
        return t.untyped_storage().nbytes() >= (t.storage_offset() + span) * t.element_size()
    except Exception as exc:
        reraise_if_handlers(exc)
        return True


def dense_storage_holds(t, n: int) -> bool:
    """Return ``storage_holds(t)`` for a strided tensor, not meta, of ``n`` > 0 elements that
    fill ``n`` places of its memory one after the other (contiguous, or a permute of a
    contiguous tensor: its span is ``n``), without working the span out: three reads, a
    third of the time (``grad_values.plain_values`` asks it of thousands of gradients a pass,
    docs/speed.md item 71)."""
    try:
        return t.is_nested or t.untyped_storage().nbytes() >= (t.storage_offset() + n) * t.itemsize
    except Exception as exc:
        reraise_if_handlers(exc)
        return True  # (as ``storage_holds``: a storage that cannot be asked)


def view_node_fixed(t) -> bool:
    """Return True where reading ``t``'s ``grad_fn`` cannot rebuild it: ``t`` is not a view,
    or a view with no autograd history (it does not require grad, nor does its base: torch
    rebuilds a view's node only for a view of a base that requires grad). Unpacking a saved
    tensor reads that node first (``unpack``), so such a view is unpacked as a plain tensor
    is, also while the program runs. Plain reads (``requires_grad`` and ``_base`` read
    torch's fields)."""
    with plain_reads():
        return not t._is_view() or not (t.requires_grad or t._base.requires_grad)


def is_plain(t) -> bool:
    """Return True for a plain tensor or Parameter (no subclass code runs when it is read)."""
    return type(t) in _PLAIN_TYPES


def subclass_grad(variable):
    """Return a tensor subclass's ``.grad`` read below its ``__torch_function__`` (a plain
    tensor's is read directly: ``variable.grad if is_plain(variable) else
    subclass_grad(variable)``, no call on the common path)."""
    with plain_reads():
        return variable.grad


def grad_fn_of(t: torch.Tensor):
    """Return ``t.grad_fn`` when reading it cannot change it, else None.

    A tensor that does not require grad has no node; a view's node is left
    unread (reading it may rebuild it, see the module docstring).
    """
    with plain_reads():
        if not t.requires_grad or t._is_view():
            return None
        return t.grad_fn


def fresh_grad_fn(t: torch.Tensor):
    """Return ``t.grad_fn`` of a view a torch op has just made, else None.

    Right after the op that made it, a view's node is up to date, so reading
    it rebuilds nothing (whatever mode the view was made in); None when torch
    refuses anyway.
    """
    with plain_reads():
        if not t.requires_grad:
            return None
        try:
            return t.grad_fn
        except RuntimeError:
            return None


class SavedSlot(NamedTuple):
    """One saved tensor of a node, as read without unpacking it.

    ``state`` is ``alive`` (torch still holds it), ``freed`` (released by a
    backward pass without retain_graph), ``unsaved`` (this node did not save
    it: an optional input that was None) or ``hooked`` (a ``saved_tensors_hooks``
    pack hook holds it; reading it would run the unpack hook).
    ``data`` is the held tensor when alive and not hooked (for a saved output,
    a tensor sharing its memory), else None. (A named tuple: a trace makes one per
    saved tensor of every node, ~0.3 us each against ~1.4 for a frozen dataclass.)
    """

    name: str
    attr: str | None
    index: int | None
    state: str
    data: torch.Tensor | None = None


def saved_slots(node) -> list[SavedSlot]:
    """Return one SavedSlot per saved tensor of ``node`` (a list attribute gives several)."""
    if not raw_saved_names(type(node)):  # most view and pointwise nodes save no tensor
        return []
    return list(iter_saved_slots(node))


def iter_saved_slots(node, held: tuple | None = None):
    """Yield the SavedSlots of ``node`` one by one (stop early to read only the first).

    ``held`` is ``(attr, index)`` of a slot an earlier read found holding its tensor
    (``alive`` with data): that slot was saved, so once it holds no data and no hook it is
    freed, without the unpack that would tell (see ``_freed_or_unsaved``)."""
    for attr in raw_saved_names(type(node)):
        name = attr.removeprefix("_raw_saved_")
        try:
            raw = getattr(node, attr)
        except RuntimeError as exc:  # a custom Function's list, once released
            if is_freed_error(exc):
                yield SavedSlot(name, attr, None, "freed")
            continue
        if isinstance(raw, (list, tuple)):
            for i, item in enumerate(raw):
                yield _slot(node, f"{name}[{i}]", attr, i, item, held)
        elif raw is not None:
            yield _slot(node, name, attr, None, raw, held)


def _slot(node, name: str, attr: str, index: int | None, raw, held=None) -> SavedSlot:
    if raw.unpack_hook is not None:
        return SavedSlot(name, attr, index, "hooked")
    data = raw.data
    if isinstance(data, torch.Tensor):
        return SavedSlot(name, attr, index, "alive", data)
    if data is not None:
        return SavedSlot(name, attr, index, "hooked")
    if held is not None and held == (attr, index):
        # Seen holding its tensor, so not a None the forward saved (torch's "unsaved" is
        # fixed when the node is made); its data goes only when torch releases it (a
        # pack hook registered since would show as ``unpack_hook``): freed. Unpacking
        # would say the same by raising torch's error, ~14 us a node.
        return SavedSlot(name, attr, index, "freed")
    return SavedSlot(name, attr, index, _freed_or_unsaved(node, attr, index))


def _freed_or_unsaved(node, attr: str, index: int | None) -> str:
    """Tell a released saved tensor from one never saved (both hold no data).

    Unpacking raises torch's "freed" error for the first and gives None for the
    second; with no hook and no data there is nothing else unpacking could run. A
    custom Function's slots are unpacked all together (``saved_tensors``), which would
    run the other slots' hooks (a pack hook's unpack, checkpoint's recomputation):
    there a slot read at all is not freed (its released list raises when read, see
    ``iter_saved_slots``), so one without data is a ``None`` the forward saved.
    """
    if is_python_node(node):
        return "unsaved"
    try:
        value = getattr(node, _unpacking_name(node, attr))
    except RuntimeError as exc:
        return "freed" if is_freed_error(exc) else "unsaved"
    if index is not None and isinstance(value, (list, tuple)):
        value = value[index] if index < len(value) else None
    return "unsaved" if value is None else "alive"


def unpack(node, slot: SavedSlot, *, views: bool = False):
    """Return the saved tensor of ``slot`` as backward would see it, or None when that is
    unsafe or impossible (hooked, freed, changed in place since it was saved, or a view
    unless ``views`` or ``view_node_fixed``: unpacking reads the view's grad_fn, which
    torch rebuilds if the view went stale)."""
    if slot.state != "alive" or slot.data is None:
        return None
    if not views and not view_node_fixed(slot.data):
        return None
    try:
        value = getattr(node, _unpacking_name(node, slot.attr))
    except RuntimeError:  # changed in place since it was saved: torch refuses, so do we
        return None
    if slot.index is not None:
        value = value[slot.index] if isinstance(value, (list, tuple)) and slot.index < len(value) else None
    return value if isinstance(value, torch.Tensor) else None


_VERSIONS = re.compile(r"is at version (\d+); expected version (\d+) instead")
VERSION_ERROR = _VERSIONS  # torch's words for a saved tensor changed in place


def changed_versions(node, slot: SavedSlot, *, views: bool = False) -> tuple[int, int] | None:
    """Return ``(version now, version saved)`` of a saved tensor that was changed in place
    since ``node`` saved it (torch refuses it to backward), read from torch's own error
    when unpacking the slot raises it; None where it is unchanged or that is not known.

    A tensor whose version counter is 0 was never changed (the counter starts at 0 and
    only grows), so only a slot whose tensor reads a later version is unpacked: a plain
    tensor with no hook (torch checks the version only then), not a view unless ``views``
    (unpacking reads the view's node, which torch rebuilds if the view went stale); a custom
    Function's slots unpack together (``saved_tensors``), so one is unpacked only where no
    slot has a hook and it is the only one whose version is past 0 (``_alone_in_list``).
    Unpacking a slot with no hook runs no user code and changes nothing torch holds: it
    compares the two versions, then raises or hands out a tensor, which is dropped."""
    data = slot.data
    if slot.state != "alive" or type(data) not in _PLAIN_TYPES:
        return None
    with plain_reads():
        if not data._version:
            return None
    if not views and not view_node_fixed(data):
        return None
    if slot.index is not None and not _alone_in_list(node, slot, views):
        return None
    try:
        if is_python_node(node):  # through torch's own getter, not a ``ctx`` attribute
            _PYTHON_SAVED.__get__(node)
        else:
            getattr(node, _unpacking_name(node, slot.attr))
    except RuntimeError as exc:
        found = _VERSIONS.search(str(exc))
        return (int(found[1]), int(found[2])) if found else None
    return None


_PYTHON_SAVED = torch._C._FunctionBase.saved_tensors  # a custom Function's ``saved_tensors``

DETACHED_WORDS = _DETACHED_WORDS = "detached in-place"  # torch's words for a detached saved input


def may_be_detached(node, slot: SavedSlot) -> bool:
    """Return True for a saved slot ``detached_in_place`` should unpack: a plain saved input
    of ``node`` (``saved_inputs``: derivatives.yaml's names, a list's items too) that does not
    require grad now."""
    data = slot.data
    return (slot.state == "alive" and type(data) in _PLAIN_TYPES and not data.requires_grad
            and slot.attr[11:] in saved_input_names(type(node)))


def detached_in_place(node, slot: SavedSlot) -> bool:
    """Return True where torch's backward through ``node`` would raise "Trying to use a saved
    tensor that has been detached in-place" for ``slot``: a non-leaf input, detached in
    place (``b.detach_()``) since the node saved it.

    torch's backward unpacks a saved input without handing it the node (the Python getter
    hands it, and then reaches the version check instead), as ``SavedTensor.unpack()`` does:
    that is what is called, only for a slot ``may_be_detached`` (a saved *output* always
    reads as detached there: its node is what torch hands it). Not for a custom Function
    (its slots unpack with the node) nor a view (unpacking reads the view's node)."""
    if is_python_node(node) or not may_be_detached(node, slot):
        return False
    try:
        raw = getattr(node, slot.attr)
    except RuntimeError:
        return False
    if slot.index is not None:  # an item of a list input (``unpack_list(self_, nullptr)``)
        if not isinstance(raw, (list, tuple)) or slot.index >= len(raw):
            return False
        raw = raw[slot.index]
    return raw_detached(raw)


def raw_detached(raw) -> bool:
    """Return True where ``raw`` (a node's ``SavedTensor`` of a saved *input*: the caller
    knows it by its name, ``saved_inputs.saved_input_names``) was detached in place since it
    was saved, as torch's backward would find it: unpacked as torch's backward unpacks an
    input (without its node). Only a plain tensor that no longer requires grad, has no hook
    (unpacking would run it) and is not a view (unpacking reads the view's node) is
    unpacked: that compares versions and reads the tensor's node, then raises or hands out
    a tensor, which is dropped. About 1 us (a Python number torch wrapped, ``y * 1.0001``,
    is one)."""
    if raw.unpack_hook is not None:
        return False
    data = raw.data
    if type(data) not in _PLAIN_TYPES:
        return False
    with plain_reads():
        if data.requires_grad or data._is_view():
            return False
    try:
        raw.unpack()
    except RuntimeError as exc:
        return _DETACHED_WORDS in str(exc)
    return False


def _alone_in_list(node, slot: SavedSlot, views: bool = False) -> bool:
    """Return True when ``slot`` is the only item of its list attribute that unpacking could
    find changed and no item has a hook (nor is a view, unless ``views``): torch unpacks
    the whole list, and its error then names no item (a plain tensor whose version counter
    is 0 was never changed); unpacking a saved view reads its node (``unpack``)."""
    try:
        raws = getattr(node, slot.attr)
    except RuntimeError:
        return False
    with plain_reads():
        for i, raw in enumerate(raws):
            if raw.unpack_hook is not None:
                return False
            data = raw.data
            if data is None:
                continue
            if type(data) not in _PLAIN_TYPES or (not views and not view_node_fixed(data)):
                return False
            if i != slot.index and data._version:
                return False
    return True


def _unpacking_name(node, raw_attr: str) -> str:
    """Return the attribute that unpacks what ``raw_attr`` holds (``_raw_saved_self`` ->
    ``_saved_self``; a custom Function's ``_raw_saved_tensors`` -> ``saved_tensors``)."""
    key = (type(node), raw_attr)  # whether a node is a Python one is told by its class
    name = _UNPACKING_NAMES.get(key)
    if name is None:
        name = _UNPACKING_NAMES[key] = ("saved_tensors" if is_python_node(node)
                                        else raw_attr.replace("_raw_saved_", "_saved_", 1))
    return name


_UNPACKING_NAMES: dict = class_dict({})  # (node class, raw attribute) -> _unpacking_name's answer


@node_class_cache
def raw_saved_names(node_type: type) -> tuple[str, ...]:
    """Return the ``_raw_saved_*`` attribute names of a node class (custom Functions:
    ``_raw_saved_tensors``)."""
    return tuple(a for a in dir(node_type) if a.startswith("_raw_saved_"))


_FREED_WORDS = ("freed", "backward through the graph a second time")


def is_freed_error(exc: BaseException) -> bool:
    """Return True for torch's "saved tensors already freed" error."""
    text = str(exc)
    return any(word in text for word in _FREED_WORDS)


def is_python_node(node) -> bool:
    """Return True for a node whose backward is Python code (a custom autograd.Function,
    checkpoint): calling it runs user code."""
    return isinstance(node, _PYTHON_NODE)


def display_name(node, name: str) -> str:
    """A custom Function's saved tensors are called ``saved_tensors[i]``, as ``ctx.saved_tensors``."""
    if is_python_node(node) and name.startswith("tensors"):
        return "saved_" + name
    return name


def unread_views(fn, version: int) -> set[str]:
    """Return the names (``display_name``) of ``fn``'s saved views at ``version`` that a live
    program's probes do not read (``saved.refusals_now`` without ``views``: unpacking could
    rebuild their node, ``view_node_fixed``). Plain reads."""
    with plain_reads():
        return {display_name(fn, slot.name) for slot in saved_slots(fn)
                if slot.state == "alive" and type(slot.data) in _PLAIN_TYPES
                and slot.data._version == version and not view_node_fixed(slot.data)}
