"""Gradient labels on edges stay clear of the boxes, top-down and left to right."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from gradstep.drawing import qt_paint, samples, style
from gradstep.drawing.layout import layout

# the widest a label gets: four long numbers are cut to fit (the tooltip has them all)
WIDEST = style.gradient_text([-0.0827829, 0.227448, -0.144665, -0.0001234])


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_a_four_number_gradient_label_covers_no_box(rankdir):
    graph = samples.chain(6)
    lay = layout(graph, rankdir=rankdir)
    boxes = {n: QtCore.QRectF(x - w / 2, y - h / 2, w, h)
             for n, ((x, y), (w, h)) in ((n, (lay.positions[n], lay.sizes[n])) for n in lay.positions)}
    for key, route in lay.routes.items():
        label = qt_paint.edge_label_rect(route, WIDEST)
        hit = [n for n, box in boxes.items() if box.intersects(label)]
        assert not hit, (rankdir, key, hit)


def test_the_widest_label_is_cut_at_a_number_to_fit():
    assert WIDEST == "[-0.08278, 0.2274, …]"
    assert style.text_width(WIDEST, style.DETAIL_PX) <= style.EDGE_LABEL_PX
