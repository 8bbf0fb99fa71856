"""gradstep on live tensors in the user's own process: the core of the Python API. No Qt.

- ``record()``: a context manager around the user's forward pass. While it is
  open, global module hooks note module outputs and module scopes (no Python
  mode: torch runs as it would without it; ``deep=True`` adds the
  ``TorchFunctionMode`` of ``--deep-values``, which may change torch's kernels).
- ``trace_tensor(tensor, namespace=..., recording=...)``: the Trace of the
  tensor's graph, labelled from the caller's variables and module parameters,
  with the values that can be proven after the fact (leaves, saved tensors,
  what a recording saw). Nothing is unpacked that a hook holds, no view's
  node is read that torch might rebuild: the user's program goes on exactly as
  it would have.
- ``backward_tensor(tensor, ...)``: one recorded backward pass on the graph,
  keeping the graph (``retain_graph``) and leaving every ``.grad`` as it was
  unless ``keep_grads=False`` (the leaves' and those of the namespace's
  ``retain_grad()`` tensors).
- ``current_recording()``: the recording a ``record()`` block of this thread
  has open, else the one it closed last.
"""

from __future__ import annotations

import contextlib
import gc
import threading

import torch

from gradstep.autograd.backward import record_backward, retained_tensors
from gradstep.autograd.errors import LIVE
from gradstep.autograd.names import (
    ScopeNames,
    module_names,
    module_prefixes,
    parameter_labels,
    walk_parameters,
)
from gradstep.autograd.observe import SEEN, Observer
from gradstep.autograd.recorder import Recorder
from gradstep.autograd.safe_reads import (
    grad_fn_of,
    is_leaf_node,
    is_plain,
    is_python_node,
    plain_reads,
)
from gradstep.autograd.trace import Trace, grad_fn_roots, node_key, trace_graph
from gradstep.autograd.unseen import unseen
from gradstep.i18n import N_, _

_LAST = threading.local()  # per thread: ``open`` (a stack of open recordings), ``recording``


class Recording:
    """What ``record()`` saw: values of module outputs and the module scopes."""

    def __init__(self, deep: bool = False):
        self.observer = Observer()
        self.deep = deep
        self.closed = False

    def trace(self, tensor, namespace: dict | None = None) -> Trace:
        """Return the Trace of ``tensor``'s graph with what this recording saw."""
        return trace_tensor(tensor, namespace=namespace, recording=self)


@contextlib.contextmanager
def record(*, deep: bool = False):
    """Yield a Recording; module outputs and scopes are noted until the block ends."""
    recording = Recording(deep)
    observer = recording.observer
    mode = Recorder(observer).active() if deep else contextlib.nullcontext()
    opened = _open_recordings()
    opened.append(recording)
    try:
        with observer.module_hooks(), mode:
            yield recording
    finally:
        recording.closed = True
        opened.remove(recording)
        _LAST.recording = recording


def last_recording() -> Recording | None:
    """Return the recording this thread closed last, or None."""
    return getattr(_LAST, "recording", None)


def current_recording() -> Recording | None:
    """Return the innermost recording this thread has open, else the one it closed last."""
    opened = _open_recordings()
    return opened[-1] if opened else last_recording()


def _open_recordings() -> list:
    if not hasattr(_LAST, "open"):
        _LAST.open = []
    return _LAST.open


def trace_tensor(tensor, *, namespace: dict | None = None,
                 recording: Recording | None = None) -> Trace:
    """Return the Trace of everything ``tensor`` (or a list of tensors) depends on.

    ``namespace`` (the caller's variables) names leaves and ops; its modules name
    parameters and scopes. Values: what ``recording`` saw, the tensors of the
    namespace and the root that are provably their node's output, saved tensors
    that can be read without running a hook, and every leaf as it is now. Called
    inside the caller's own mode or profiler, none of it shows there (``unseen``).
    """
    with unseen():
        return _trace_tensor(tensor, namespace, recording)


def _trace_tensor(tensor, namespace: dict | None, recording: Recording | None) -> Trace:
    observer = recording.observer if recording is not None else Observer()
    namespace = namespace or {}
    roots = grad_fn_roots(tensor)  # raises ValueError for a tensor without a graph
    for value in [*_as_list(tensor), *namespace.values()]:
        if is_plain(value) and value.requires_grad:
            observer.see(value, SEEN)
    try:
        scope_names, param_names = module_names(namespace)
    except Exception:  # a module whose named_modules() itself fails
        scope_names, param_names = {}, {}
    labels = {**parameter_labels(param_names), **namespace_labels(namespace)}
    scopes = ScopeNames(observer.scopes, scope_names, param_names)
    def see_saved(nodes, slots_of):
        observer.see_saved(nodes, slots_of=slots_of)

    return trace_graph(roots, values=observer.values, labels=labels, scopes=scopes,
                       see_saved=see_saved)


def namespace_labels(namespace: dict) -> dict:
    """Return ``{node_key: name}`` for the tensors a namespace names (first name wins)."""
    labels: dict = {}
    for name, value in namespace.items():
        if name.startswith("_") or not is_plain(value):
            continue
        fn = grad_fn_of(value)  # None for a view: reading its node could rebuild it
        key = node_key(fn) if fn is not None else ("leaf", id(value))
        labels.setdefault(key, name)
    return labels


def backward_tensor(tensor, trace: Trace, *, mode: str = "backward", inputs=None,
                    gradient=None, keep_grads: bool = True, namespace: dict | None = None) -> dict:
    """Return the backward record of one pass through ``trace``'s graph (DESIGN backward JSON).

    The graph is retained (the user may still call backward on it). With
    ``keep_grads`` every leaf's ``.grad`` (and a ``retain_grad()`` tensor's) is set
    aside before the pass and put back after it, so the user's ``.grad`` is what it
    was; the record still shows the gradients this pass accumulated. A non-leaf
    tensor that called ``retain_grad()`` is found only through ``namespace`` (torch's
    graph does not lead to it): those are set aside and reported (``retained_grads``)
    too, and those it does not name (held in a list or an attribute) are found among
    the process's live objects and set aside without being reported. So are
    the namespace's leaves and its modules' parameters that the graph does not lead to
    (a reentrant checkpoint's block runs a pass of its own into them).
    """
    labels = {node_id: attrs.get("label") for node_id, attrs in trace.graph.nodes(data=True)}
    leaves = [fn.variable for fn in trace.id_of if is_leaf_node(fn)]
    watch = retained_tensors(namespace or {}, trace.id_of)
    roots = _as_list(tensor)
    # every retain_grad() tensor of the process this pass may fill, named or not: a view is
    # not reported (whether it is in this graph would take reading its node, which may
    # rebuild it), but its .grad is set aside all the same where it is or may be in it
    retaining = _retaining_elsewhere(trace.id_of) if keep_grads else []
    # a pass inside a node reaches leaves the graph does not lead to (a reentrant
    # checkpoint's backward runs its own pass into its block's parameters): those the
    # namespace names are set aside too. Only where such a node is in the graph: any
    # other named leaf the pass cannot reach, and a hook of the pass that reads its
    # .grad saw None (as torch never showed it)
    inner = keep_grads and any(is_python_node(fn) for fn in trace.id_of)
    named = _named_leaves(namespace or {}) if inner else []
    keep = (_grads_set_aside(leaves + list(watch.values()) + retaining + named)
            if keep_grads
            else contextlib.nullcontext())
    with keep:
        return record_backward(roots, trace.id_of, mode=mode, inputs=inputs, retain_graph=True,
                               gradient=gradient, labels=labels, watch=watch, filename=LIVE,
                               retain_inputs=not keep_grads)


def _retaining_elsewhere(id_of: dict) -> list:
    """Return the process's tensors that called ``retain_grad()`` and that this
    pass may fill: those of this graph, and every view that is or may be in it
    (``_view_may_be_in``: one whose version moved is taken to be in it, as whether it is
    would take reading its node, which may rebuild it).

    The caller's variables do not reach a tensor held in a list, a dict or an attribute
    (``acts.append(h); acts[-1].retain_grad()``), and torch's graph does not lead to it:
    only the collector's list of live objects does. Only the type of each object is
    read, and of a tensor ``retains_grad``, with torch functions disabled: the caller's mode
    sees none of it (review of fid15: it saw a read per tensor of the process), and a
    subclass's ``__torch_function__`` does not run (a subclass's tensor in a list was left
    out before: the pass added into its ``.grad``, core7).
    """
    found = []
    with plain_reads():  # (a TorchFunctionMode of the caller's sees none of these reads)
        for value in gc.get_objects():
            if not issubclass(type(value), _TENSOR) or not value.retains_grad:
                continue
            if _view_may_be_in(value, id_of) if value._is_view() else grad_fn_of(value) in id_of:
                found.append(value)
    return found


_TENSOR = torch.Tensor


def _view_may_be_in(view, id_of: dict) -> bool:
    """Return False for a view whose node is not in the graph ``id_of``, True where it is or
    may be.

    A view's node is rebuilt when read only where its version moved since it was made (an
    in-place change of it or its base): at version 0 it is read as it is, and a view of
    another graph keeps its ``.grad`` through the pass (a hook of the pass that reads it
    sees it, as in python: review of fid15, it read None). Past version 0 it is taken to be
    in the graph (its ``.grad`` is set aside and put back).
    """
    with plain_reads():
        return view._version != 0 or view.grad_fn in id_of


def _named_leaves(namespace: dict) -> list:
    """Return the parameters of the namespace's modules and the leaf tensors it names.

    A view is left out: whether it is a leaf would take reading its node (which may
    rebuild it); one that retains its gradient is set aside already.
    """
    found = [p for module, _prefix in module_prefixes(namespace).values()
             for _name, p in walk_parameters(module)]
    for name, value in namespace.items():
        if (not name.startswith("_") and is_plain(value) and value.requires_grad
                and not value._is_view() and value.grad_fn is None):
            found.append(value)
    return found


NESTED_GRAD_KEPT = N_(
    "gradstep.backward cannot set aside the .grad of a nested tensor and put it back (torch "
    "does not let Python set a nested tensor's .grad), so it ran no pass and changed nothing. "
    "Pass accumulate=True to let this pass add into that .grad, as tensor.backward() would, "
    "or set the tensor's .grad to None first.")


@contextlib.contextmanager
def _grads_set_aside(tensors: list):
    """Set each tensor's ``.grad`` to None for the block, then put the very same objects back
    (a tensor listed twice is set aside once)."""
    unique = {id(t): t for t in tensors}
    with plain_reads():  # (a subclass's __torch_function__ sees none of it)
        saved = [(t, t.grad) for t in unique.values()]
        # torch lets no Python code set a nested tensor's .grad (its setter asks the sizes a
        # nested tensor does not have): set aside, it could not be put back, and the pass's
        # gradient would stay in its place. Refused before anything is changed.
        if any(grad is not None and grad.is_nested for _tensor, grad in saved):
            raise ValueError(_(NESTED_GRAD_KEPT))
    with plain_reads(), torch.no_grad():  # (nor a caller's mode no_grad)
        for t, _grad in saved:
            t.grad = None
    try:
        yield
    finally:
        with plain_reads(), torch.no_grad():  # (nor a caller's mode no_grad)
            for t, grad in saved:
                t.grad = grad


def _as_list(tensor) -> list:
    return list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
