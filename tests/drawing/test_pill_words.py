"""The boxes' pills (saved:, freed:, written after the pass:, a folded module's ops) are
worded in the language shown, in the window and the pictures, and the boxes fit them."""

from __future__ import annotations

import networkx as nx
import pytest

from gradstep import i18n
from gradstep.drawing import style
from gradstep.drawing.layout import layout
from gradstep.drawing.node_sizes import node_size


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language(None)


SAVED = [{"name": "other", "shape": [3], "freed": True}, {"name": "self", "shape": [3]},
         {"name": "result", "shape": [3], "changed_in_place": True},
         {"name": "x", "shape": [3], "detached_in_place": True}]
WRITTEN = {"version": 2, "pass_version": 1, "during": True}


def graph():
    g = nx.MultiDiGraph()
    g.add_node("mul", kind="op", name="MulBackward0", label="mul", shape=[3], saved=SAVED)
    g.add_node("w", kind="leaf", name="AccumulateGrad", label="w", shape=[3],
               written_after=WRITTEN)
    g.add_node("m", kind="module", label="encoder", op_count=12)
    g.add_edge("mul", "w", key=0, slot=0)
    return g


def pills(attrs: dict) -> list[str]:
    return [line.text for line in style.label_lines(attrs) if line.role != "title"]


def test_the_pills_are_english_by_default():
    g = graph()
    assert pills(g.nodes["mul"])[-4:] == ["saved: self", "changed in place: result",
                                         "detached in place: x", "freed: other"]
    assert pills(g.nodes["w"])[-1] == "written during the pass: v2"
    assert pills(g.nodes["m"]) == ["12 ops"]


def test_in_chinese_the_pills_are_chinese_and_every_line_fits_its_box(chinese):
    g = graph()
    assert pills(g.nodes["mul"])[-4:] == ["已保存：self", "被原地修改：result",
                                         "被原地 detach：x", "已释放：other"]
    assert pills(g.nodes["w"])[-1] == "反向传播中被写入：v2"
    assert pills(g.nodes["m"]) == ["12 个运算"]
    lay = layout(g)
    for node, attrs in g.nodes(data=True):
        width, _ = lay.sizes[node]
        assert (width, _) == node_size(attrs)
        for line in style.label_lines(attrs):  # the widest line and its pill's padding
            need = style.text_width(line.text, line.px, line.role == "title") + style.badge_pad(
                line.role) + 2 * style.PAD_X
            assert need <= width, (node, line.text)


def test_the_svg_writes_the_chinese_pills(chinese, tmp_path):
    from gradstep.drawing.svg_picture import write_svg

    g = graph()
    text = write_svg(g, layout(g), tmp_path / "g.svg").read_text(encoding="utf-8")
    for words in ("已释放：other", "反向传播中被写入：v2", "12 个运算"):
        assert words in text
    assert "freed:" not in text and "written during" not in text
