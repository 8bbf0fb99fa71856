"""Record every op's output value, and the module it ran in, while a snippet runs.

A ``TorchFunctionMode`` sees each torch call made by the snippet (and by
``nn.Module.forward``); the output tensors that have a ``grad_fn`` are
summarised at once with ``tensor_value`` — so a later in-place change does not
rewrite what the graph shows — keyed by ``trace.node_key(grad_fn)`` and the
output number. Only summaries are kept (small tensors keep their data), never
the tensors. Calls made *inside* another torch function (for example inside
``F.multi_head_attention_forward``) are not seen: their nodes get no value.

Global module forward hooks keep a stack of the modules running, so each op
also gets the modules it ran in (resolved to names later, see ``names.py``).
"""

from __future__ import annotations

import contextlib

import torch
from torch.nn.modules import module as nn_module
from torch.overrides import TorchFunctionMode

from app.autograd.trace import node_key
from app.autograd.values import tensor_value


class Recorder(TorchFunctionMode):
    """Collects ``values`` and ``scopes`` (module stacks) per graph node key.

    Attributes:
        values: ``{node_key: {output_nr: value dict}}``.
        scopes: ``{node_key: tuple of module ids, outermost first}``.
        modules: ``{id: module}`` for every module seen running (kept alive so
            that ids stay unique until the names are resolved).
    """

    def __init__(self):
        super().__init__()
        self.values: dict = {}
        self.scopes: dict = {}
        self.modules: dict[int, torch.nn.Module] = {}
        self._stack: list[int] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if getattr(func, "__name__", "") == "__get__":  # property reads: nothing computed
            return out
        if out is None and func is torch.Tensor.__setitem__:
            out = args[0]  # x[i] = y changed x in place (CopySlices)
        self._record(out, in_place=_is_in_place(func))
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
        try:
            # Summaries must not pass through the torch-function modes below us
            # (the device mode): that Python hop per reduction would dominate.
            with torch._C.DisableTorchFunction():
                value = tensor_value(t)
        except Exception:  # an exotic tensor we cannot summarise must not fail the snippet
            value = None
        # First sight wins: an op returning its input unchanged (dropout p=0,
        # nn.Identity) must not move the node into its own module.
        self.values.setdefault(key, {}).setdefault(t.output_nr, value)
        self.scopes.setdefault(key, tuple(self._stack))

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
            with self:
                yield self
        finally:
            pre.remove()
            post.remove()
            self._stack.clear()


def _is_in_place(func) -> bool:
    """Return True for ``add_``, ``__iadd__``, ``__setitem__`` and the like."""
    name = getattr(func, "__name__", "")
    if name.startswith("__"):
        return name.startswith("__i") or name == "__setitem__"
    return name.endswith("_")
