"""Names for graph nodes: the user's variables, ``nn.Module`` parameters and scopes.

Module and parameter names come from the ``nn.Module`` objects left in the
snippet's namespace (``named_modules`` / ``named_parameters``: ``model1.3``,
``model1.0.weight``). They are prefixed with the variable name only when more
than one top-level module owns parameters, or when the module owns none (a
loss module such as ``loss_fn``), so the usual single model reads as in its
own ``named_parameters()``.
"""

from __future__ import annotations

import bisect
import weakref

import torch

from app.autograd.trace import node_key


class Bindings:
    """The tensors the snippet bound to its own top-level names, in order.

    ``bind(names)`` is called by the rewritten snippet after each assignment.
    Ops are labelled by the first name their output was bound to; leaves are
    kept as weak references so labels never keep tensors alive.
    """

    def __init__(self):
        self.op_labels: dict = {}
        self.leaf_labels: dict[int, tuple[weakref.ref, str]] = {}
        self.last_with_grad_fn: tuple[str, weakref.ref] | None = None

    def bind(self, names: dict) -> None:
        for name, value in names.items():
            if isinstance(value, torch.Tensor):
                self._bind_tensor(name, value)

    def _bind_tensor(self, name: str, t: torch.Tensor) -> None:
        fn = t.grad_fn
        if fn is not None:
            self.op_labels.setdefault(node_key(fn), name)
            self.last_with_grad_fn = (name, weakref.ref(t))
        elif id(t) not in self.leaf_labels:
            # Also without requires_grad: `a.requires_grad_()` may make it a leaf later.
            self.leaf_labels[id(t)] = (weakref.ref(t), name)

    def labels(self) -> dict:
        """Return ``{node_key: name}`` for ops and for leaves still alive."""
        out = dict(self.op_labels)
        for ident, (ref, name) in self.leaf_labels.items():
            if ref() is not None:
                out[("leaf", ident)] = name
        return out


def top_level_modules(namespace: dict) -> dict[str, torch.nn.Module]:
    """Return the namespace's modules that are not a submodule of another one there."""
    modules = {k: v for k, v in namespace.items()
               if isinstance(v, torch.nn.Module) and not k.startswith("__")}
    inner: set[int] = set()
    for module in modules.values():
        inner.update(id(m) for m in module.modules() if m is not module)
    return {k: m for k, m in modules.items() if id(m) not in inner}


def module_prefixes(namespace: dict) -> dict[str, tuple[torch.nn.Module, str]]:
    """Return ``{variable: (module, prefix)}`` for the top-level modules."""
    tops = top_level_modules(namespace)
    owners = [k for k, m in tops.items() if any(True for _ in m.parameters())]
    out = {}
    for name, module in tops.items():
        alone = len(owners) == 1 and name in owners
        out[name] = (module, "" if alone else name)
    return out


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def module_names(namespace: dict) -> tuple[dict[int, str], dict[int, str]]:
    """Return ``({id(module): scope name}, {id(parameter): parameter name})``."""
    scopes: dict[int, str] = {}
    params: dict[int, str] = {}
    for _var, (module, prefix) in module_prefixes(namespace).items():
        for name, sub in module.named_modules():
            scopes.setdefault(id(sub), _join(prefix, name))
        for name, param in module.named_parameters():
            params.setdefault(id(param), _join(prefix, name))
    return scopes, params


class ScopeMap(dict):
    """``{node_key: scope}`` that also answers for nodes the recorder never saw.

    Nodes made inside one torch call (``F.linear`` on a 3-D input, the whole of
    ``F.multi_head_attention_forward``) are not seen by the recorder, but their
    sequence numbers lie between the previous recorded node's and the call's
    output node's: ``get`` gives them the scope of the next recorded node.
    """

    def __init__(self, scopes: dict):
        super().__init__(scopes)
        ops = sorted((key[1], scope) for key, scope in scopes.items() if key[0] == "op")
        self._seqs = [seq for seq, _ in ops]
        self._scopes = [scope for _, scope in ops]

    def get(self, key, default=None):
        if key in self:
            return self[key]
        if key[0] != "op":
            return default
        i = bisect.bisect_left(self._seqs, key[1])
        return self._scopes[i] if i < len(self._seqs) else default


def resolve_scopes(stacks: dict, modules: dict[int, torch.nn.Module], scope_names: dict,
                   param_names: dict[int, str] | None = None) -> ScopeMap:
    """Return the ScopeMap of the recorded module stacks, plus parameter leaves.

    The scope is the innermost named module's name; a module the namespace
    cannot reach (``nn.ReLU()(x)`` inline) is named by its class. A parameter
    leaf's scope is its module's (``model1.0.weight`` -> ``model1.0``).
    """
    out = {key: _scope_of(stack, modules, scope_names) for key, stack in stacks.items()}
    for ident, name in (param_names or {}).items():
        out[("leaf", ident)] = name.rpartition(".")[0]
    return ScopeMap(out)


def _scope_of(stack: tuple, modules: dict, scope_names: dict) -> str:
    for ident in reversed(stack):
        if ident in scope_names:
            return scope_names[ident]
    module = modules.get(stack[-1]) if stack else None
    return type(module).__name__ if module is not None else ""


def parameter_labels(param_names: dict[int, str]) -> dict:
    """Return ``{leaf node_key: parameter name}``."""
    return {("leaf", ident): name for ident, name in param_names.items()}
