"""Walk ``grad_fn.next_functions`` into a ``networkx.MultiDiGraph``.

The walk is breadth-first with an explicit queue and a ``seen`` map (a chain
of 10,000 ops must not hit Python's recursion limit). Node ids are ``n0``,
``n1``, ... in that order, ``n0`` being the (first) root. An edge goes from a
node to the node that receives its gradient; its key is the ``slot`` in the
source's ``next_functions`` (``x * x`` gives two parallel edges).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import torch

from gradstep.autograd.formulas import formula_fields_of
from gradstep.autograd.index_labels import label_indexing
from gradstep.autograd.plain_graph import PlainGraph
from gradstep.autograd.safe_reads import (
    ACCUMULATE_GRAD,
    is_leaf_node,
    name_of,
    plain_reads,
    saved_slots,
)
from gradstep.autograd.saved import saved_items
from gradstep.autograd.values import device_name, dtype_name, shape_of, summary

if TYPE_CHECKING:
    import networkx as nx

_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass
class Trace:
    """A traced graph plus the live grad_fn objects behind its node ids."""

    graph: nx.MultiDiGraph | PlainGraph
    root_id: str
    root_ids: list[str] = field(default_factory=list)
    node_of: dict[str, Any] = field(default_factory=dict)
    id_of: dict[Any, str] = field(default_factory=dict)


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
    base = _BACKWARD_SUFFIX.sub("", name) or name
    return _CAMEL.sub("_", base).lower()


def grad_fn_roots(roots) -> list:
    """Return the grad_fn objects of ``roots`` (a tensor, a grad_fn, or a list of them).

    Raises ValueError for a tensor that has no grad_fn.
    """
    if not isinstance(roots, (list, tuple)):  # one tensor or one grad_fn
        roots = [roots]
    fns = []
    for root in roots:
        if isinstance(root, torch.Tensor):
            with plain_reads():  # no subclass's __torch_function__ sees the read
                fn = root.grad_fn
        else:
            fn = root
        if fn is None:
            raise ValueError("the root tensor has no grad_fn: it is not part of an autograd graph")
        fns.append(fn)
    return fns


def trace_graph(roots, *, values=None, labels=None, scopes=None, see_saved=None,
                lines=None, plain: bool = False) -> Trace:
    """Return the Trace of everything reachable from ``roots`` through ``next_functions``.

    ``values`` maps ``node_key`` to ``{output_nr: value dict}`` (recorded while
    the snippet ran; anything with ``get(key)``), ``labels`` and ``scopes`` map
    ``node_key`` to strings, ``lines`` to the snippet line that made the node
    (``lines.LineIndex``). ``see_saved(nodes, slots_of)``, when given, is called with
    the graph's nodes once they are walked, before their attributes are read (it
    records the values their saved tensors prove, see ``observe``); ``slots_of``
    maps each op node to its ``saved_slots``, read once for both. ``plain``: the graph is
    a ``PlainGraph`` (the same dicts, for a caller that only writes its JSON or a file
    from it: no networkx import), else a ``networkx.MultiDiGraph``.
    """
    values, labels, scopes, lines = values or {}, labels or {}, scopes or {}, lines or {}
    graph = PlainGraph() if plain else _networkx_graph()
    trace = Trace(graph=graph, root_id="n0")
    queue: deque = deque()
    for fn in grad_fn_roots(roots):
        trace.root_ids.append(_visit(fn, trace, queue))
    trace.root_id = trace.root_ids[0]
    # Edges go into networkx's own dicts as add_edge puts them (both ends exist, and a
    # source's slots differ), without its per-call work: ~2.5 us an edge.
    succ, pred = graph._succ, graph._pred
    slot_counts: dict = {}  # node id -> len(next_functions), read once
    while queue:
        fn = queue.popleft()
        source = trace.id_of[fn]
        next_functions = fn.next_functions
        slot_counts[source] = len(next_functions)
        for slot, (nxt, input_nr) in enumerate(next_functions):
            if nxt is None:  # an input that needs no gradient: torch has no node there
                continue
            target = _visit(nxt, trace, queue)
            keys = succ[source].get(target)
            if keys is None:
                succ[source][target] = pred[target][source] = {slot: {"slot": slot, "input_nr": input_nr}}
            else:  # x * x: a second edge between the same two nodes
                keys[slot] = {"slot": slot, "input_nr": input_nr}
    if not plain:
        from gradstep.autograd.graph_json import clear_cache

        clear_cache(graph)
    slots_of: dict = {}
    if see_saved is not None:
        slots_of = _saved_slots_of(trace.node_of.values())
        see_saved(trace.node_of.values(), slots_of)
    node_dicts = graph._node  # the nodes exist (in id order), each with an empty dict
    for node_id, fn in trace.node_of.items():
        key = node_key(fn)
        attrs = node_attributes(fn, node_id, values, labels, scopes, key=key,
                                slots=slots_of.get(fn))
        op = key[0] == "op"
        attrs["seq"] = key[1] if op else None
        attrs["line"] = lines.get(key) if op else None
        attrs["slots"] = slot_counts[node_id]
        node_dicts[node_id] = attrs
    label_indexing(graph, short_op_name)  # p[1], p[2] rather than two "select" nodes
    return trace


def _networkx_graph():
    import networkx as nx  # here: a kernel that writes only files never imports it (PlainGraph)

    return nx.MultiDiGraph()


def _saved_slots_of(fns) -> dict:
    """Return ``{fn: saved_slots(fn)}`` for the op nodes whose saved slots read cleanly
    (a node that raises is left out: each reader then reads it, and fails, itself)."""
    slots_of = {}
    for fn in fns:
        if is_leaf_node(fn):
            continue
        try:
            slots_of[fn] = saved_slots(fn)
        except Exception:
            continue
    return slots_of


def _visit(fn, trace: Trace, queue: deque) -> str:
    """Return the id of ``fn``, numbering and queueing it the first time it is seen."""
    node_id = trace.id_of.get(fn)
    if node_id is None:
        node_id = f"n{len(trace.id_of)}"
        trace.id_of[fn] = node_id
        trace.node_of[node_id] = fn
        graph = trace.graph  # add_node's work for a new node, without its checks
        graph._succ[node_id], graph._pred[node_id], graph._node[node_id] = {}, {}, {}
        queue.append(fn)
    return node_id


def node_attributes(fn, node_id: str, values: dict, labels: dict, scopes: dict, *,
                    key: tuple | None = None, slots: list | None = None) -> dict:
    """Return the DESIGN.md node fields of ``fn``: name, kind, label, scope, shape, ...
    (``key`` is ``node_key(fn)``, ``slots`` its ``saved_slots``, when the caller has them)."""
    key = node_key(fn) if key is None else key
    if key[0] != "op":
        variable = fn.variable
        attrs = {"id": node_id, "name": node_name(fn), "kind": "leaf",
                 "label": labels.get(key) or "leaf", "scope": scopes.get(key, "")}
        attrs.update(_tensor_meta(variable), value=summary(variable))
        attrs["saved"] = saved_items(fn, slots=slots)
        return attrs
    name = key[2].removeprefix(NAME_PREFIX)
    shape, dtype, device = _output_meta(fn)
    value = _node_value(values.get(key))
    # Values are matched by tensor identity (observe.py); a shape that is not the
    # node's would still mean another tensor's value: show none rather than it.
    if value is not None and shape is not None and value.get("shape") != shape:
        value = None
    saved = saved_items(fn, slots=slots)
    return {"id": node_id, "name": name, "kind": "op", "label": labels.get(key) or short_op_name(name),
            "scope": scopes.get(key, ""), "shape": shape, "dtype": dtype, "device": device,
            "value": value, "saved": saved, **formula_fields_of(name, saved)}


def _tensor_meta(t: torch.Tensor) -> dict:
    return {"shape": shape_of(t), "dtype": dtype_name(t.dtype), "device": device_name(t.device)}


def _output_meta(fn) -> tuple:
    """Return (shape, dtype, device) of the node's first forward output (Nones when unknown)."""
    try:
        meta = fn._input_metadata[0]
        shape = list(meta.shape)
    except (AttributeError, IndexError, RuntimeError, TypeError):
        return None, None, None
    if any(type(d) is not int for d in shape):
        shape = None  # a jagged nested tensor's ragged size (a SymInt): no one shape
    return shape, dtype_name(meta.dtype), device_name(meta.device)


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
