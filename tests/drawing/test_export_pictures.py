"""PNG, SVG and PDF drawn through Qt, read back with their standard readers."""

import xml.etree.ElementTree as ET

import pytest

from gradstep.drawing import samples, style
from gradstep.drawing.export import MARGIN, export_graph
from gradstep.drawing.layout import layout

pytest.importorskip("PySide6")
from PySide6 import QtGui  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def graph_with_everything():
    graph = samples.multi_edge_graph()
    graph.nodes["n1"]["saved"] = [{"name": "self", "shape": [1], "freed": False}]
    graph.nodes["n2"]["label"] = "权重 w"
    graph.nodes["n0"]["value"] = {"shape": [], "data": 4.0}
    return graph


def titles(graph):
    return [style.label_lines(a)[0].text for _, a in graph.nodes(data=True)]


def test_svg_has_every_label_as_text(tmp_path):
    graph = graph_with_everything()
    path = export_graph(graph, tmp_path / "g.svg", states={"n0": "done", "n1": "current"},
                        edge_labels={("n0", "n1", 0): "grad 4"})
    root = ET.parse(path).getroot()
    text = " ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))
    text = " ".join(text.split())  # SVG collapses runs of white space; so do we
    for title in titles(graph):
        assert title in text
    assert "saved: self" in text and "grad 4" in text
    assert "✓" in text and "▶" in text  # states are told by a glyph, not colour alone


def test_png_size_content_and_background(tmp_path):
    graph = graph_with_everything()
    lay = layout(graph)
    x0, y0, x1, y1 = lay.bounds
    path = export_graph(graph, tmp_path / "g.png", scale=2.0)
    image = QtGui.QImage(str(path))
    assert not image.isNull()
    assert image.width() == round((x1 - x0 + 2 * MARGIN) * 2)
    assert image.height() == round((y1 - y0 + 2 * MARGIN) * 2)
    assert QtGui.QColor(image.pixel(0, 0)).name() == "#ffffff"
    assert QtGui.QColor(image.pixel(0, 0)).alpha() == 255
    # the root's box is drawn in its colour at its centre
    cx, cy = lay.positions["n0"]
    px = QtGui.QColor(image.pixel(round((cx - x0 + MARGIN) * 2), round((cy - y0 + MARGIN) * 2) + 1))
    assert px.alpha() == 255
    colours = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert len(colours) > 10  # boxes, text and edges, not a blank page


def test_png_transparent_and_scale(tmp_path):
    graph = samples.chain(3)
    small = QtGui.QImage(str(export_graph(graph, tmp_path / "a.png", scale=1.0, transparent=True)))
    big = QtGui.QImage(str(export_graph(graph, tmp_path / "b.png", scale=3.0)))
    assert small.hasAlphaChannel()
    assert QtGui.QColor.fromRgba(small.pixel(0, 0)).alpha() == 0
    assert abs(big.width() - 3 * small.width()) <= 3


def test_pdf_is_a_vector_page(tmp_path):
    path = export_graph(graph_with_everything(), tmp_path / "g.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"/Font" in data  # text stays text (fonts embedded), not a bitmap
    assert b"/Subtype /Image" not in data


def test_export_with_dot_engine_and_lr(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    path = export_graph(samples.scoped_blocks(2), tmp_path / "g.svg", engine="dot", rankdir="LR")
    root = ET.parse(path).getroot()
    assert any("SumBackward0" in "".join(t.itertext()) for t in root.iter(SVG + "text"))


def test_a_png_too_big_names_the_largest_scale_that_fits(tmp_path, monkeypatch):
    """The refusal said only "lower --scale": a 100,000-op chain is 476x19028349 px at the
    default scale, and no scale to try was given. It now names one: the PNG at that scale is
    written and within the limit, and one a tenth larger is refused again."""
    import re

    from gradstep import i18n
    from gradstep.drawing import export
    from gradstep.drawing.formats import ExportError

    monkeypatch.setattr(export, "PNG_PIXELS", 300_000)
    graph, out = samples.chain(40), tmp_path / "g.png"
    with pytest.raises(ExportError) as refused:
        export_graph(graph, out, scale=2.0)
    found = re.search(r"PNG is too big \(over 0 million pixels\): use --scale ([0-9.e-]+) or "
                      r"lower, or export SVG/PDF", str(refused.value))
    assert found, str(refused.value)
    fits = float(found.group(1))
    with i18n.using("zh_CN"):
        assert f"请使用 --scale {found.group(1)} 或更小的值，或导出 SVG/PDF" in i18n.render(
            refused.value.message)
    export_graph(graph, out, scale=fits)
    image = QtGui.QImage(str(out))
    assert 0.9 * 300_000 < image.width() * image.height() <= 300_000
    with pytest.raises(ExportError, match="too big"):
        export_graph(graph, out, scale=fits * 1.1)
