"""Walk ``grad_fn.next_functions`` into a ``networkx.MultiDiGraph``.

The walk is breadth-first with an explicit queue and a ``seen`` map (a chain
of 10,000 ops must not hit Python's recursion limit). Node ids are ``n0``,
``n1``, ... in that order, ``n0`` being the (first) root. An edge goes from a
node to the node that receives its gradient; its key is the ``slot`` in the
source's ``next_functions`` (``x * x`` gives two parallel edges).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import torch

from gradstep.autograd.formulas import formula_fields_of
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.index_labels import INDEXING, label_indexing
from gradstep.autograd.op_names import op_name
from gradstep.autograd.pass_versions import versions
from gradstep.autograd.plain_graph import PlainGraph
from gradstep.autograd.safe_reads import (
    ACCUMULATE_GRAD,
    iter_saved_slots,
    name_of,
    plain_reads,
    raw_saved_names,
)
from gradstep.autograd.saved import saved_items
from gradstep.autograd.value_rows import summaries
from gradstep.autograd.values import (
    _DEVICE_NAMES,
    _DTYPE_NAMES,
    device_name,
    dtype_name,
    settled_values,
    shape_of,
    summary,
    summary_record,
)
from gradstep.i18n import _

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class Trace:
    """A traced graph plus the live grad_fn objects behind its node ids."""

    graph: nx.MultiDiGraph | PlainGraph
    root_id: str
    root_ids: list[str] = field(default_factory=list)
    node_of: dict[str, Any] = field(default_factory=dict)
    id_of: dict[Any, str] = field(default_factory=dict)
    # the trace JSON's edge dicts as the walk found them (``trace_graph(json_edges=True)``),
    # until ``serialize.trace_json`` takes them: None after, or when not asked for
    json_edges: list | None = None


def node_key(fn) -> tuple:
    """Return a key naming graph node ``fn`` that does not keep ``fn`` alive.

    Op nodes are keyed by their sequence number and name; AccumulateGrad by the
    identity of the leaf tensor it accumulates into.
    """
    node_type = type(fn)  # is_leaf_node, sequence_nr_of and name_of, inline (~3 calls a node)
    if node_type is ACCUMULATE_GRAD:
        return ("leaf", id(fn.variable))
    return ("op", node_type._sequence_nr(fn), node_type.name(fn))


NAME_PREFIX = "torch::autograd::"  # what ``node_name`` takes off a node's name


def node_name(fn) -> str:
    """Return ``fn.name()`` without any ``torch::autograd::`` prefix."""
    return name_of(fn).removeprefix(NAME_PREFIX)


@cache
def short_op_name(name: str) -> str:
    """Return a short label for an op name: ``MulBackward0`` -> ``mul``, ``MseLossBackward0`` -> ``mse_loss``."""
    return op_name(name)


def grad_fn_roots(roots) -> list:
    """Return the grad_fn objects of ``roots`` (a tensor, a grad_fn, or a list of them).

    Raises ValueError for a tensor that has no grad_fn, TypeError for what is neither a
    tensor nor a grad_fn (a module, a model's output dict, a string).
    """
    if not isinstance(roots, (list, tuple)):  # one tensor or one grad_fn
        roots = [roots]
    if not roots:
        raise ValueError(_("an empty list holds no tensor: pass the tensor to draw (e.g. the "
                           "loss), or a list of tensors"))
    fns = []
    for root in roots:
        if root is not None and not isinstance(root, (torch.Tensor, torch.autograd.graph.Node)):
            raise TypeError(not_a_root(root))
        if isinstance(root, torch.Tensor):
            with plain_reads():  # no subclass's __torch_function__ sees the read
                fn = root.grad_fn
        else:
            fn = root
        if fn is None and isinstance(root, torch.Tensor) and _requires_grad(root):
            raise ValueError(_("the root tensor is a leaf (it requires grad and has no grad_fn): "
                               "a backward call on it runs only its AccumulateGrad, there is no "
                               "graph of ops; compute something from it (y = x * 2) to see one"))
        if fn is None and root is None:
            raise ValueError(_("the root is None, not a tensor: pass the tensor to draw "
                               "(e.g. the loss), computed from one with requires_grad=True"))
        if fn is None:
            raise ValueError(_("the root tensor has no grad_fn: it is not part of an autograd "
                               "graph (compute it from a tensor with requires_grad=True, outside "
                               "torch.no_grad())"))
        fns.append(fn)
    return fns


def not_a_root(value) -> str:
    """Return why ``value`` cannot be a root (it is neither a tensor nor a grad_fn), and what
    to pass instead."""
    kind = type(value).__name__
    if isinstance(value, torch.nn.Module):
        hint = _("pass a tensor computed with it (loss = model(x).sum()), not the {kind} module",
                 kind=kind)
    elif isinstance(value, dict):  # a HuggingFace ModelOutput is a dict too
        hint = _("pass one of its tensors (out.loss, out[\"loss\"], out.logits.sum())")
    else:
        hint = _("pass the tensor to draw (e.g. the loss)")
    return _("expected a tensor (or a list of tensors), got {kind}: {hint}", kind=kind, hint=hint)


def _requires_grad(t: torch.Tensor) -> bool:
    with plain_reads():
        return t.requires_grad


def trace_graph(roots, *, values=None, labels=None, scopes=None, see_saved=None,
                lines=None, plain: bool = False, snippet_done: bool = False,
                json_edges: bool = False) -> Trace:
    """Return the Trace of everything reachable from ``roots`` through ``next_functions``.

    ``values`` maps ``node_key`` to ``{output_nr: value dict}`` (recorded while
    the snippet ran; anything with ``get(key)``), ``labels`` and ``scopes`` map
    ``node_key`` to strings, ``lines`` to the snippet line that made the node
    (``lines.LineIndex``). ``see_saved(nodes, slots_of)``, when given, is called with
    the graph's nodes once they are walked, before their attributes are read (it
    records the values their saved tensors prove, see ``observe``); ``slots_of``
    maps each op node to its ``saved_slots``, read once for both. ``plain``: the graph is
    a ``PlainGraph`` (the same dicts, for a caller that only writes its JSON or a file
    from it: no networkx import), else a ``networkx.MultiDiGraph``. ``snippet_done``: no
    code of the snippet's runs any more, so a saved view may be unpacked to tell whether
    torch refuses it (``saved.saved_items``). ``json_edges``: the walk also lists the trace
    JSON's edge dicts, in its order (``Trace.json_edges``, for ``serialize.trace_json``).
    """
    values, labels, scopes, lines = values or {}, labels or {}, scopes or {}, lines or {}
    graph = PlainGraph() if plain else _networkx_graph()
    trace = Trace(graph=graph, root_id="n0")
    # Nodes and edges go into networkx's own dicts as add_node and add_edge put them
    # (a new node: empty dicts; an edge: both ends exist, and a source's slots differ),
    # without their per-call work. The queue is the nodes in id order: ``n{i}`` is
    # ``queue[i]``, read as it grows (breadth-first).
    succ, pred, node_dicts = graph._succ, graph._pred, graph._node
    id_of, node_of = trace.id_of, trace.node_of
    queue: list = []
    for fn in grad_fn_roots(roots):
        node_id = id_of.get(fn)
        if node_id is None:
            node_id = id_of[fn] = f"n{len(queue)}"
            node_of[node_id] = fn
            succ[node_id], pred[node_id], node_dicts[node_id] = {}, {}, {}
            queue.append(fn)
        trace.root_ids.append(node_id)
    trace.root_id = trace.root_ids[0]
    slot_counts: list = []  # len(next_functions) of each node, in id order, read once
    # Sources come in id order and each one's slots in order: the JSON's (source, slot) order
    edges = trace.json_edges = [] if json_edges else None
    for fn in queue:
        source = id_of[fn]
        targets = succ[source]
        next_functions = fn.next_functions
        slot_counts.append(len(next_functions))
        for slot, (nxt, input_nr) in enumerate(next_functions):
            if nxt is None:  # an input that needs no gradient: torch has no node there
                continue
            target = id_of.get(nxt)
            if target is None:
                target = id_of[nxt] = f"n{len(queue)}"
                node_of[target] = nxt
                succ[target], pred[target], node_dicts[target] = {}, {}, {}
                queue.append(nxt)
            keys = targets.get(target)
            if keys is None:
                targets[target] = pred[target][source] = {slot: {"slot": slot, "input_nr": input_nr}}
            else:  # x * x: a second edge between the same two nodes
                keys[slot] = {"slot": slot, "input_nr": input_nr}
            if edges is not None:
                edges.append({"source": source, "target": target, "slot": slot, "input_nr": input_nr})
    if not plain:
        from gradstep.autograd.graph_json import clear_cache

        clear_cache(graph)
    slots_of: dict = {}
    if see_saved is not None:
        slots_of = _saved_slots_of(queue)
        see_saved(queue, slots_of)
    exact_means = getattr(values, "exact_means", None)  # the store's rule, the leaves' too
    leaf_values = _leaf_values(queue, exact_means is None or exact_means())
    indexing = []  # the select nodes label_indexing may relabel

    def used_by(node_id: str) -> list:  # the nodes that take a leaf as an input
        return [node_of[source] for source in pred[node_id]]

    keys, twins = _op_keys(queue)
    # the scopes and lines of all op nodes at once where the run's own indexes can (each
    # module call's scope found once; ``of_keys`` gives ``get``'s answers in a dict)
    scopes, lines = _of_keys(scopes, keys), _of_keys(lines, keys)
    for node_id, fn, slot_count, key in zip(node_of, queue, slot_counts, keys):
        if key is None:  # a leaf (``_op_keys``)
            node_dicts[node_id] = leaf_attributes(
                fn, node_id, labels, scopes, slots_of.get(fn), slot_count,
                leaf_values.get(fn, _UNKNOWN), used_by, snippet_done)
            continue
        if twins and key in twins:  # which of the two a record was made for is unknown
            attrs = node_dicts[node_id] = op_attributes(
                fn, node_id, key, {}, {}, {}, {}, slots_of.get(fn), slot_count, snippet_done)
        else:
            attrs = node_dicts[node_id] = op_attributes(
                fn, node_id, key, values, labels, scopes, lines, slots_of.get(fn), slot_count,
                snippet_done)
        if attrs["name"] in INDEXING:
            indexing.append((node_id, attrs))
    label_indexing(graph, short_op_name, indexing)  # p[1], p[2] rather than two "select" nodes
    return trace


def _op_keys(fns) -> tuple[list, set]:
    """Return the ``node_key`` of each op node of ``fns`` (None for a leaf), and the keys
    two of them share.

    torch numbers a node from a counter of the thread that made it, so nodes that two
    threads made (the snippet's own threads) may have the same number and name: the
    values, labels, lines and scopes recorded by that key may be either node's, and such
    nodes are shown without them.
    """
    keys: list = []
    seen: set = set()
    twins: set = set()
    for fn in fns:
        node_type = type(fn)
        if node_type is ACCUMULATE_GRAD:
            keys.append(None)
            continue
        key = ("op", node_type._sequence_nr(fn), node_type.name(fn))
        if key in seen:
            twins.add(key)
        seen.add(key)
        keys.append(key)
    return keys, twins


def _of_keys(lookup, keys: list):
    """Return ``lookup.of_keys(keys)`` where ``lookup`` has it (``names.ScopeNames``,
    ``lines.LineIndex``), else ``lookup`` itself (a dict)."""
    of_keys = getattr(lookup, "of_keys", None)
    return lookup if of_keys is None else of_keys(keys)


def _networkx_graph():
    import networkx as nx  # here: a kernel that writes only files never imports it (PlainGraph)

    return nx.MultiDiGraph()


def _leaf_values(fns, exact: bool = True) -> dict:
    """Return ``{fn: summary(fn.variable)}`` for the leaf nodes among ``fns``, the values
    summarised together (``value_rows.summaries``: the same dicts); a leaf whose variable
    cannot be read is left out (``leaf_attributes`` reads it, and fails, itself)."""
    leaves, variables = [], []
    for fn in fns:
        if type(fn) is ACCUMULATE_GRAD:
            try:
                variables.append(fn.variable)
            except Exception as exc:
                reraise_if_handlers(exc)
                continue
            leaves.append(fn)
    if not exact:
        return dict(zip(leaves, summaries(variables, _summary_without_mean)))
    # Records first (``summary_record``: what ``summary`` reads, its small mean and std
    # left waiting), then their means and stds all at once (``settled_values``): one
    # ``rows.mean(1)`` per length and dtype, not one per small leaf.
    return dict(zip(leaves, settled_values(summaries(variables, summary_record))))


def _summary_without_mean(t) -> dict | None:
    """``summary(t)`` with no small float tensor's mean and std (``values.SMALL_MEANS_LIMIT``)."""
    return summary(t, exact=False)


_UNKNOWN = object()  # leaf_attributes' leaf_value when none was made beforehand
_LEAF_NAME = ""  # AccumulateGrad's ``node_name``, once read (``_leaf_name``)


def _leaf_name(fn) -> str:
    """Return ``node_name(fn)`` of an ``AccumulateGrad`` node and keep it as ``_LEAF_NAME``:
    a C++ node class's ``name()`` is its class's name, the same for every node of it (torch
    makes the string anew each call, ~0.7 us a leaf)."""
    global _LEAF_NAME
    _LEAF_NAME = node_name(fn)
    return _LEAF_NAME


def _saved_slots_of(fns) -> dict:
    """Return ``{fn: saved_slots(fn)}`` for the op nodes whose saved slots read cleanly
    (a node that raises is left out: each reader then reads it, and fails, itself)."""
    slots_of = {}
    for fn in fns:
        node_type = type(fn)
        if node_type is ACCUMULATE_GRAD:
            continue
        try:  # (``saved_slots``, inline: most view and pointwise nodes save no tensor)
            slots_of[fn] = list(iter_saved_slots(fn)) if raw_saved_names(node_type) else []
        except Exception as exc:
            reraise_if_handlers(exc)
            continue
    return slots_of


def leaf_attributes(fn, node_id: str, labels: dict, scopes: dict, slots: list | None,
                    slot_count: int, leaf_value, used_by, snippet_done: bool) -> dict:
    """Return the trace JSON's node fields of leaf ``fn`` (an ``AccumulateGrad``), in its
    order (``NODE_FIELDS``): ``slots`` is its ``saved_slots`` or None, ``slot_count`` its
    ``len(next_functions)``, ``leaf_value`` its ``summary(fn.variable)`` when the caller
    made it (else ``_UNKNOWN``), ``used_by(node_id)`` the graph's nodes that take it as an
    input. Arguments by position: ``trace_graph`` asks once a node."""
    key = ("leaf", id(fn.variable))
    variable = fn.variable
    name = _LEAF_NAME or _leaf_name(fn)
    attrs = {"id": node_id, "name": name, "kind": "leaf",
             "label": labels.get(key) or "leaf", "scope": scopes.get(key, ""),
             "shape": shape_of(variable), "dtype": dtype_name(variable.dtype),
             "device": device_name(variable.device),
             "value": summary(variable) if leaf_value is _UNKNOWN else leaf_value,
             "saved": saved_items(fn, slots=slots, snippet_done=snippet_done),
             "seq": None, "line": None, "slots": slot_count}
    # an optimizer step after the pass that ran this graph: the value is not the pass's
    moved = versions(variable, lambda: used_by(node_id))
    if moved is not None:
        attrs["written_after"] = moved
    return attrs


def op_attributes(fn, node_id: str, key: tuple, values, labels: dict, scopes: dict, lines: dict,
                  slots: list | None, slot_count: int, snippet_done: bool) -> dict:
    """Return the trace JSON's node fields of op node ``fn``, in its order (``NODE_FIELDS``):
    ``key`` is its ``node_key``, ``values`` maps keys to ``{output_nr: value dict}`` (a
    ``ValueStore`` or a dict), ``labels``, ``scopes`` and ``lines`` keys to their fields,
    ``slots`` its ``saved_slots`` or None, ``slot_count`` its ``len(next_functions)``.
    Arguments by position: ``trace_graph`` asks once a node."""
    names = _NAMES.get(key[2])
    if names is None:
        name = key[2].removeprefix(NAME_PREFIX)
        names = _NAMES[key[2]] = (name, short_op_name(name))
    name = names[0]
    try:  # the node's first forward output (Nones when unknown)
        meta = fn._input_metadata[0]
        shape = list(meta.shape)
    except (AttributeError, IndexError, RuntimeError, TypeError):
        shape = dtype = device = None
    else:
        if not _INT.issuperset(map(type, shape)):
            shape = None  # a jagged nested tensor's ragged size (a SymInt): no one shape
        dtype, device = meta.dtype, meta.device  # dtype_name and device_name's caches, inline
        dtype = _DTYPE_NAMES.get(dtype) or dtype_name(dtype)
        device = _DEVICE_NAMES.get(device) or device_name(device)
    value = _node_value(values.get(key))
    # Values are matched by tensor identity (observe.py); a shape that is not the
    # node's would still mean another tensor's value: show none rather than it.
    if value is not None and shape is not None and value.get("shape") != shape:
        value = None
    saved = saved_items(fn, slots=slots, snippet_done=snippet_done)
    formula = formula_fields_of(name, saved)
    return {"id": node_id, "name": name, "kind": "op", "label": labels.get(key) or names[1],
            "scope": scopes.get(key, ""), "shape": shape, "dtype": dtype, "device": device,
            "value": value, "saved": saved, "formula": formula["formula"],
            "formula_math": formula["formula_math"], "formula_note": formula["formula_note"],
            "seq": key[1], "line": lines.get(key), "slots": slot_count}


_NAMES: dict = {}  # a node's name() -> (its name without the prefix, its default label)


_INT = frozenset({int})


def _node_value(outputs: dict | None) -> dict | None:
    """Return the recorded value of output 0 (None when output 0 was not captured), with
    every output under ``outputs`` when the node has several."""
    if not outputs or outputs.get(0) is None:
        return None
    first = outputs[0]
    if len(outputs) == 1:
        return first
    count = max(outputs) + 1
    return {**first, "outputs": [outputs.get(i) for i in range(count)]}
