"""The trace JSON back into a networkx graph, without importing torch.

The window and ``gradstep export`` draw graphs that a kernel process traced;
they only need this, so they never load torch themselves.
"""

from __future__ import annotations

import networkx as nx

from gradstep.policies.gc_pause import without_gc

_EDGE_FIELDS = ("source", "target", "slot", "input_nr")


@without_gc  # 100,000 nodes: seconds of full collections otherwise
def graph_from_json(data: dict) -> nx.MultiDiGraph:
    """Return the MultiDiGraph of a trace JSON dict (edge key = slot).

    Extra fields (the ``x``, ``points``, ... of an exported JSON) are kept as attributes.
    """
    graph = nx.MultiDiGraph(root=data.get("root", "n0"), device=data.get("device", "cpu"))
    if "roots" in data:
        graph.graph["roots"] = list(data["roots"])
    for node in data.get("nodes", []):
        graph.add_node(node["id"], **node)
    for edge in data.get("edges", []):
        extra = {k: v for k, v in edge.items() if k not in _EDGE_FIELDS}
        graph.add_edge(edge["source"], edge["target"], key=edge["slot"], slot=edge["slot"],
                       input_nr=edge.get("input_nr", 0), **extra)
    return graph
