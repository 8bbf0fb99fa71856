"""A traced graph for the command line's kernel, without importing networkx.

``PlainGraph`` keeps a directed multigraph in networkx's own dicts (``graph``, ``_node``,
``_succ`` = ``_adj``, ``_pred``, filled as ``trace_graph`` fills a ``MultiDiGraph``'s)
and answers the part of ``MultiDiGraph``'s reading API that the trace JSON and the
files the kernel writes read (``serialize``, ``drawing.files``), in networkx's order.
Importing networkx (~300 modules, its backends' entry points) costs ~70-100 ms of CPU,
about a fifth of what ``gradstep export -o x.svg`` adds to a small snippet; the kernel
that writes the file or the trace JSON itself (``keep_trace``) never needs networkx
unless it writes GraphML or folds scopes (each makes a networkx graph of its own).
Everything that hands a graph to a user (``gradstep.trace``, the window) still gets a
``networkx.MultiDiGraph``.
"""

from __future__ import annotations


class PlainGraph:
    """A directed multigraph in networkx ``MultiDiGraph``'s dicts, read-only API."""

    def __init__(self, **attrs):
        self.graph: dict = dict(attrs)
        self._node: dict = {}
        self._succ: dict = {}
        self._adj = self._succ  # as networkx: the successors are the adjacency
        self._pred: dict = {}

    def is_directed(self) -> bool:
        return True

    def is_multigraph(self) -> bool:
        return True

    def __contains__(self, node) -> bool:
        try:
            return node in self._node
        except TypeError:  # unhashable: as networkx, not a node
            return False

    def __iter__(self):
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)

    def number_of_nodes(self) -> int:
        return len(self._node)

    @property
    def nodes(self) -> NodeView:
        return NodeView(self._node)

    def edges(self, keys: bool = False, data: bool = False):
        """Return the edges as networkx's ``G.edges(keys=..., data=...)`` iterates them."""
        return list(_edges(self._succ.items(), keys, data))

    def out_edges(self, node, keys: bool = False, data: bool = False):
        """Return ``node``'s out-edges, as networkx's ``G.out_edges(node, ...)``."""
        return list(_edges([(node, self._succ[node])], keys, data))

    def in_degree(self, node) -> int:
        return sum(len(keyed) for keyed in self._pred[node].values())

    def out_degree(self, node) -> int:
        return sum(len(keyed) for keyed in self._succ[node].values())


def _edges(sources, keys: bool, data: bool):
    for source, targets in sources:
        for target, keyed in targets.items():
            for key, attrs in keyed.items():
                if keys:
                    yield (source, target, key, attrs) if data else (source, target, key)
                else:
                    yield (source, target, attrs) if data else (source, target)


class NodeView:
    """``G.nodes``: the node ids in order; ``[node]`` its attribute dict;
    ``(data=True)`` the ``(node, attrs)`` pairs."""

    def __init__(self, node_dicts: dict):
        self._nodes = node_dicts

    def __iter__(self):
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node) -> bool:
        return node in self._nodes  # unhashable: TypeError, as networkx's view

    def __getitem__(self, node) -> dict:
        return self._nodes[node]

    def __call__(self, data: bool = False):
        return list(self._nodes.items()) if data else list(self._nodes)
