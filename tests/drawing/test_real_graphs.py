"""Layouts and pictures of graphs traced from real snippets: a seed lesson, a CNN, a transformer."""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradstep.autograd.serialize import graph_from_json
from gradstep.autograd.session import Session
from gradstep.drawing import style
from gradstep.drawing.collapse import collapse_to_depth, default_depth
from gradstep.drawing.export import export_graph
from gradstep.drawing.layout import layout, layout_dot
from gradstep.drawing.metrics import edge_crossings
from gradstep.examples import EXAMPLES_DIR
from tests.drawing.layout_checks import assert_no_overlap, assert_routes_join_boxes

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = {
    "seed mse": EXAMPLES_DIR / "mse_backward.py",
    "cifar cnn": EXAMPLES_DIR / "cifar_cnn.py",
    "transformer layer": ROOT / "bench" / "snippets" / "transformer_layer.py",
}


@pytest.fixture(scope="module")
def traced():
    graphs = {}
    for name, path in SNIPPETS.items():
        result = Session().run(path.read_text(encoding="utf-8"), filename=path.name)
        assert result["ok"], result["error"]
        graphs[name] = graph_from_json(result["trace"])
    return graphs


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_real_graph_layout_is_clean(traced, name):
    graph = traced[name]
    lay = layout(graph)
    assert_no_overlap(lay)
    assert_routes_join_boxes(graph, lay)
    root = graph.graph["root"]
    assert lay.ranks[root] == 0
    if shutil.which("dot"):  # no more crossings than Graphviz on the same graph
        theirs = layout_dot(graph)
        assert edge_crossings(graph, lay.positions) <= edge_crossings(graph, theirs.positions)


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_real_graph_svg_shows_every_node(traced, name, tmp_path):
    graph = traced[name]
    path = export_graph(graph, tmp_path / "g.svg")
    root = ET.parse(path).getroot()
    text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    text = " ".join(text.split())
    for _, attrs in graph.nodes(data=True):
        assert style.label_lines(attrs)[0].text in text


def test_cnn_collapses_to_its_module(traced):
    graph = traced["cifar cnn"]
    folded = collapse_to_depth(graph, 1)
    boxes = [a for _, a in folded.nodes(data=True) if a["kind"] == "module"]
    scoped_ops = sum(1 for _, a in graph.nodes(data=True) if a["kind"] == "op" and a["scope"])
    assert sum(b["op_count"] for b in boxes) == scoped_ops
    assert folded.number_of_nodes() < graph.number_of_nodes()
    assert default_depth(graph) is None  # small enough to open unfolded


def test_reading_trace_json_without_torch_gives_the_tracers_graph():
    import subprocess
    import sys

    from gradstep.autograd.graph_json import graph_from_json
    from gradstep.autograd.serialize import graph_to_json

    path = SNIPPETS["transformer layer"]
    data = Session().run(path.read_text(encoding="utf-8"), filename=path.name)["trace"]
    assert graph_to_json(graph_from_json(data)) == data
    check = "import sys, gradstep.autograd.graph_json; assert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", check]).returncode == 0
