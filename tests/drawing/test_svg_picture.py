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


def test_an_svg_names_sans_fallbacks_for_viewers_without_dejavu(tmp_path):
    """Chinese labels (损失) in an SVG opened where DejaVu Sans is missing (Windows, macOS)
    fell back to the viewer's default face, a serif one."""
    import xml.etree.ElementTree as ET

    graph = samples.chain(2)
    graph.nodes["n0"]["label"] = "损失"
    path = tmp_path / "g.svg"
    write_svg(graph, layout(graph), path)
    group = ET.parse(path).getroot().find("{http://www.w3.org/2000/svg}g")
    families = [f.strip().strip("'") for f in group.get("font-family").split(",")]
    assert families[0] == "DejaVu Sans" and families[-1] == "sans-serif"
    assert "Noto Sans CJK SC" in families and "损失" in path.read_text(encoding="utf-8")


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


def test_boxes_and_edges_many_at_a_time_are_the_plain_ones(tmp_path):
    """svg_boxes.write_boxes and svg_edges.edge_rows (numpy, many elements at a time) write
    the bytes of svg_boxes.node_text and svg_edges' one edge at a time, with every state,
    pills of every role, module boxes, odd coordinates (ties such as .125, minus zero)."""
    import io

    from gradstep.drawing import style, svg_boxes, svg_edges
    from gradstep.drawing.svg_rows import drop_nul

    rng = random.Random(5)
    for rankdir in ("TB", "LR"):
        for graph in graphs():
            graph.nodes[next(iter(graph.nodes))]["saved"] = [
                {"name": "self", "shape": [1], "freed": True}, {"name": "other", "shape": [2], "freed": False}]
            made: dict = {}
            lay = layout(graph, rankdir=rankdir, label_lines=made)
            for node in list(lay.positions)[::3]:  # centres on ties and signs of zero
                x, y = lay.positions[node]
                lay.positions[node] = (rng.choice([0.125, -0.0, -0.005, x + 0.375]), y + 0.625)
            states = {n: rng.choice(style.STATES) for n in graph.nodes}
            for dimmed in (False, True):
                fast, plain = io.BytesIO(), io.BytesIO()
                svg_boxes.write_boxes(fast, graph, lay, states, made, dimmed)
                svg_boxes._write_plainly(plain, graph, lay, states, made, dimmed)
                assert fast.getvalue() == plain.getvalue()
            keys = [k for k, r in lay.routes.items() if r and len(r) >= 2]
            lines, heads = svg_edges.edge_rows(lay.routes, keys)
            ones = [svg_edges._one(lay.routes[k]) for k in keys]
            assert [drop_nul([a]).decode() for a in lines] == [one[0] for one in ones]
            assert [drop_nul([b]).decode() for b in heads] == [one[1] for one in ones]


def test_coordinates_that_are_not_python_numbers_are_written_one_at_a_time(tmp_path):
    import numpy as np

    graph = samples.chain(6)
    lay = layout(graph)
    plain = write_svg(graph, lay, tmp_path / "plain.svg").read_bytes()
    for node, (x, y) in lay.positions.items():  # numpy's float64 is a float: the same picture
        lay.positions[node] = (np.float64(x), y)
    assert write_svg(graph, lay, tmp_path / "f64.svg").read_bytes() == plain
    key = next(iter(lay.routes))
    lay.routes[key] = [(np.float32(x), np.float32(y)) for x, y in lay.routes[key]]
    lay.positions[next(iter(lay.positions))] = (np.float32(1.5), np.float32(2.25))
    assert write_svg(graph, lay, tmp_path / "f32.svg").read_text("utf-8").count("<rect") >= 6


def test_edges_with_infinite_or_nan_points_are_the_plain_ones_without_warnings():
    # numpy warns where Python's floats are silent (inf - inf): the suite turns warnings
    # into errors, as a user's -W error would
    from gradstep.drawing import svg_edges
    from gradstep.drawing.svg_rows import drop_nul

    inf, nan = float("inf"), float("nan")
    routes = {0: [(0.0, 15.0), (inf, 35.0)], 1: [(0.0, 0.0), (inf, 10.0), (inf, 20.0)],
              2: [(nan, 0.0), (1.0, 2.0), (3.0, nan), (5.0, 100.0)], 3: [(1.0, 1.0), (1.0, 1.0)],
              4: [(-inf, -inf), (inf, inf)]}
    lines, heads = svg_edges.edge_rows(routes, list(routes))
    for key, line, head in zip(routes, lines, heads):
        assert (drop_nul([line]).decode(), drop_nul([head]).decode()) == svg_edges._one(routes[key])


def test_a_box_outside_the_pass_is_paled_as_the_window_pales_it(tmp_path):
    """An SVG's box outside the pass shown has the window's (and a PNG's) opaque pale fill
    and border and grey title (``style.dimmed_colour``, ``MUTED_TEXT``), not the whole box
    at 40% opacity, whose words were 1.6:1 to 2.5:1 on a projector; the others are as they are."""
    from gradstep.drawing import style

    graph = samples.chain(2)
    lay = layout(graph)
    faded = next(n for n in graph.nodes if graph.nodes[n].get("kind") != "leaf")
    text = write_svg(graph, lay, tmp_path / "g.svg", states={faded: "done"},
                     dimmed={faded}).read_text("utf-8")
    assert "opacity" not in text
    kept, dimmed = text.split('<g class="dimmed">\n')
    dimmed = dimmed.split("</g>")[0]
    look, fill = style.state_look("done"), style.node_fill(graph.nodes[faded], state="done")
    assert f'fill="{style.dimmed_colour(fill)}" stroke="{style.dimmed_colour(look.border)}"' in dimmed
    assert f'fill="{style.TEXT}"' not in dimmed and f'fill="{style.MUTED_TEXT}"' in dimmed
    assert f'fill="{style.TEXT}"' in kept and style.dimmed_colour(fill) not in kept
