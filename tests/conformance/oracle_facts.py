"""Facts about tensors and graphs, read with plain torch (the oracle's own code).

Nothing here imports gradstep (``app``, ``gradstep.drawing``): the oracle must be
an independent reading of what torch did.

- ``summarize(t)``: a tensor's shape, dtype, statistics (float64, over the
  finite elements; complex by magnitude; unbiased std, None for one element:
  torch's own ``x.std()`` is nan there; a float tensor with a NaN or an
  infinity, or whose ``x.mean()`` or ``x.std()`` is past the range, or of half
  precision: its own mean and std, of the magnitudes for complex; no element: nan,
  no min or max, torch raises there) and,
  up to ``SMALL`` elements, its data nested like ``tolist()``.
- ``walk_graph(roots)``: ``next_functions`` breadth first, ``n0`` = the first
  root, each node numbered when first seen; edges ``(source, target, slot,
  input_nr)`` where ``slot`` is the position in the source's ``next_functions``.
- ``engine_steps(events, marker)``: the nodes the autograd engine ran inside
  one profiler marker (one backward call), in order.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque

import torch

SMALL = 64
EVALUATE = "autograd::engine::evaluate_function: "
CPP_PREFIX = "torch::autograd::"
MARKER = "oracle_backward_call:"  # the profiler range around one backward call

CONTAINERS = (tuple, list)


def is_a(value, kind) -> bool:
    """``isinstance`` told by ``type()``: it reads no ``__class__`` of a proxy object's (its
    ``__getattribute__`` is the case's own code)."""
    return issubclass(type(value), kind)


def items_of(container) -> list:
    """Return a tuple's or list's items without running a subclass's own ``__iter__``."""
    return list(tuple.__iter__(container) if isinstance(container, tuple)
                else list.__iter__(container))


@contextlib.contextmanager
def unwatched(*, record: bool = False):
    """Run the oracle's own reads and summaries out of sight of the case's own torch
    function modes, dispatch modes and profiler (a case that counts its ops or logs its
    calls must print what it prints without the oracle). ``record=True`` keeps torch's
    op recording on (the oracle's own profiler ranges)."""
    from torch.utils._python_dispatch import _disable_current_modes

    with torch._C.DisableTorchFunction(), contextlib.ExitStack() as stack:
        if torch._C._len_torch_dispatch_stack():
            stack.enter_context(_disable_current_modes())
        if not record and torch._C._autograd._profiler_enabled() and not _recording_off:
            _recording_off.append(True)  # nested blocks: only the outermost turns it on again
            torch._C._autograd._enable_record_function(False)
            stack.callback(_record_again)
        yield


_recording_off: list = []  # [True] while an outer unwatched() turned op recording off


def _record_again() -> None:
    _recording_off.clear()
    torch._C._autograd._enable_record_function(True)


def traced() -> bool:
    """Return True while torch.jit.trace or torch.compile traces the running code: a
    summary's torch calls would land in its graph (or break it), so nothing is read."""
    return torch._C._get_tracing_state() is not None or torch.compiler.is_compiling()


def node_name(fn) -> str:
    """Return ``fn.name()`` without the ``torch::autograd::`` prefix. Methods are read from
    the node's class: a custom Function's node is its ``ctx``, where the user's forward
    may have put a ``name`` (or ``variable``, ``_sequence_nr``) of its own."""
    return type(fn).name(fn).removeprefix(CPP_PREFIX)


def sequence_nr(fn) -> int:
    """Return ``fn._sequence_nr()``, read from the node's class (see ``node_name``)."""
    return type(fn)._sequence_nr(fn)


def leaf_variable(fn):
    """Return the tensor of an ``AccumulateGrad`` node, else None (by the class's name:
    a ``ctx.variable`` is the user's)."""
    return fn.variable if type(fn).__name__ == "AccumulateGrad" else None


# elements past which a CPU half precision tensor's summary shows no mean (gradstep's
# ``values._CHUNK``: its own ``t.mean()`` would copy all of it to float32)
HALF_MEAN_MOST = 1 << 20


def dtype_text(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def summarize(t: torch.Tensor) -> dict:
    """Return the summary of ``t`` (see the module docstring); no graph is built."""
    t = t.detach()
    if type(t) is not torch.Tensor:
        t = t.as_subclass(torch.Tensor)
    nested = getattr(t, "is_nested", False)  # no one shape: torch raises when asked
    out: dict = {"shape": None if nested else list(t.shape), "dtype": dtype_text(t.dtype)}
    if t.layout != torch.strided or t.is_meta or nested or not _storage_holds(t):
        return out
    magnitude = (t.abs() if t.is_complex() else t).double()
    finite = torch.isfinite(magnitude)
    nan = int(torch.isnan(magnitude).sum())
    kept = magnitude[finite]
    n = kept.numel()
    out.update(nan=nan, inf=magnitude.numel() - nan - n)
    if n:
        out.update(min=kept.min().item(), max=kept.max().item(), mean=kept.mean().item(),
                   std=kept.std().item() if n > 1 else None)
    else:
        out.update(min=None, max=None, mean=None, std=None)
    real = t.abs() if t.is_complex() else t
    if real.is_floating_point() and not real.numel():
        out.update(mean=math.nan, std=math.nan)  # torch's t.mean() and t.std() of no element
    elif real.is_floating_point():
        # a NaN, an infinity, a mean or std past the range, half precision: they are torch's
        # own (of the magnitudes for complex; half precision's summed in float32 and rounded)
        mean, std = real.mean().item(), real.std().item() if real.numel() > 1 else None
        past = not math.isfinite(mean) or (std is not None and not math.isfinite(std))
        half = real.dtype in (torch.float16, torch.bfloat16)
        if n < real.numel() or past or half:
            out.update(mean=mean, std=std)
        if half and real.is_cpu and real.numel() > HALF_MEAN_MOST and not nan:
            out["mean"] = None  # a float32 copy of all of it makes its own: shown less (docs/limits.md)
    if t.numel() <= SMALL:
        out["data"] = plain_data(t)
    return out


def _storage_holds(t: torch.Tensor) -> bool:
    """Return False where ``t``'s storage holds fewer bytes than its elements span (FSDP
    frees an unsharded parameter's memory by resizing its storage to 0 bytes after
    backward): reading it would read memory torch no longer owns (a segfault)."""
    if t.numel() == 0:
        return True
    span = 1 + sum((size - 1) * abs(stride) for size, stride in zip(t.shape, t.stride()))
    return t.untyped_storage().nbytes() >= (t.storage_offset() + span) * t.element_size()


def plain_data(t: torch.Tensor):
    """Return ``t``'s values nested like ``tolist()``: floats widened exactly to
    Python floats, complex numbers as ``[real, imag]``, ints and bools as they are."""
    if t.device.type != "cpu":
        t = t.cpu()
    if t.is_complex():
        return _pairs(torch.view_as_real(t.resolve_conj().resolve_neg()).double().tolist())
    if t.is_floating_point():
        return t.double().tolist()
    return t.resolve_neg().tolist()


def _pairs(nested):
    if nested and isinstance(nested[0], float):
        return list(nested)
    return [_pairs(item) for item in nested]


def walk_graph(roots) -> tuple[dict, list, list]:
    """Return ``(id_of, nodes, edges)`` of the graph reachable from ``roots``.

    ``roots`` are grad_fn objects; ``id_of`` maps each node object to ``"nK"``;
    ``nodes`` is ``[{"id", "name"}]`` in id order; ``edges`` is
    ``[[source, target, slot, input_nr]]`` in walk order.
    """
    id_of: dict = {}
    nodes: list = []
    edges: list = []
    queue: deque = deque()

    def visit(fn) -> str:
        node_id = id_of.get(fn)
        if node_id is None:
            node_id = id_of[fn] = f"n{len(id_of)}"
            nodes.append({"id": node_id, "name": node_name(fn)})
            queue.append(fn)
        return node_id

    for fn in roots:
        visit(fn)
    while queue:
        fn = queue.popleft()
        source = id_of[fn]
        for slot, (nxt, input_nr) in enumerate(fn.next_functions):
            if nxt is not None:
                edges.append([source, visit(nxt), slot, input_nr])
    return id_of, nodes, edges


def leaf_facts(id_of: dict) -> tuple[dict, dict]:
    """Return ``({leaf id: value summary}, {leaf id: .grad summary or None})``."""
    values, grads = {}, {}
    for fn, node_id in id_of.items():
        variable = leaf_variable(fn)
        if variable is None:
            continue
        values[node_id] = summarize(variable)
        grads[node_id] = None if variable.grad is None else summarize(variable.grad)
    return values, grads


def engine_steps(events, marker) -> list[str]:
    """Return the names of the nodes the engine ran for the backward call of ``marker``.

    A node ran when its ``evaluate_function`` event holds the node's own event
    (``Node::operator()`` records one under the node's name); a node that was
    only evaluated to capture a gradient (``autograd.grad`` inputs) does not.
    Steps of a nested backward (run by a node, e.g. reentrant checkpoint) sit
    under another ``evaluate_function`` and are not this call's. On the
    marker's thread the steps are its descendants; on other threads (the CUDA
    device threads) the outermost ``evaluate_function`` events inside its time.
    """
    start, end = marker.time_range.start, marker.time_range.end
    found = []
    for event in events:
        if not event.name.startswith(EVALUATE) or not _ran(event):
            continue
        owner = _owner(event)
        if owner is marker or (owner is None and event.thread != marker.thread
                               and start <= event.time_range.start <= end):
            found.append(event)
    found.sort(key=lambda e: e.time_range.start)
    return [e.name[len(EVALUATE):].removeprefix(CPP_PREFIX) for e in found]


def _ran(event) -> bool:
    name = event.name[len(EVALUATE):]
    return any(child.name == name for child in event.cpu_children)


def _owner(event):
    """Return the nearest enclosing ``evaluate_function`` or marker event, or None."""
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith(EVALUATE) or parent.name.startswith(MARKER):
            return parent
        parent = parent.cpu_parent
    return None


