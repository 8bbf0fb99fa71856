"""Whether a leaf's ``.grad`` changed during a recorded pass other than by its AccumulateGrad.

A step's ``grad_before`` is the leaf's ``.grad`` as its AccumulateGrad is about to run, and
the window shows it for every step before that one. It was so from the pass's start only
when no code of the snippet's (a tensor hook, a node hook, a custom Function's backward)
wrote ``.grad`` in between: ``h.register_hook(lambda g: setattr(w, "grad", ...))`` or
``w.grad.mul_(0)`` in a hook, where torch had ``None`` (or the old value) at the earlier
steps. ``GradMarks`` notes, as the hooks go on, each plain leaf's ``.grad`` (``note_tensor``: nothing
held, so it lives no longer than torch keeps it, and its ``_version``); its
AccumulateGrad's first pre-hook checks it is still that tensor at that version; a leaf
whose AccumulateGrad did not run is checked when the pass ends. ``moved`` lists the leaves
that failed the check: the timeline's ``grad_moved``, where the window shows no ``.grad``
for the steps it cannot tell (``step_state.PassIndex.leaf_grad``). A write through
``.data`` moves no version (``w.grad.data.mul_(0)``, ``w.grad.data = t``), nor does one in
place into an inference tensor (``torch.inference_mode``: it has no version counter): a
plain dense ``.grad`` is also copied as the pass begins and its bits compared at the
check (``_noted``; the copy goes once checked), up to ``NOTED_BYTES`` in all: a ``.grad``
past them is checked by identity and version only. A tensor subclass's leaf is noted too, its
``.grad`` read below its ``__torch_function__``; a ``.grad`` that is itself a subclass (or
sparse, quantized, nested) is checked by identity and version only: copying it would run
its own code (docs/fidelity.md).

What is noted of a ``.grad`` holds nothing of it and is no weak reference of Python's
(``note_tensor``: torch's own watch on its TensorImpl, and that TensorImpl's address): a
``_Mark``, a ``weakref.ref`` of gradstep's class, made ``weakref.getweakrefcount(w.grad)``
read one more than python's during the pass, and torch refused to swap a ``.grad`` that had
one (``torch.utils.swap_tensors``: the swap wrapper let go of the marks first). A Python
tensor and its TensorImpl go together (torch keeps the object while the TensorImpl lives),
but ``swap_tensors`` swaps the TensorImpls of two objects. torch refuses to swap a tensor
whose TensorImpl is watched (``_swap_tensor_impl``: "Expected no weakrefs to t1's Tensor
object"): the snippet's swap lets go of gradstep's notes first (``let_go``, from
``swaps``); that leaf's ``.grad`` is then taken as changed where torch swapped it, and
noted again as it was where torch refused (``hold_again``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.safe_reads import _PLAIN_TYPES, plain_reads, subclass_grad

_STRIDED = torch.strided

# at most this many bytes of ``.grad`` bits are copied as a pass begins (``begin``): each
# leaf's in graph order where it still fits; a ``.grad`` past it is checked by identity and
# version only, as before statehunt3 (a write through ``.data`` or under inference_mode is
# not seen there: docs/fidelity.md). Copies of a model's every ``.grad`` (50-300M float
# parameters: 0.2-1.2 GB) were held from the pass's start on top of what ``step_hooks``
# holds (``HELD_BYTES``, 256 MB): a run that fits under python could run out of memory
# under gradstep (review of statehunt3: a 100M-parameter MLP's recorded pass, +330 MB
# peak over main). A copy becomes its AccumulateGrad's ``grad_before`` where the bits are
# the same, so a pass's peak is at most this much above main's; 64 MB: every .grad of a
# model of up to 16M float parameters, and each lesson's, is checked bit for bit.
NOTED_BYTES = 64 << 20


# torch's watch on a tensor's TensorImpl (a weak intrusive pointer: no Python weak reference,
# so ``weakref.getweakrefcount`` of the tensor does not count it; while it is not
# ``expired`` the TensorImpl, and so its address, is that tensor's), and that address
_WATCH = torch._C._WeakTensorRef
_ADDRESS = torch._C.TensorBase._cdata.__get__  # (the C getter: no subclass's code runs)


def note_tensor(grad) -> tuple:
    """Return what tells ``grad`` from any other tensor later (``is_noted``), holding nothing of it."""
    return _WATCH(grad), _ADDRESS(grad)


def is_noted(grad, note) -> bool:
    """Return True when ``grad`` is the tensor ``note`` was taken of (its TensorImpl alive
    and the one ``grad`` has: not a new tensor, nor one whose TensorImpl a swap changed)."""
    return isinstance(grad, Tensor) and not note[0].expired() and _ADDRESS(grad) == note[1]


# the GradMarks of the passes under way that hold notes (``let_go``)
_MARKING: list = []


def let_go(tensors) -> list:
    """Let go of the passes' notes of ``tensors`` (the snippet swaps them: torch refuses a
    tensor whose TensorImpl is watched); return what was let go, for ``hold_again``."""
    taken = []
    for marks in list(_MARKING):
        for key, mark in list(marks.pending.items()):
            if mark[2] is None:
                continue
            for tensor in tensors:
                if is_noted(tensor, mark[2]):
                    del marks.pending[key]
                    taken.append((marks, key, mark[0], mark[1], mark[3:], tensor))
                    break
    return taken


def hold_again(taken: list, swapped) -> None:
    """After the swap (``swapped``: the two tensors, or None where torch refused it): a
    swapped tensor's leaf's ``.grad`` is taken as changed (the object is the one noted, its
    data another's); where nothing was swapped each note is made again as it was, with the
    version noted then."""
    for marks, key, node_id, variable, noted, tensor in taken:
        if swapped is None and any(m is marks for m in _MARKING) and key not in marks.pending:
            marks.pending[key] = (node_id, variable, note_tensor(tensor), *noted)
        else:
            marks.moved.append(node_id)


class GradMarks:
    """Each plain leaf's ``.grad`` as the pass began, checked once in the pass."""

    __slots__ = ("leaves", "pending", "moved")

    def __init__(self):
        self.leaves: list = []  # (node id, leaf variable), as the hooks go on (``add``)
        # id(leaf variable) -> (node id, the variable, ``note_tensor`` of .grad or None, version,
        # a copy of its bits or None); by id: a subclass leaf's own __hash__ would run its code
        self.pending: dict = {}
        self.moved: list = []  # node ids of the leaves whose .grad changed (``check``)

    def add(self, node_id, variable) -> None:
        """Note a leaf of the pass; its ``.grad`` is read by ``begin``."""
        self.leaves.append((node_id, variable))

    def begin(self) -> None:
        """Note each leaf's ``.grad`` now (called where no mode of the snippet's sees the
        reads; a subclass leaf's is read below its ``__torch_function__``)."""
        pending = self.pending
        room = [NOTED_BYTES]  # (bytes the copies may still take)
        for node_id, variable in self.leaves:
            grad = variable.grad if type(variable) in _PLAIN_TYPES else subclass_grad(variable)
            if grad is None:
                pending[id(variable)] = (node_id, variable, None, 0, None)
            elif isinstance(grad, Tensor):
                pending[id(variable)] = (node_id, variable, note_tensor(grad), *_noted(grad, room))
        self.leaves = []
        if any(mark[2] is not None for mark in pending.values()):
            _MARKING.append(self)

    def check(self, variable, grad):
        """Check ``grad`` (``variable.grad`` now) against the note, the first time only.
        Return the copy noted as the pass began where ``grad`` is that tensor with those very
        bits and the copy has its dtype and layout (a float ``.grad``): the AccumulateGrad's
        pre-hook keeps it as its ``grad_before`` instead of copying ``grad`` again; else None."""
        mark = self.pending.pop(id(variable), None)
        if mark is None:
            return None
        node_id, _, note, version, bits = mark
        if note is None:
            same = grad is None
        else:
            try:
                with plain_reads():
                    same = (is_noted(grad, note)
                            and (version is None or grad._version == version)
                            and (bits is None or _same_bits(bits, grad)))
                    if same and bits is not None and bits.dtype is not grad.dtype \
                            and _AS_INT.get(grad.dtype) is bits.dtype:
                        return bits.view(grad.dtype)
            except Exception as exc:  # (its reads raise now: an inference .grad given a
                reraise_if_handlers(exc)  # normal tensor's .data has no version counter)
                same = False
        if not same:
            self.moved.append(node_id)
        return None

    def finish(self) -> list:
        """Check the leaves no AccumulateGrad of the pass ran for; return ``moved``."""
        for _, variable, _, _, _ in list(self.pending.values()):
            self.check(variable, variable.grad if type(variable) in _PLAIN_TYPES
                       else subclass_grad(variable))
        self.drop()
        return self.moved

    def drop(self) -> None:
        """Let go of what is noted (the pass ended, or will not run)."""
        self.pending.clear()
        if self in _MARKING:
            _MARKING.remove(self)


def _noted(grad, room: list) -> tuple:
    """Return ``(version, bits)`` of a ``.grad`` as the pass begins: its ``_version`` (None
    where it has no version counter: an inference tensor, or one whose ``.data`` was set to
    a normal tensor's, whose ``_version`` and views raise) and ``_bits`` (None where they
    cannot be read, or where their copy would take more than ``room[0]`` bytes, which it
    lessens)."""
    with plain_reads():
        try:
            version = None if grad.is_inference() else grad._version
        except Exception as exc:
            reraise_if_handlers(exc)
            return None, None
        try:
            size = grad.numel() * grad.element_size() if type(grad) is Tensor else 0
            if size > room[0]:
                return version, None
            bits = _bits(grad, copy=True)
            if bits is not None:
                room[0] -= size
            return version, bits
        except Exception as exc:
            reraise_if_handlers(exc)
            return version, None


# each floating dtype's integer dtype of the same size: its bits, read as a view of the same
# memory whatever its strides (compared by ``torch.equal``: -0.0 is not 0.0, a NaN is itself)
_AS_INT = {torch.float32: torch.int32, torch.float64: torch.int64, torch.float16: torch.int16,
           torch.bfloat16: torch.int16}


def _bits(grad, copy: bool = False):
    """Return a plain dense ``.grad``'s bits (a copy where ``copy``: a write through ``.data``
    or under ``inference_mode`` moves no version), or None for one whose copy would run code
    of its own or has no bytes to read (a subclass, sparse, quantized, nested, meta)."""
    if (type(grad) is not Tensor or grad.layout is not _STRIDED or grad.is_nested
            or grad.is_quantized or grad.is_meta):
        return None
    if grad.requires_grad:  # (create_graph: its gradient's own graph)
        grad = grad.detach()
    as_int = _AS_INT.get(grad.dtype)
    if as_int is not None:  # (the float copied, then viewed: torch copies floats faster)
        return (grad.clone() if copy else grad).view(as_int)
    if grad.is_complex():
        bits = torch.view_as_real(grad.resolve_conj().resolve_neg())
        bits = bits.view(_AS_INT.get(bits.dtype, bits.dtype))
    else:  # integers and bools (equal is bitwise), the rarer floats
        bits = grad
    return bits.clone() if copy else bits


def _same_bits(bits, grad) -> bool:
    """Return True when ``grad``'s bits are ``bits``."""
    now = _bits(grad)
    return now is not None and torch.equal(now, bits)
