"""Boxes read on a projector: the words of a box outside the pass shown, and a freed-tensors
pill, keep at least WCAG's 4.5:1 against what they are written on (measured on the
painted pixels), and the freed pill stands out from its box (3:1, WCAG's for a shape)."""

import pytest

pytest.importorskip("PySide6")
from PySide6 import QtCore, QtGui  # noqa: E402

from gradstep.drawing import qt_scene, samples  # noqa: E402
from gradstep.drawing.layout import layout  # noqa: E402
from gradstep.drawing.qt_scene import GraphScene  # noqa: E402


def luminance(colour: QtGui.QColor) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return (0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF())
            + 0.0722 * linear(colour.blueF()))


def contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def painted(scene: GraphScene, i: int, background) -> tuple[QtGui.QImage, QtCore.QRect]:
    """Return box ``i`` painted at 1:1 on ``background``, and where it lies in the image."""
    rect = scene.rect_of(i).adjusted(-6, -6, 6, 6)
    image = QtGui.QImage(int(rect.width()) + 1, int(rect.height()) + 1,
                         QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(background))
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.translate(-rect.topLeft())
    qt_scene.paint_boxes(painter, scene, scene.indices_in(scene.rect_of(i)), 1.0)
    painter.end()
    return image, scene.rect_of(i).translated(-rect.topLeft()).toRect()


def colours(image: QtGui.QImage, box: QtCore.QRect) -> dict:
    """Return {rgb: count} of the pixels inside ``box`` (its border left out)."""
    counts: dict = {}
    for y in range(box.top() + 3, box.bottom() - 3):
        for x in range(box.left() + 3, box.right() - 3):
            rgb = image.pixel(x, y)
            counts[rgb] = counts.get(rgb, 0) + 1
    return counts


def one_box(attrs: dict, state: str = "pending") -> GraphScene:
    graph = samples.chain(1)
    node = next(n for n in graph.nodes if graph.nodes[n].get("kind") != "leaf")
    graph.remove_nodes_from([n for n in list(graph.nodes) if n != node])
    graph.nodes[node].update(attrs)
    scene = GraphScene(graph, layout(graph))
    scene.set_node_states({node: state})
    return scene


@pytest.mark.parametrize("background", ["#ffffff", "#1e1e1e"])  # the light and dark themes
def test_a_box_outside_the_pass_shown_keeps_its_words_readable(qtbot, background):
    scene = one_box({"label": "p[1]", "shape": [3]}, "done")
    node = scene.node_ids[0]
    scene.set_dimmed({node})
    image, box = painted(scene, 0, background)
    counts = colours(image, box)
    fill = QtGui.QColor(max(counts, key=counts.get))
    darkest = min(counts, key=lambda rgb: luminance(QtGui.QColor(rgb)))
    assert contrast(QtGui.QColor(darkest), fill) >= 4.5
    # still faded: its fill is paler than the same box in the pass (meaning kept)
    scene.set_dimmed(())
    image, box = painted(scene, 0, background)
    counts = colours(image, box)
    assert luminance(fill) > luminance(QtGui.QColor(max(counts, key=counts.get))) + 0.1
    scene.deleteLater()


def test_a_freed_pill_stands_out_from_its_box_and_its_words_from_the_pill(qtbot):
    scene = one_box({"label": "p", "shape": [3],
                     "saved": [{"name": "result", "shape": [3], "freed": True}]}, "freed")
    image, box = painted(scene, 0, "#ffffff")
    counts = colours(image, box)
    ranked = sorted(counts, key=counts.get, reverse=True)
    box_fill, pill_fill = QtGui.QColor(ranked[0]), QtGui.QColor(ranked[1])
    assert contrast(box_fill, pill_fill) >= 3.0
    words = max((QtGui.QColor(rgb) for rgb in counts),
                key=lambda c: contrast(c, pill_fill))
    assert contrast(words, pill_fill) >= 4.5
    scene.deleteLater()
