"""The trace JSON of DESIGN.md, to and from a ``networkx.MultiDiGraph``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradstep.autograd.graph_json import graph_from_json  # noqa: F401 (re-exported)
from gradstep.autograd.trace import Trace
from gradstep.schema.graph import FORMULA_FIELDS, NODE_FIELDS, OPTIONAL_FIELDS

if TYPE_CHECKING:
    import networkx as nx

    from gradstep.autograd.plain_graph import PlainGraph


def graph_to_json(trace: Trace | nx.MultiDiGraph, *, device: str | None = None,
                  share: bool = False) -> dict:
    """Return ``{"root", "device", "nodes", "edges"}`` for a Trace (or a graph with a ``root`` attribute).

    Nodes come in id order (breadth-first from the root), edges in
    ``(source, slot)`` order. ``device`` defaults to the root node's device.
    ``share``: the nodes are the graph's own attribute dicts where they are written as
    they are (for a caller done with the graph: no copies; the same JSON).
    """
    graph = trace.graph if isinstance(trace, Trace) else trace
    root = trace.root_id if isinstance(trace, Trace) else graph.graph.get("root", "n0")
    items = list(graph.nodes(data=True))
    ids = [node_id for node_id, _ in items]
    in_order = _numbered(ids)  # a trace's nodes: then no sort is needed (the same order)
    if not in_order:
        items.sort(key=_id_order)
    nodes = [attrs if share and _written_as_it_is(node_id, attrs) else _node_json(node_id, attrs)
             for node_id, attrs in items]
    if in_order and list(graph._succ) == ids:
        edges = _edges_by_source(graph)
    else:
        edges = [
            {"source": u, "target": v, "slot": d.get("slot", k), "input_nr": d.get("input_nr", 0)}
            for u, v, k, d in graph.edges(keys=True, data=True)
        ]
        edges.sort(key=lambda e: (_number(e["source"]), e["slot"]))
    if device is None:
        device = graph.nodes[root].get("device") if root in graph else None
    data = {"root": root, "device": device or "cpu", "nodes": nodes, "edges": edges}
    roots = trace.root_ids if isinstance(trace, Trace) else graph.graph.get("roots")
    if roots and len(roots) > 1:
        data["roots"] = list(roots)
    return data


def trace_json(trace: Trace, *, device: str | None = None) -> dict:
    """Return ``graph_to_json(trace, device=device)`` for a trace just made by
    ``trace_graph(json_edges=True)``, without reading its graph back: the nodes are its
    own dicts, copied (``trace.op_attributes`` and ``leaf_attributes`` make each with
    exactly the fields the JSON writes, in its order, and ids ``n0``, ``n1``, ... in id
    order), the edges the dicts
    its walk listed (sources in id order, each one's slots in order: the JSON's order).
    The trace hands its list over (it keeps none: a graph changed later is read from the
    graph); a trace without one is written by ``graph_to_json``."""
    edges, trace.json_edges = trace.json_edges, None
    if edges is None:
        return graph_to_json(trace, device=device)
    graph = trace.graph
    nodes = [attrs.copy() for attrs in graph._node.values()]
    if device is None:
        device = graph._node[trace.root_id].get("device") if trace.root_id in graph._node else None
    data = {"root": trace.root_id, "device": device or "cpu", "nodes": nodes, "edges": edges}
    if len(trace.root_ids) > 1:
        data["roots"] = list(trace.root_ids)
    return data


def drawn_graph(trace: Trace, *, device: str | None = None) -> nx.MultiDiGraph | PlainGraph:
    """Return what ``graph_from_json(graph_to_json(trace, device=device))`` gives, made of
    the trace's own graph where it can be (its node dicts become the graph's: for a
    caller done with the trace; a ``PlainGraph`` trace gives a ``PlainGraph``, whose
    dicts and reads are a ``MultiDiGraph``'s).

    That is where ``graph_to_json`` would change nothing: nodes made ``n0``, ``n1``, ...
    in order, each with exactly the fields it writes, in its order (checked; else the
    round trip is taken). The edges then go in as ``graph_from_json`` puts them only for
    a trace made by ``trace_graph`` (not checked): it adds a source's edges in slot order
    with ``{slot, input_nr}`` data, and sources in id order, as the JSON's sorted edges come.
    """
    graph = trace.graph
    ids = list(graph._node)
    if not (_numbered(ids) and list(graph._succ) == ids
            and all(map(_written_as_it_is, ids, graph._node.values()))):
        return graph_from_json(graph_to_json(trace, device=device))
    if device is None:
        device = graph.nodes[trace.root_id].get("device") if trace.root_id in graph else None
    graph.graph.clear()
    graph.graph.update(root=trace.root_id, device=device or "cpu")
    if len(trace.root_ids) > 1:
        graph.graph["roots"] = list(trace.root_ids)
    return graph


def _numbered(ids: list) -> bool:
    """Return True for ids ``n0``, ``n1``, ... in that order (as ``trace_graph`` makes them)."""
    return ids == [f"n{i}" for i in range(len(ids))]


def _written_as_it_is(node_id: str, attrs: dict) -> bool:
    """Return True when ``_node_json`` would copy ``attrs`` unchanged."""
    keys = tuple(attrs)
    leaf = attrs.get("kind") == "leaf"
    fields = keys == (_LEAF_FIELDS if leaf else NODE_FIELDS) or leaf and keys == _LEAF_WRITTEN
    return fields and attrs["id"] == node_id and attrs["saved"] is not None


def _edges_by_source(graph: nx.MultiDiGraph) -> list[dict]:
    """Return the edges in ``(source, slot)`` order for a graph whose sources come in id
    order: each source's own edges sorted by slot (a stable sort, as one of all edges)."""
    edges: list[dict] = []
    for source, targets in graph._succ.items():
        start, in_order, last = len(edges), True, -1
        for target, keyed in targets.items():
            for key, data in keyed.items():
                slot = data.get("slot", key)
                edges.append({"source": source, "target": target, "slot": slot,
                              "input_nr": data.get("input_nr", 0)})
                if in_order and not (type(slot) is int and slot >= last):
                    in_order = False
                last = slot
        if not in_order:  # int slots already in order: a stable sort would leave them so
            edges[start:] = sorted(edges[start:], key=_slot)
    return edges


def _slot(edge: dict) -> tuple:
    # a 1-tuple, as the full sort's (source, slot) key: equal slots are never compared
    return (edge["slot"],)


def _node_json(node_id: str, attrs: dict) -> dict:
    # Attributes made by trace_graph are JSON-safe already (values.tensor_value);
    # only foreign graphs need converting, and strict_json.dumps converts again anyway.
    if _written_as_it_is(node_id, attrs):
        return attrs.copy()  # made by trace_graph: these fields in this order already
    out = {name: attrs.get(name) for name in NODE_FIELDS}
    out["id"] = node_id
    if out["kind"] == "leaf" and "formula" in out:
        for name in FORMULA_FIELDS:  # a leaf has no formula of its own: AccumulateGrad adds into .grad
            out.pop(name)
    if out["saved"] is None:
        out["saved"] = []
    for name in OPTIONAL_FIELDS:  # only where they apply
        if attrs.get(name):
            out[name] = attrs[name]
    return out


_LEAF_FIELDS = tuple(name for name in NODE_FIELDS if name not in FORMULA_FIELDS)
_LEAF_WRITTEN = (*_LEAF_FIELDS, *OPTIONAL_FIELDS)  # a leaf an optimizer step wrote after the pass


def _number(node_id: str) -> int:
    return int(node_id[1:]) if node_id[1:].isdigit() else -1


def _id_order(item) -> int:
    return _number(item[0])
