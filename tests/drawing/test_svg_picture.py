"""The SVG writer's text: numbers as they were always written, label lines made once."""

import math
import random

import networkx as nx
import pytest

from gradstep.drawing import samples
from gradstep.drawing.collapse import collapse_to_depth
from gradstep.drawing.layout import layout
from gradstep.drawing.svg_picture import _n, write_svg


def plain_n(x: float) -> str:
    """The oracle: two decimals, trailing zeros and point stripped, minus zero as 0."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-", "-0") else "0"


def test_numbers_are_written_as_two_decimals_without_trailing_zeros():
    rng = random.Random(4)
    values = [0, 0.0, -0.0, 3, -3, 12.5, 12.50000001, 0.005, 0.015, -0.004, -0.005, 1e-9,
              -1e-9, 99.995, 100.0, 1e16, -2.5e7, 9514174.58, math.inf, -math.inf, math.nan]
    values += [rng.uniform(-1e6, 1e6) for _ in range(20000)]
    values += [round(rng.uniform(-500, 500), 2) for _ in range(20000)]  # many end in 0
    values += [rng.randint(-50, 50) / 4 for _ in range(2000)]
    for x in values:
        assert _n(x) == plain_n(x), x
    assert [_n(x) for x in (12.5, 3.0, -0.001, 59.14, 2847.0)] == ["12.5", "3", "0", "59.14", "2847"]


def graphs():
    everything = samples.multi_edge_graph()
    everything.nodes["n1"]["saved"] = [{"name": "self", "shape": [1], "freed": False}]
    everything.nodes["n0"]["value"] = {"shape": [], "data": 4.0}
    everything.nodes["n3"]["device"] = "cuda:0"
    folded = collapse_to_depth(samples.scoped_blocks(3), 1)  # module boxes
    return [everything, folded, samples.layered_dag(300, width=12, seed=2), samples.chain(40)]


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_lines_from_the_layout_draw_the_same_picture_as_lines_made_here(rankdir, tmp_path):
    for i, graph in enumerate(graphs()):
        made: dict = {}
        lay = layout(graph, rankdir=rankdir, label_lines=made)
        assert set(made) == set(graph.nodes)
        nodes = list(graph.nodes)
        states = {nodes[0]: "done", nodes[1]: "current", nodes[-1]: "freed", nodes[-2]: "error"}
        labels = {next(iter(lay.routes)): "grad 4 & <5>"}
        given = write_svg(graph, lay, tmp_path / f"given{i}.svg", states=states,
                          edge_labels=labels, label_lines=made)
        alone = write_svg(graph, lay, tmp_path / f"alone{i}.svg", states=states,
                          edge_labels=labels)
        assert given.read_bytes() == alone.read_bytes(), i


def test_the_edge_count_is_networkx_count_with_parallel_edges_and_self_loops(tmp_path):
    multi = samples.multi_edge_graph()
    multi.add_edge("n2", "n2", key=5)  # a self-loop
    plain = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "c")])
    for graph in (multi, plain):
        path = write_svg(graph, layout(graph), tmp_path / "g.svg")
        desc = f"<desc>{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges</desc>"
        assert desc in path.read_text("utf-8")
