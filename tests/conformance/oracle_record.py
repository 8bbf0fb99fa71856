"""Watch a running case from inside torch's API: the output of every torch call.

``Recorder`` is a ``torch.overrides.TorchFunctionMode`` (the oracle's second
watching mechanism, beside ``oracle_observe``'s trace function). Right after
each torch call made while it is active (the case's own code, library code,
``Tensor`` methods and operators) returns, it summarises every output tensor
that needs grad, keyed by the identity of its ``grad_fn`` object and its
``output_nr`` (the objects are kept alive, so identities stay valid; never
sequence numbers), with the tensor's ``_version`` at that moment.

An output counts only when it was recorded right after the op that made its
node:

- a new object (not one of the call's inputs): its node was made during the
  call (``grad_fn._sequence_nr()`` at least the counter read before the call),
  or the tensor was never changed in place (``_version == 0``);
- one of the call's inputs (an in-place op, ``x.add_(1)``): only when the call
  changed its version and made its node (sequence number as above); an input
  returned unchanged (``contiguous()`` of a contiguous tensor) is not read at
  all, since reading an older view's ``grad_fn`` may rebuild its node, nor is
  a view changed under ``no_grad`` or by a Python function (it may be stale).

A new view's ``grad_fn`` is read right after the op that made it, while it is
fresh (a Python-level torch function could in principle return a view it made
stale itself: reading it would rebuild its node earlier than the plain run
does, the same node with another sequence number, which this run does not
report). Property reads (``t.grad``, ``t._base``) compute nothing and are left
alone. Only plain tensors are read (a subclass's attributes run its own code).

A mode changes what torch does: with one active, ``has_torch_function`` is
true, so ``nn.MultiheadAttention`` and ``nn.TransformerEncoder`` skip their
fast path. The oracle therefore uses this run's values only when the run's
output, exception, graph and leaf ``.grad`` equal the plain run's (``oracle.py``).

Each call runs through a one-line trampoline whose code carries the file,
line and globals of the frame that called the torch function: a warning torch
raises from C++ names the innermost Python frame, and a Python function's
``warnings.warn(..., stacklevel=k)`` a frame above it; without the trampoline
that frame would be the recorder's, with its own ``__warningregistry__``
(another location, another "once per location").

``Recorder(outside_modules=True)`` is the fallback for a case the mode
disturbs: the mode is taken off torch's mode stack while the outermost
``nn.Module`` call runs (global forward pre-hook and an always-called forward
hook), so a module's fast-path checks see no mode; the case's own code and
functions outside modules are still recorded, and each module call's outputs are
recorded by the hook with the same rule (not one of the module's inputs; its
node made during the module call, or never changed in place).

Nodes made inside one C++ call (the ``TBackward0`` of a 2-D ``F.linear``) are
returned by no call: this mechanism never sees them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types

import torch
from oracle_facts import CONTAINERS, is_a, items_of, sequence_nr, summarize, traced
from oracle_values import same_value
from torch._C._autograd import _get_sequence_nr
from torch.nn.modules import module as nn_module
from torch.overrides import TorchFunctionMode

_PLAIN = (torch.Tensor, torch.nn.Parameter)
_PROPERTY_ACCESS = {"__get__", "__set__", "__delete__"}


_OVERRIDES = os.path.join("torch", "overrides.py")
_call = lambda func, args, kwargs: func(*args, **kwargs)  # noqa: E731  (one line: one lineno)


class Recorder(TorchFunctionMode):
    """The mode and what it saw: ``values`` ``{(grad_fn, output_nr): (version, summary)}``
    (the first valid sighting) and ``conflicts`` (keys seen again with another value at
    the same version)."""

    def __init__(self, *, outside_modules: bool = False):
        super().__init__()
        self.outside_modules = outside_modules
        self.values: dict = {}
        self.conflicts: set = set()
        self.calls = 0
        self._trampolines: dict = {}  # (caller code, line) -> _call as if written there
        self._modules: list = []  # module calls in progress: (module, inputs, before, off)

    @contextlib.contextmanager
    def active(self):
        """Record while the block runs (the mode, and with ``outside_modules`` the hooks)."""
        hooks = []
        if self.outside_modules:
            hooks = [nn_module.register_module_forward_pre_hook(self._enter_module),
                     nn_module.register_module_forward_hook(self._leave_module, always_call=True)]
        try:
            with self:
                try:
                    yield self
                finally:  # a BaseException left a module call without its forward hook
                    if any(off for *_, off in self._modules):
                        torch._C._push_on_torch_function_stack(self)
                    self._modules.clear()
        finally:
            for hook in hooks:
                hook.remove()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        try:
            call = self._trampoline(func, sys._getframe(1))
        except Exception:  # the recorder must never break the case
            call = _call
        if getattr(func, "__name__", None) in _PROPERTY_ACCESS or traced():
            return call(func, args, kwargs)  # under torch.jit.trace a summary's ops would be traced
        before = _get_sequence_nr()
        versions = _versions(args)
        out = call(func, args, kwargs)
        self.calls += 1
        try:
            self._outputs_of(out, func, args, kwargs, versions, before)
        except Exception:
            pass
        return out

    def _outputs_of(self, out, func, args, kwargs, versions: list, before: int) -> None:
        if isinstance(out, torch.Tensor):
            items = (out,)
        elif isinstance(out, CONTAINERS):  # torch.return_types are tuples too
            items = out
        else:
            return
        inputs = None
        for t in items:
            if type(t) not in _PLAIN or not t.requires_grad:
                continue
            old = next((v for a, v in versions if a is t), None)
            if old is not None:
                if t._version != old and _rebuilt(t, func):
                    fn = t.grad_fn  # changed in place by this call, its node rebuilt now
                    if fn is not None and sequence_nr(fn) >= before:
                        self.record(fn, t.output_nr, t)
                continue  # else returned unchanged, or not safely readable
            if inputs is None:
                inputs = _tensors_in(args, kwargs)
            if any(t is a for a in inputs):
                continue  # an input nested in a list, returned as it is
            fn = t.grad_fn  # a new object: a view's node is fresh right after the op
            if fn is not None and (sequence_nr(fn) >= before or t._version == 0):
                self.record(fn, t.output_nr, t)

    def _enter_module(self, module, inputs) -> None:
        off = False
        if not self._modules:  # the outermost module call: take the mode off the stack
            depth = torch._C._len_torch_function_stack()
            if depth and torch._C._get_function_stack_at(depth - 1) is self:
                torch._C._pop_torch_function_stack()
                off = True
        self._modules.append((module, inputs, _get_sequence_nr(), off))

    def _leave_module(self, module, inputs, output) -> None:
        if not self._modules or self._modules[-1][0] is not module:
            return  # its pre-hook did not run (an earlier pre-hook raised)
        _, inputs, before, off = self._modules.pop()
        try:
            if not traced():  # see __torch_function__
                self._module_outputs(output, inputs, before)
        except Exception:
            pass
        if off:
            torch._C._push_on_torch_function_stack(self)

    def _module_outputs(self, output, inputs, before: int) -> None:
        if is_a(output, dict):
            output = list(dict.values(output))  # never a subclass's own values()
        items = items_of(output) if is_a(output, CONTAINERS) else (output,)
        given = _tensors_in(inputs, {})
        for t in items:
            if type(t) not in _PLAIN or not t.requires_grad or any(t is a for a in given):
                continue
            fn = t.grad_fn
            if fn is not None and (sequence_nr(fn) >= before or t._version == 0):
                self.record(fn, t.output_nr, t)

    def _trampoline(self, func, frame):
        """Return ``_call`` with the file, line and globals of the frame that called the
        torch function: ``frame`` (the mode's caller) unless that is ``torch.overrides``
        or the Python function's own first frame (its ``handle_torch_function`` call)."""
        while frame.f_back is not None and frame.f_code.co_filename.endswith(_OVERRIDES):
            frame = frame.f_back
        if frame.f_back is not None and frame.f_code is getattr(func, "__code__", None):
            frame = frame.f_back
        code = frame.f_code
        key = (code, frame.f_lineno)
        function = self._trampolines.get(key)
        if function is None:
            moved = _call.__code__.replace(co_filename=code.co_filename,
                                           co_firstlineno=frame.f_lineno, co_name=code.co_name)
            function = self._trampolines[key] = types.FunctionType(moved, frame.f_globals)
        return function

    def record(self, fn, output_nr: int, t: torch.Tensor) -> None:
        """Keep the first valid sighting of ``(fn, output_nr)``; a later one with another
        value at the same version makes the key a conflict."""
        key = (fn, output_nr)
        version = t._version
        old = self.values.get(key)
        if old is not None and old[0] != version:
            return
        value = summarize(t)
        if old is None:
            self.values[key] = (version, value)
        elif not same_value(old[1], value):
            self.conflicts.add(key)


def _rebuilt(t: torch.Tensor, func) -> bool:
    """Return True when reading ``t.grad_fn`` after ``func`` changed ``t`` in place rebuilds
    nothing: ``t`` is not a view (a plain field), or a C function changed it with grad mode
    on (torch rebased the view's history during the call). After an in-place op under
    ``no_grad``, or inside a Python function, a view may be stale."""
    if not t._is_view():
        return True
    return torch.is_grad_enabled() and not hasattr(func, "__code__")


def _versions(args) -> list:
    """Return ``[(tensor, _version)]`` of the call's plain tensor arguments (an inference
    tensor has no version counter: it cannot be one of the outputs read here)."""
    try:
        return [(a, a._version) for a in args if type(a) in _PLAIN and not a.is_inference()]
    except Exception:
        return []


def _tensors_in(args, kwargs) -> list:
    """Return the tensors among the call's arguments (also inside lists, tuples, dicts)."""
    found: list = []
    stack = [args, list(kwargs.values())]
    while stack:
        item = stack.pop()
        if is_a(item, torch.Tensor):
            found.append(item)
        elif is_a(item, CONTAINERS):
            stack.extend(items_of(item))
        elif is_a(item, dict):
            stack.extend(dict.values(item))
    return found
