"""DOT, GraphML and JSON written without Qt, read back with their own readers."""

import json
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from gradstep.drawing import samples
from gradstep.drawing.export import ExportError, export_graph
from gradstep.drawing.graph_files import (
    flat_value,
    quote,
    to_dot,
    to_json,
    write_graphml,
    write_json,
)
from gradstep.drawing.layout import layout


def tricky_graph():
    graph = samples.multi_edge_graph()
    graph.nodes["n2"]["label"] = 'w "quoted" \\ back'
    graph.nodes["n3"]["label"] = "输入 x ✓"
    graph.nodes["n0"]["value"] = {"shape": [1], "data": [float("nan")], "min": float("inf")}
    graph.nodes["n1"]["saved"] = [{"name": "self", "shape": [1], "freed": False}]
    return graph


def test_quote_escapes():
    assert quote('a "b"\n\\c') == '"a \\"b\\"\\n\\\\c"'


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_dot_text_renders_with_graphviz():
    graph = tricky_graph()
    text = to_dot(graph, states={"n0": "done", "n1": "current"},
                  edge_labels={("n0", "n1", 0): "[2.0]"})
    done = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    svg = ET.fromstring(done.stdout)
    texts = "".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert 'w "quoted" \\ back' in texts
    assert "输入 x ✓" in texts
    assert "MulBackward0" in texts and "[2.0]" in texts
    assert text.count("->") == graph.number_of_edges()


def test_graphml_reads_back_every_node_and_edge(tmp_path):
    graph = tricky_graph()
    lay = layout(graph)
    path = tmp_path / "g.graphml"
    write_graphml(graph, path, layout=lay, states={"n0": "done"})
    back = nx.read_graphml(path, force_multigraph=True)
    assert set(back.nodes) == set(graph.nodes)
    assert back.number_of_edges() == graph.number_of_edges()
    assert back.nodes["n2"]["label"] == 'w "quoted" \\ back'
    assert back.nodes["n0"]["state"] == "done"
    assert back.nodes["n1"]["x"] == pytest.approx(lay.positions["n1"][0])
    assert json.loads(back.nodes["n1"]["saved"]) == graph.nodes["n1"]["saved"]
    assert json.loads(back.nodes["n0"]["value"])["data"] == ["NaN"]
    assert back.nodes["n3"]["shape"] == "[1]"


def test_flat_value():
    assert flat_value(None) == ""
    assert flat_value([1, 2]) == "[1, 2]"
    assert flat_value(float("-inf")) == "-Infinity"
    assert flat_value(3) == 3


def test_json_is_the_trace_json_plus_geometry(tmp_path):
    graph = tricky_graph()
    lay = layout(graph)
    path = tmp_path / "g.json"
    write_json(graph, path, layout=lay)
    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject)
    assert data["root"] == "n0"
    assert {n["id"] for n in data["nodes"]} == set(graph.nodes)
    node = next(n for n in data["nodes"] if n["id"] == "n1")
    for key in ("name", "kind", "label", "scope", "shape", "dtype", "device", "value", "saved"):
        assert key in node
    assert (node["x"], node["y"]) == pytest.approx(lay.positions["n1"], abs=1e-3)
    assert (node["width"], node["height"]) == pytest.approx(lay.sizes["n1"], abs=1e-3)
    edges = {(e["source"], e["target"], e["slot"]): e for e in data["edges"]}
    assert set(edges) == set(graph.edges(keys=True))
    for (u, v, k), edge in edges.items():
        flat = [c for p in lay.routes[(u, v, k)] for c in p]
        assert [c for p in edge["points"] for c in p] == pytest.approx(flat, abs=1e-3)


def _reject(name):
    raise ValueError(f"non-strict JSON constant {name}")


def test_to_json_without_layout_has_no_geometry():
    data = to_json(samples.chain(3))
    assert "x" not in data["nodes"][0] and "points" not in data["edges"][0]
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in data["nodes"][0].values())


def test_export_files_never_import_qt(tmp_path):
    code = (
        "import sys\n"
        "from gradstep.drawing import samples\n"
        "from gradstep.drawing.export import export_graph\n"
        "g = samples.scoped_blocks(2)\n"
        f"for ext in ('dot', 'graphml', 'json'): export_graph(g, r'{tmp_path}/g.' + ext, collapse=2)\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'\n"
    )
    done = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() == 4


def test_unknown_extension_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="png"):
        export_graph(samples.chain(2), tmp_path / "g.bmp")


def test_dot_engine_missing_says_how_to_fix(monkeypatch):
    from gradstep.drawing import layout as layout_module

    monkeypatch.setattr(layout_module.shutil, "which", lambda name: None)
    with pytest.raises(layout_module.DotNotFoundError, match="install Graphviz"):
        layout_module.layout_dot(samples.chain(2))


def _odd_graphs():
    """Graphs of every networkx class with parallel edges, self-loops, string and int keys."""
    edges = [(1, 2), (1, 2), (2, 2), (3, 1), (2, 3), (4, 4), (4, 1), (1, 2)]
    for cls in (nx.Graph, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph):
        graph = cls()
        graph.add_nodes_from([5, 4, 3, 2, 1])
        graph.add_edges_from(edges)
        if graph.is_multigraph():
            graph.add_edge(3, 1, key="x")
            graph.add_edge(1, 3, key=7)
        yield graph
    yield samples.chain(50)
    yield samples.multi_edge_graph()


def test_edge_triples_and_count_read_networkx_as_its_views_do():
    from gradstep.drawing.graph_files import edge_count, edge_triples

    for graph in _odd_graphs():
        views = (list(graph.edges(keys=True)) if graph.is_multigraph()
                 else [(u, v, 0) for u, v in graph.edges()])
        assert edge_triples(graph) == views
        assert edge_count(graph) == len(graph.edges) == graph.number_of_edges()
