"""Names for graph nodes: the user's variables, ``nn.Module`` parameters and scopes.

Module and parameter names come from the ``nn.Module`` objects left in the
snippet's namespace (as ``named_modules`` / ``named_parameters`` name them: ``model1.3``,
``model1.0.weight``). They are prefixed with the variable name only when more
than one top-level module owns parameters, or when the module owns none (a
loss module such as ``loss_fn``), so the usual single model reads as in its
own ``named_parameters()``.
"""

from __future__ import annotations

import weakref

import torch

from gradstep.autograd.grad_marks import is_noted, note_tensor
from gradstep.autograd.safe_reads import is_plain, plain_reads
from gradstep.autograd.trace import node_key

_CANDIDATES = 16  # the names a run keeps as earlier roots (``Bindings.earlier_roots``)


def _GONE():  # noqa: N802 (stands in for a weak reference let go: dead, as it reads)
    return None


class Bindings:
    """The tensors the snippet bound to its own top-level names, in order.

    ``bind_tensor(name, t, fn)`` is called (through ``observe.Observer.bind``)
    after each top-level assignment, with ``t``'s node when it could be read
    safely. Ops are labelled by the first name their output was bound to;
    leaves are kept as weak references so labels never keep tensors alive.

    A leaf's label is its first name, made unique among the live leaves: ``a = w; w =
    new leaf`` labels the first ``w`` and the new one ``w (2)`` (the window finds each
    leaf's ``.grad`` by its label). A name whose leaf is gone is free again (``x = new
    leaf`` in a loop keeps ``x``). Only leaves that require grad count: ``x = data; d = x;
    x = new leaf`` keeps ``x``. A label a list's item gave (``ps[0]``, ``item=True``) yields to
    a plain name bound to that leaf later (``w, b = params``: ``w``), until a pass of the
    snippet's read the labels (``settle``: the pass and the graph must say the same).
    """

    def __init__(self):
        self.op_labels: dict = {}
        self.leaf_labels: dict[int, tuple[weakref.ref, str]] = {}
        self.last_with_grad_fn: tuple[str, weakref.ref] | None = None
        # name -> ``grad_marks.note_tensor`` of its tensor, in order: the last op whose node
        # was read and the views bound after it (``take_earlier_roots``), once a view is bound
        # after it. Not a weak reference (the snippet counts those), not an id (a dead tensor's
        # id is reused): torch's watch
        self._candidates: dict[str, tuple] = {}
        self._leaf_of_label: dict[str, int] = {}  # label -> id of the leaf it labels
        self._last_count: dict[str, int] = {}  # name -> the last n of its ``name (n)``
        self._items: set[int] = set()  # ids of leaves labelled as a list's item, not settled
        # name -> (``note_tensor`` of a plain view bound to it whose node was read as torch
        # made it, its ``_version`` then): ``view_node``
        self._views: dict[str, tuple] = {}

    def bind_tensor(self, name: str, t: torch.Tensor, fn, item: bool = False) -> None:
        if self._views:
            self._views.pop(name, None)
        if fn is not None:
            self.op_labels.setdefault(node_key(fn), name)
            if t._is_view() and is_plain(t):
                self._views[name] = (note_tensor(t), t._version)
            self.last_with_grad_fn = (name, weakref.ref(t))
            if self._candidates:
                self._candidates = {}
        elif t.requires_grad and t._is_view():
            # a view whose node was not read (reading it may rebuild it): still a root candidate
            last = self.last_with_grad_fn
            before = last[1]() if last is not None and not self._candidates else None
            if before is not None:  # the op bound before it, noted only now (a bind per op)
                self._candidates[last[0]] = note_tensor(before)
            self.last_with_grad_fn = (name, weakref.ref(t))
            self._candidates.pop(name, None)
            if len(self._candidates) >= _CANDIDATES:
                del self._candidates[next(iter(self._candidates))]
            self._candidates[name] = note_tensor(t)
        else:
            entry = self.leaf_labels.get(id(t))
            # Also without requires_grad: `a.requires_grad_()` may make it a leaf later.
            # (An entry whose tensor is gone is the new one's: it took that id.)
            ident = id(t)
            if entry is None or entry[0] is not _GONE and entry[0]() is None:
                self.leaf_labels[ident] = (weakref.ref(t), self._free_label(name, ident))
                if item:
                    self._items.add(ident)
                elif self._items:
                    self._items.discard(ident)
            elif self._items and not item and ident in self._items:  # a plain name: it takes the item's place
                self._items.discard(ident)
                self.leaf_labels[ident] = (entry[0], self._free_label(name, ident))

    def view_node(self, name: str, t: torch.Tensor):
        """Return the node of the view ``t`` that ``name`` holds, where ``name`` was bound to that
        very view with its node read as torch made it (``bind_tensor``) and its version has not
        moved since (no in-place change of it or of its base): torch then hands out the node it
        keeps, exactly as it did then, rebuilding nothing (it rebuilds a view's node only once
        the version moved past the one the node was made at). Else None: a view's node is left
        unread (``safe_reads.grad_fn_of``)."""
        entry = self._views.get(name)
        if entry is None or not is_noted(t, entry[0]):
            return None
        with plain_reads():
            return t.grad_fn if t._version == entry[1] else None

    def take_earlier_roots(self) -> list:
        """Return ``[(name, note)]`` for the tensors bound before the last candidate, the
        latest first: the last op whose node was read and the views bound after it, for where
        the last candidate is a view with no node (a leaf: ``w = torch.arange(6.).view(2,
        3).requires_grad_()``); forget them (torch swaps no watched tensor). The caller takes
        one only where its name still holds that very tensor (``grad_marks.is_noted``)."""
        earlier = list(reversed(list(self._candidates.items())[:-1]))
        self._candidates = {}
        return earlier

    def settle(self) -> None:
        """A pass reads the labels now: the items' ones stay (``bind_tensor``)."""
        self._items.clear()

    def _free_label(self, name: str, ident: int) -> str:
        """Return ``name``, or ``name (2)``, ``name (3)``… where a live leaf has it."""
        label = name
        if self._taken(name):  # counted on from the last number given: no walk over them all
            count = self._last_count.get(name, 1)
            while self._taken(label):
                count += 1
                label = f"{name} ({count})"
            self._last_count[name] = count
        self._leaf_of_label[label] = ident
        return label

    def _taken(self, label: str) -> bool:
        """Whether a live leaf that requires grad (or one ``let_go`` set aside) has ``label``."""
        entry = self.leaf_labels.get(self._leaf_of_label.get(label, -1))
        if entry is None or entry[1] != label:
            return False
        t = entry[0]()
        return entry[0] is _GONE or t is not None and t.requires_grad

    def let_go(self, tensors) -> list:
        """Drop the weak references to ``tensors`` (``swaps``: torch swaps no tensor that
        has one); return what ``hold_again`` needs to make them again."""
        taken = []
        for t in tensors:
            entry = self.leaf_labels.get(id(t))
            if entry is not None and entry[0]() is t:
                self.leaf_labels[id(t)] = (_GONE, entry[1])
                taken.append(("leaf", t))
            for name, note in list(self._candidates.items()):  # (its TensorImpl changes)
                if is_noted(t, note):
                    del self._candidates[name]
            for name, (note, _version) in list(self._views.items()):  # (torch's watch: as above)
                if is_noted(t, note):
                    del self._views[name]
            last = self.last_with_grad_fn
            if last is not None and last[1]() is t:
                self.last_with_grad_fn = (last[0], _GONE)
                taken.append(("last", t))
        return taken

    def hold_again(self, taken: list) -> None:
        """Make the weak references ``let_go`` dropped again (the same objects: a swap
        keeps each one's identity)."""
        for kind, t in taken:
            if kind == "leaf" and self.leaf_labels.get(id(t), (None,))[0] is _GONE:
                self.leaf_labels[id(t)] = (weakref.ref(t), self.leaf_labels[id(t)][1])
            elif kind == "last" and self.last_with_grad_fn is not None \
                    and self.last_with_grad_fn[1] is _GONE:
                self.last_with_grad_fn = (self.last_with_grad_fn[0], weakref.ref(t))

    def labels(self) -> dict:
        """Return ``{node_key: name}`` for ops and for leaves still alive."""
        out = dict(self.op_labels)
        for ident, (ref, name) in self.leaf_labels.items():
            if ref() is not None:
                out[("leaf", ident)] = name
        return out


def top_level_modules(namespace: dict, walks: dict | None = None) -> dict[str, torch.nn.Module]:
    """Return the namespace's modules that are not a submodule of another one there
    (told by ``type()``: ``isinstance`` would run a proxy object's ``__getattribute__``).
    ``walks``, when given, gets ``{id(module): list(walk_modules(module))}`` of each."""
    modules = {k: v for k, v in namespace.items()
               if issubclass(type(v), torch.nn.Module) and not k.startswith("__")}
    walks = {} if walks is None else walks
    inner: set[int] = set()
    for module in modules.values():
        walked = walks.get(id(module))
        if walked is None:
            walked = walks[id(module)] = list(walk_modules(module))
        inner.update(id(m) for _, m in walked if m is not module)
    return {k: m for k, m in modules.items() if id(m) not in inner}


def module_prefixes(namespace: dict, walks: dict | None = None) -> dict[str, tuple[torch.nn.Module, str]]:
    """Return ``{variable: (module, prefix)}`` for the top-level modules (``walks``: as
    ``top_level_modules``)."""
    walks = {} if walks is None else walks
    tops = top_level_modules(namespace, walks)
    owners = [k for k, m in tops.items() if any(True for _ in _parameters_in(walks[id(m)]))]
    out = {}
    for name, module in tops.items():
        alone = len(owners) == 1 and name in owners
        out[name] = (module, "" if alone else name)
    return out


def module_names(namespace: dict) -> tuple[dict[int, str], dict[int, str]]:
    """Return ``({id(module): scope name}, {id(parameter): parameter name})``."""
    scopes: dict[int, str] = {}
    params: dict[int, str] = {}
    walks: dict = {}  # each module walked once (the walks read dicts only: no snippet code)
    for _var, (module, prefix) in module_prefixes(namespace, walks).items():
        walked = walks[id(module)]
        # each name joined as ``prefix.name`` (or whichever of the two is not empty),
        # written out: no call a module and a parameter
        for name, sub in walked:
            scopes.setdefault(id(sub), f"{prefix}.{name}" if prefix and name else prefix or name)
        for name, param in _parameters_in(walked):
            params.setdefault(id(param), f"{prefix}.{name}" if prefix and name else prefix or name)
    return scopes, params


def walk_modules(module: torch.nn.Module):
    """Yield ``(name, submodule)`` as ``nn.Module.named_modules()`` does, module first.

    Read from the modules' ``_modules`` dicts, not by calling ``named_modules``: a
    snippet's class may override it (with a print, say), and its code must run only
    when the snippet calls it."""
    seen: set = set()
    stack = [("", module)]
    while stack:
        prefix, current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield prefix, current
        children = vars(current).get("_modules")
        if children:
            stack.extend((f"{prefix}.{name}" if prefix and name else prefix or name, child)
                         for name, child in reversed(children.items()) if child is not None)


def walk_parameters(module: torch.nn.Module):
    """Yield ``(name, parameter)`` as ``nn.Module.named_parameters()`` does (each parameter
    once, under its first name), from the ``_parameters`` dicts (see ``walk_modules``)."""
    return _parameters_in(walk_modules(module))


def _parameters_in(walked):
    """Yield ``walk_parameters``' pairs from ``walk_modules``' pairs."""
    seen: set = set()
    for prefix, current in walked:
        for name, parameter in (vars(current).get("_parameters") or {}).items():
            if parameter is None or id(parameter) in seen:
                continue
            seen.add(id(parameter))
            yield f"{prefix}.{name}" if prefix and name else prefix or name, parameter


class ScopeNames:
    """The scope name of each graph node: ``get(node_key, default)``.

    An op's scope is the innermost named module whose call made it (from the
    ScopeIndex of the run); a parameter leaf's is its module's.
    """

    def __init__(self, index, scope_names: dict[int, str], param_names: dict[int, str] | None = None):
        self.index = index
        self.scope_names = scope_names
        self.leaves = {("leaf", ident): name.rpartition(".")[0]
                       for ident, name in (param_names or {}).items()}

    def get(self, key, default: str = "") -> str:
        if key[0] == "leaf":
            return self.leaves.get(key, default)
        index = self.index
        call = index.innermost(key[1]) if index is not None else -1
        return _scope_of(call, index, self.scope_names) if call >= 0 else default

    def of_keys(self, keys) -> dict:
        """Return ``{key: get(key)}`` for the op keys of ``keys`` that have a scope (None
        entries are leaves: ``get`` answers them from ``leaves``, which the dict starts
        as). The same answers as ``get``, each module call's found once (a call makes
        several nodes): for one walk of a graph, whose modules all live meanwhile."""
        out = dict(self.leaves)
        index = self.index
        if index is None:
            return out
        innermost, scope_names, by_call = index.innermost, self.scope_names, {}
        for key in keys:
            if key is None or key[0] != "op":
                continue
            call = innermost(key[1])
            if call < 0:
                continue
            scope = by_call.get(call)
            if scope is None:
                scope = by_call[call] = _scope_of(call, index, scope_names)
            out[key] = scope
        return out


def _scope_of(call: int, index, scope_names: dict) -> str:
    """Return the innermost named module of the module calls around a node, from its
    innermost ``call`` outwards (``ScopeIndex.stack_of`` read innermost first, without
    building it); an unnamed one (``nn.ReLU()(x)`` inline) is named by its class."""
    module_ids, parents, at = index.module_ids, index.parents, call
    while at >= 0:
        ident = module_ids[at]
        if ident in scope_names and index.module(ident) is not None:
            return scope_names[ident]
        at = parents[at]
    return index.class_name(module_ids[call])


def parameter_labels(param_names: dict[int, str]) -> dict:
    """Return ``{leaf node_key: parameter name}``."""
    return {("leaf", ident): name for ident, name in param_names.items()}
