"""The file formats gradstep draws to, by extension, the margin around a picture, and the
sizes a picture can be written at (``shown_size``; ``ExportError`` says why not).

Kept apart from the writers so that the command line and the Python API can check an
output name without importing networkx, numpy or Qt.
"""

from __future__ import annotations

from gradstep.i18n import lazy, render

PICTURE_FORMATS = (".png", ".svg", ".pdf")
FILE_FORMATS = (".dot", ".gv", ".graphml", ".json")  # graph files
TEXT_FORMATS = (".svg", *FILE_FORMATS)  # written without Qt (``drawing.files``)
MARGIN = 16.0  # around a picture's drawing, in scene units (SVG, PNG, PDF)


class ExportError(ValueError):
    """The output path or the options cannot be used; the message says how to fix it.

    ``message`` is a ``gradstep.i18n.lazy`` message (kept as ``.message``, worded again
    where it is shown: the command line's error in the person's language) or plain text;
    ``str()`` is it worded in the language now set."""

    def __init__(self, message):
        self.message = message
        super().__init__(render(message))


def shown_size(width: float, height: float, size: float) -> tuple[float, float]:
    """Return a picture's ``width`` and ``height`` shown ``size`` times (an SVG's, a PDF's
    page: ``--scale``); raise ExportError where they cannot be written, not finite (``inf``
    in the SVG) or under a hundredth (``0``: nothing shown)."""
    shown = (width * size, height * size)
    if not all(0.005 <= v < float("inf") for v in shown):
        raise ExportError(lazy("--scale {scale}: the picture would be {width} by {height}; use "
                               "a scale such as 2", scale=f"{size:g}", width=f"{shown[0]:.3g}",
                               height=f"{shown[1]:.3g}"))
    return shown
