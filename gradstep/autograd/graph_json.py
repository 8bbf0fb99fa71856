"""The trace JSON back into a networkx graph, without importing torch.

The window and ``gradstep export`` draw graphs that a kernel process traced;
they only need this, so they never load torch themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradstep.policies.gc_pause import without_gc

if TYPE_CHECKING:
    import networkx as nx

_EDGE_FIELDS = ("source", "target", "slot", "input_nr")
_EDGE_FIELD_SET = frozenset(_EDGE_FIELDS)


@without_gc  # 100,000 nodes: seconds of full collections otherwise
def graph_from_json(data: dict) -> nx.MultiDiGraph:
    """Return the MultiDiGraph of a trace JSON dict (edge key = slot).

    Extra fields (the ``x``, ``points``, ... of an exported JSON) are kept as attributes.

    The graph is filled in networkx's own dicts (``_succ``, ``_pred``, ``_node``) the way
    ``add_node`` and ``add_edge`` fill them, in the same order, without their per-call
    work (a 100,000-node trace: ~0.9 -> ~0.3 s); ``add_node`` and ``add_edge`` are called
    for what they do differently (a ``None`` id, an edge without a slot).
    """
    import networkx as nx  # here: importing this module (serialize does) loads no networkx

    graph = nx.MultiDiGraph(root=data.get("root", "n0"), device=data.get("device", "cpu"))
    if "roots" in data:
        graph.graph["roots"] = list(data["roots"])
    succ, pred, attrs_of = graph._succ, graph._pred, graph._node
    for node in data.get("nodes", []):
        node_id = node["id"]
        if node_id is None:
            graph.add_node(node_id, **node)  # raises networkx's own error
        elif node_id in succ:
            attrs_of[node_id].update(node)
        else:
            succ[node_id], pred[node_id], attrs_of[node_id] = {}, {}, dict(node)
    for edge in data.get("edges", []):
        u, v, slot = edge["source"], edge["target"], edge["slot"]
        attrs = {"slot": slot, "input_nr": edge.get("input_nr", 0)}
        if not edge.keys() <= _EDGE_FIELD_SET:
            attrs.update({k: val for k, val in edge.items() if k not in _EDGE_FIELD_SET})
        if slot is None or u not in succ or v not in succ:
            graph.add_edge(u, v, key=slot, **attrs)
            continue
        keys = succ[u].get(v)
        if keys is None:
            succ[u][v] = pred[v][u] = {slot: attrs}
        elif slot in keys:
            keys[slot].update(attrs)
        else:
            keys[slot] = attrs
    clear_cache(graph)
    return graph


def clear_cache(graph) -> None:
    """Do what networkx's add_node/add_edge do after filling its dicts (networkx < 3.3
    keeps no cache, and has no such function); trace_graph fills them too."""
    import networkx as nx

    getattr(nx, "_clear_cache", _no_cache)(graph)


def _no_cache(graph) -> None:
    return None
