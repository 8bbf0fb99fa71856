"""Folding module scopes into boxes and unfolding them again."""

import networkx as nx

from gradstep.drawing import samples
from gradstep.drawing.collapse import (
    READABLE_NODES,
    collapse_scopes,
    collapse_to_depth,
    default_collapsed,
    default_depth,
    module_id,
    scopes_at_depth,
)


def edge_set(graph):
    return sorted((u, v, k) for u, v, k in graph.edges(keys=True))


def test_collapse_one_block_merges_its_nodes_and_edges():
    graph = samples.scoped_blocks(3)
    inside = [n for n, a in graph.nodes(data=True)
              if a["scope"] == "model.1" or a["scope"].startswith("model.1.")]
    folded = collapse_scopes(graph, {"model.1"})
    box = module_id("model.1")
    assert folded.nodes[box]["kind"] == "module"
    assert folded.nodes[box]["op_count"] == sum(graph.nodes[n]["kind"] == "op" for n in inside)
    assert set(folded.nodes[box]["members"]) == set(inside)
    assert not set(inside) & set(folded.nodes)
    # every edge crossing the block's border is still there, merged per pair of ends
    crossing = [(u, v) for u, v in graph.edges() if (u in inside) != (v in inside)]
    merged = {(u, v): d["count"] for u, v, d in folded.edges(data=True) if box in (u, v)}
    assert sum(merged.values()) == len(crossing)
    assert nx.is_directed_acyclic_graph(folded)


def test_expand_again_gives_back_the_original():
    graph = samples.scoped_blocks(4)
    folded = collapse_scopes(graph, {"model.0", "model.2"})
    assert folded.number_of_nodes() < graph.number_of_nodes()
    unfolded = collapse_scopes(graph, {"model.0", "model.2"} - {"model.0", "model.2"})
    assert dict(unfolded.nodes(data=True)) == dict(graph.nodes(data=True))
    assert edge_set(unfolded) == edge_set(graph)
    half = collapse_scopes(graph, {"model.2"})  # expanding one of two boxes
    assert module_id("model.0") not in half and module_id("model.2") in half


def test_outer_scope_wins_over_inner():
    graph = samples.scoped_blocks(2)
    folded = collapse_scopes(graph, {"model.0", "model.0.fc0"})
    assert module_id("model.0") in folded and module_id("model.0.fc0") not in folded


def test_depths():
    graph = samples.scoped_blocks(3)
    assert scopes_at_depth(graph, 1) == {"model"}
    assert scopes_at_depth(graph, 2) == {"model.0", "model.1", "model.2"}
    assert collapse_to_depth(graph, None) is graph
    assert collapse_to_depth(graph, 1).number_of_nodes() == 3  # sum, model box, x


def test_default_depth_keeps_a_big_graph_readable():
    graph = samples.scoped_blocks(60)
    assert graph.number_of_nodes() > READABLE_NODES
    depth = default_depth(graph)
    shown = collapse_to_depth(graph, depth)
    assert 3 < shown.number_of_nodes() <= READABLE_NODES
    deeper = collapse_to_depth(graph, depth + 1)  # the deepest depth that stays readable
    assert deeper.number_of_nodes() > READABLE_NODES
    assert default_collapsed(samples.multi_edge_graph()) == set()


def test_box_states_follow_their_members():
    from gradstep.drawing.collapse import box_states

    graph = samples.scoped_blocks(3)
    folded = collapse_scopes(graph, {"model.0", "model.1", "model.2"})
    members = {b: folded.nodes[module_id(b)]["members"] for b in ("model.0", "model.1", "model.2")}
    states = {n: "done" for n in members["model.0"]}
    states[members["model.1"][0]] = "current"
    got = box_states(folded, states)
    assert got == {module_id("model.0"): "done", module_id("model.1"): "current",
                   module_id("model.2"): "pending"}


def test_max_depth_reads_each_scope_as_before():
    from gradstep.drawing.collapse import max_depth, scope_parts

    cases = [["a.b", "", None, "a.b.c"], [None, None], [], ["x", 1, 1.0], [1.0, 1],
             ["a", ["not", "hashable"]], ["a..b", ".x.", "q"], [True, "a.b"]]
    for scopes in cases:
        graph = nx.MultiDiGraph()
        for i, scope in enumerate(scopes):
            graph.add_node(f"n{i}", scope=scope)
        graph.add_node("bare")
        want = max((len(scope_parts(a.get("scope"))) for _, a in graph.nodes(data=True)),
                   default=0)
        assert max_depth(graph) == want, scopes
