"""The file formats gradstep draws to, by extension, and the margin around a picture.

Kept apart from the writers so that the command line and the Python API can check an
output name without importing networkx, numpy or Qt.
"""

from __future__ import annotations

PICTURE_FORMATS = (".png", ".svg", ".pdf")
FILE_FORMATS = (".dot", ".gv", ".graphml", ".json")  # graph files
TEXT_FORMATS = (".svg", *FILE_FORMATS)  # written without Qt (``drawing.files``)
MARGIN = 16.0  # around a picture's drawing, in scene units (SVG, PNG, PDF)
