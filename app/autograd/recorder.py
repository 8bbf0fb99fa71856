"""Record every op's output value, and the module it ran in, while a snippet runs.

A ``TorchFunctionMode`` sees each torch call made by the snippet (and by
``nn.Module.forward``); the output tensors that have a ``grad_fn`` are
summarised at once with ``tensor_value`` — so a later in-place change does not
rewrite what the graph shows — keyed by ``trace.node_key(grad_fn)`` and the
output number. Only summaries are kept (small tensors keep their data), never
the tensors. While each call runs, a ``TorchDispatchMode`` also sees the aten
ops below autograd, so nodes made *inside* one call (the reshapes around a
3-D ``F.linear``, the whole of ``F.multi_head_attention_forward``) get their
values too, matched to their node by autograd's sequence number.

Global module forward hooks keep a stack of the modules running, so each op
also gets the modules it ran in (resolved to names later, see ``names.py``).
"""

from __future__ import annotations

import collections
import contextlib
import sys
import weakref

import torch
from torch._C._autograd import _get_sequence_nr
from torch.nn.modules import module as nn_module
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from app.autograd.trace import node_key
from app.autograd.values import tensor_value


class ValueMap(dict):
    """``{node_key: {output_nr: value}}`` that also finds values captured below autograd.

    Those are stored under ``("op", sequence_nr, None)``: at that level the
    node's name is not known yet, its sequence number is.
    """

    def __init__(self):
        super().__init__()
        # id(leaf) -> (weak reference to it, its region when summarised, summary): no
        # tensor is kept alive by the values
        self.leaves: dict = {}

    def leaf_value(self, t: torch.Tensor) -> dict | None:
        """Return the summary made of leaf ``t`` while the snippet ran, or None when there
        is none or ``t`` changed since (another memory region, shape or version)."""
        hit = self.leaves.get(id(t))
        if hit is None or hit[0]() is not t or hit[1] != _region(t):
            return None
        return hit[2]

    def get(self, key, default=None):
        if key in self:
            return self[key]
        if key and key[0] == "op":
            return super().get(("op", key[1], None), default)
        return default


class Recorder(TorchFunctionMode):
    """Collects ``values`` and ``scopes`` (module stacks) per graph node key.

    Attributes:
        values: ValueMap ``{node_key: {output_nr: value dict}}``.
        scopes: ``{node_key: tuple of module ids, outermost first}``.
        modules: ``{id: module}`` for every module seen running (kept alive so
            that ids stay unique until the names are resolved).
    """

    def __init__(self, *, deep: bool = True):
        super().__init__()
        self.values: ValueMap = ValueMap()
        self.scopes: dict = {}
        self.modules: dict[int, torch.nn.Module] = {}
        self._stack: list[int] = []
        self._deep = _DeepCapture(self) if deep else None
        self._same_elements = _SameElements(self.values.leaves)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name == "__get__":  # property reads: nothing computed
            return func(*args, **(kwargs or {}))
        if self._deep is not None:
            self._deep.keep_dynamo_out()
        if self._deep is not None and name in _NOT_DEEP:
            with self._deep.paused():
                out = func(*args, **(kwargs or {}))
        else:
            out = func(*args, **(kwargs or {}))
        if out is None and func is torch.Tensor.__setitem__:
            out = args[0]  # x[i] = y changed x in place (CopySlices)
        self._record(out, in_place=_is_in_place(name))
        if self._deep is not None:
            self._deep.sync()  # nodes made after the last aten op (CopySlices) are not its
        return out

    def _record(self, out, *, in_place: bool) -> None:
        if isinstance(out, torch.Tensor):
            self._record_tensor(out)
            if in_place and out._base is not None:
                self._record_tensor(out._base)  # the base's CopySlices node
        elif isinstance(out, (tuple, list)):
            for item in out:
                if isinstance(item, torch.Tensor):
                    self._record_tensor(item)

    def _record_tensor(self, t: torch.Tensor) -> None:
        fn = t.grad_fn
        if fn is None:
            return
        key = node_key(fn)
        outputs = self.values.setdefault(key, {})
        # First sight wins: an op returning its input unchanged (dropout p=0,
        # nn.Identity) must not move the node into its own module.
        if t.output_nr not in outputs:
            deep = self.values.get(("op", key[1], None)) if key[0] == "op" else None
            outputs[t.output_nr] = deep[t.output_nr] if deep and t.output_nr in deep else summary(t)
        self.scopes.setdefault(key, tuple(self._stack))

    def record_deep(self, seq: int, out, func=None, args=()) -> None:
        """Record the outputs of an aten op whose autograd node has sequence number ``seq``."""
        key = ("op", seq, None)
        if isinstance(out, torch.Tensor):
            self.values[key] = {0: self._same_elements.summary(out, func, args)}
        elif isinstance(out, list):  # unbind, split, chunk: one node, one output each
            self.values[key] = {i: summary(t) for i, t in enumerate(out) if isinstance(t, torch.Tensor)}
        elif isinstance(out, tuple) and out and isinstance(out[0], torch.Tensor):
            # (values, indices), (out, mean, rstd); kept for the views made of it next
            self.values[key] = {0: self._same_elements.summary(out[0])}
        self.scopes[key] = tuple(self._stack)

    # ---------------------------------------------------------------- module scope

    def _enter_module(self, module, _inputs) -> None:
        self.modules[id(module)] = module
        self._stack.append(id(module))

    def _leave_module(self, module, _inputs, _output) -> None:
        # Pop down to this module: a forward that raised may have skipped pops.
        while self._stack:
            if self._stack.pop() == id(module):
                break

    @contextlib.contextmanager
    def active(self):
        """Record while the block runs; hooks and the mode are removed even if it raises."""
        pre = nn_module.register_module_forward_pre_hook(self._enter_module)
        post = nn_module.register_module_forward_hook(self._leave_module, always_call=True)
        try:
            with self, (self._deep or contextlib.nullcontext()):
                yield self
        finally:
            pre.remove()
            post.remove()
            self._stack.clear()
            self._same_elements.clear()  # let go of the last tensors now, not at the next GC


class _DeepCapture(TorchDispatchMode):
    """Sees every aten op below autograd while the snippet runs, so the nodes
    made inside composite calls (``F.linear`` on 3-D input, attention) get values.

    Autograd creates an op's node, which takes the next sequence number, just
    before it dispatches the op down here: when the counter moved since the
    last op, the op's node is ``counter - 1``.
    """

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Otherwise torch wraps __torch_dispatch__ in torch._dynamo.disable, and the
        # first op imports torch._dynamo: about 1.5 s and 100 MB per process.
        return False

    def __init__(self, recorder: Recorder):
        super().__init__()
        self.recorder = recorder
        self.on = True
        self.last = _get_sequence_nr()

    def sync(self) -> None:
        self.last = _get_sequence_nr()

    @contextlib.contextmanager
    def paused(self):
        """Record nothing while the block runs (a backward pass)."""
        self.on = False
        try:
            yield
        finally:
            self.on = True
            self.sync()

    def _record_dispatch(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not self.on:
            return out
        now = _get_sequence_nr()
        if now != self.last:
            self.last = now
            self.recorder.record_deep(now - 1, out, func, args)
        return out

    __torch_dispatch__ = _record_dispatch
    dynamo_safe = False

    @classmethod
    def keep_dynamo_out(cls) -> None:
        """Once the snippet has loaded torch._dynamo (``torch.compile``), stop it from
        compiling this handler (which it would, op by op, with warnings)."""
        if not cls.dynamo_safe and "torch._dynamo" in sys.modules:
            cls.__torch_dispatch__ = torch._dynamo.disable(cls._record_dispatch, recursive=True)
            cls.dynamo_safe = True


_aten = torch.ops.aten
# Ops whose output holds exactly the elements of their input, rearranged: its
# statistics are the input's (most nodes of a transformer are such views).
_LAYOUT_OPS = frozenset({
    _aten.view.default, _aten._unsafe_view.default, _aten._reshape_alias.default,
    _aten.t.default, _aten.transpose.int, _aten.permute.default, _aten.alias.default,
    _aten.unsqueeze.default, _aten.squeeze.default, _aten.squeeze.dim, _aten.squeeze.dims,
    _aten.clone.default,
})


class _SameElements:
    """Reuses the summary of a layout op's input for its output.

    The input is found by its memory region (address, shape, strides, dtype and
    version); the last few summarised tensors are held, so their memory cannot
    be reused by another tensor while they are in this cache.
    """

    SIZE = 4

    def __init__(self, leaves: dict | None = None):
        self._recent: collections.OrderedDict = collections.OrderedDict()
        self._leaves = {} if leaves is None else leaves

    def clear(self) -> None:
        self._recent.clear()

    def summary(self, out: torch.Tensor, func=None, args=()) -> dict | None:
        """Return the summary of ``out`` (from the input's when ``func`` only rearranges it).

        A full reduction reads a transposed or permuted tensor in memory order,
        so min, max, sum and norm (and thus every statistic) come out bit for
        bit as for its input.
        """
        value = None
        if func in _LAYOUT_OPS and args and isinstance(args[0], torch.Tensor):
            source = args[0]
            hit = self._recent.get(_region(source))
            if hit is None and source.grad_fn is None and source.requires_grad:
                hit = self._leaf(source)  # a parameter's t(): the trace reuses its summary
            if hit is not None and hit[1] is not None and "data" not in hit[1]:
                value = {**hit[1], "shape": list(out.shape)}
        if value is None:
            value = summary(out)
        if value is not None and "data" not in value and "min" in value:
            self._recent[_region(out)] = (out, value)
            if len(self._recent) > self.SIZE:
                self._recent.popitem(last=False)
        return value


    def _leaf(self, t: torch.Tensor) -> tuple:
        """Return ``(t, summary)`` of a leaf, summarised once per version (kept for the trace)."""
        region = _region(t)
        hit = self._leaves.get(id(t))
        if hit is None or hit[0]() is not t or hit[1] != region:
            hit = (weakref.ref(t), region, summary(t))
            self._leaves[id(t)] = hit
        return (t, hit[2])


def _region(t: torch.Tensor) -> tuple:
    return (t.data_ptr(), t.dtype, tuple(t.shape), t.stride(), t._version)


def summary(t: torch.Tensor) -> dict | None:
    """Return ``tensor_value(t)``, or None for a tensor that cannot be summarised."""
    try:
        # Summaries must not pass through the torch-function modes below us
        # (the device mode), nor through our own dispatch mode when they run at
        # the torch-call level: a Python hop per reduction would triple their cost.
        # Only a plain tensor may skip dispatch: a subclass's data lives there.
        if type(t) in _PLAIN_TENSORS:
            with torch._C.DisableTorchFunction(), torch._C._DisableTorchDispatch():
                return tensor_value(t)
        with torch._C.DisableTorchFunction():
            return tensor_value(t)
    except Exception:  # an exotic tensor we cannot summarise must not fail the snippet
        return None


_PLAIN_TENSORS = (torch.Tensor, torch.nn.Parameter)

# Backward passes run under these: their aten ops make no forward nodes.
_NOT_DEEP = frozenset({"backward", "grad", "_engine_run_backward"})


def _is_in_place(name: str) -> bool:
    """Return True for ``add_``, ``__iadd__``, ``__setitem__`` and the like."""
    if name.startswith("__"):
        return name.startswith("__i") or name == "__setitem__"
    return name.endswith("_")
