"""A wrapped text row of fixed height whose new text does not make the panel ask every
label of it how tall it would be."""

from __future__ import annotations

from PySide6 import QtWidgets


class QtRowLabel(QtWidgets.QLabel):
    """A word-wrapped QLabel that, while its height is fixed, answers its layout's "how
    tall at this width" with that height, without laying its text out.

    A layout clamps the answer between the label's least and greatest height, so for a
    fixed height it is that height whatever the text: the same geometry. QLabel itself
    lays the (rich) text out twice for each ask, and a panel's layout asks again after
    every ``setText`` (Qt re-lays out the panel unless both width and height are fixed):
    ~1 ms of a backward step on the Values panel (docs/speed.md item 36).
    """

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        fixed = self.minimumHeight()
        if fixed == self.maximumHeight():
            return fixed
        return super().heightForWidth(width)
