"""PlainGraph, the kernel's graph for the files it writes: every read the writers make
answers as networkx's MultiDiGraph of the same trace answers (networkx is the oracle)."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from gradstep.autograd.plain_graph import PlainGraph
from gradstep.autograd.serialize import drawn_graph, graph_to_json
from gradstep.autograd.trace import trace_graph


def _roots():
    x = torch.ones(3, requires_grad=True)
    w = torch.full([3], 2.0, requires_grad=True)
    y = x * x + w  # two edges between the same two nodes (slots 0 and 1)
    return [(y * w).sum(), (y.exp() * x).mean()]  # two roots sharing nodes


def test_a_plain_trace_reads_as_the_networkx_trace_of_the_same_roots():
    roots = _roots()
    plain, real = trace_graph(roots, plain=True), trace_graph(roots)
    assert type(plain.graph) is PlainGraph and type(real.graph) is nx.MultiDiGraph
    assert graph_to_json(plain) == graph_to_json(real)
    p, n = drawn_graph(plain), drawn_graph(real)
    assert type(p) is PlainGraph and p.graph == n.graph
    assert p._node == n._node and p._succ == n._succ and p._pred == n._pred and p._adj == n._adj
    assert list(p) == list(n) and list(p.nodes) == list(n.nodes) and len(p) == len(n)
    assert p.nodes(data=True) == list(n.nodes(data=True)) and p.nodes() == list(n.nodes())
    assert len(p.nodes) == len(n.nodes) and p.number_of_nodes() == n.number_of_nodes()
    for keys in (False, True):
        for data in (False, True):
            assert p.edges(keys=keys, data=data) == list(n.edges(keys=keys, data=data))
    assert any(len(keyed) > 1 for targets in p._succ.values() for keyed in targets.values())
    for node in n:
        assert p.nodes[node] is p._node[node] and p.nodes[node] == n.nodes[node]
        assert p.in_degree(node) == n.in_degree(node) and p.out_degree(node) == n.out_degree(node)
        assert p.out_edges(node, keys=True) == list(n.out_edges(node, keys=True))
        assert p.out_edges(node, data=True) == list(n.out_edges(node, data=True))
    for thing in ("n0", "n999", None):
        assert (thing in p) == (thing in n) and (thing in p.nodes) == (thing in n.nodes)
    assert (["unhashable"] in p) is (["unhashable"] in n) is False
    for view in (p.nodes, n.nodes):
        with pytest.raises(TypeError):
            ["unhashable"] in view  # noqa: B015 (the test is that it raises)
    assert p.is_directed() and p.is_multigraph()
