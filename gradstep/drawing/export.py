"""Write a graph to a file; the format comes from the extension.

PNG and PDF are drawn by the same Qt painting as the window (headless: an offscreen
QApplication is created when none exists); SVG is the same drawing written as text
(``svg_picture``). SVG, DOT, GraphML and JSON need no Qt and never import it
(``gradstep.drawing.files`` writes them).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from gradstep.drawing.collapse import outside
from gradstep.drawing.files import ExportError, compute_layout, fold, shown_size, write_text_file
from gradstep.drawing.formats import (
    FILE_FORMATS,
    MARGIN,
    PICTURE_FORMATS,
    TEXT_FORMATS,
    check_writable,
    unwritten,
)
from gradstep.i18n import lazy
from gradstep.none_guard import protect_none
from gradstep.policies.whole_file import replacing

PNG_PIXELS = 400_000_000  # the largest PNG written (width x height): ~1.6 GB of memory to draw

__all__ = ["FILE_FORMATS", "MARGIN", "PICTURE_FORMATS", "ExportError", "compute_layout",
           "export_graph", "ensure_qt_app"]


def export_graph(graph, path, *, states: dict | None = None, rankdir: str = "TB",
                 engine: str = "layered", scale: float = 2.0, transparent: bool = False,
                 collapse: int | None = None, edge_labels: dict | None = None,
                 layout=None, edge_grads: dict | None = None, extra: dict | None = None,
                 members=None, size: float = 1.0) -> Path:
    """Write ``graph`` to ``path`` (format from its suffix) and return the path.

    ``states`` colours nodes by backward state; ``engine`` is ``layered`` (ours)
    or ``dot`` (Graphviz); ``scale`` is PNG pixels per scene unit, ``size`` how many times
    its drawing an SVG or a PDF is shown (its width and height; ``--scale``); ``collapse``
    folds module scopes deeper than that depth; ``edge_labels`` writes text on
    edges (pictures and DOT); ``layout`` reuses a Layout already computed for
    this (collapsed) graph, e.g. for a series of frames; ``edge_grads`` and ``extra`` go
    into a JSON file (see ``graph_files.to_json``); pictures draw the nodes outside
    ``members`` (a pass's own graph, ``collapse.outside``) faded, as the window does.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PICTURE_FORMATS + FILE_FORMATS:
        known = ", ".join(PICTURE_FORMATS + FILE_FORMATS)
        raise ExportError(lazy("cannot tell the format of {name}: use one of {known}",
                               name=repr(path.name), known=known))
    if scale <= 0 or size <= 0:
        raise ExportError(lazy("--scale must be positive, not {scale}",
                               scale=scale if scale <= 0 else size))
    if suffix in TEXT_FORMATS:  # no Qt (gradstep.drawing.files)
        return write_text_file(graph, path, states=states, rankdir=rankdir, engine=engine,
                               collapse=collapse, edge_labels=edge_labels, layout=layout,
                               edge_grads=edge_grads, extra=extra, members=members, size=size)
    graph, states = fold(graph, states, collapse)
    lay = layout if layout is not None else compute_layout(graph, rankdir=rankdir, engine=engine)
    _write_picture(graph, lay, path, suffix, states=states, scale=scale, size=size,
                   transparent=transparent, edge_labels=edge_labels,
                   dimmed=outside(graph, members))
    return path


def ensure_qt_app():
    """Return the running Qt application, creating an offscreen one when there is none.

    PySide6 is imported here and in the picture writers below, not at the top: DOT,
    GraphML and JSON files never load Qt (a heavy import the command line avoids).
    """
    from PySide6 import QtWidgets

    protect_none()  # an entry point to Qt: PySide6 6.12 on Python 3.11 (see none_guard)
    app = QtWidgets.QApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QtWidgets.QApplication(["gradstep-export"])
    return app


def _write_picture(graph, lay, path: Path, suffix: str, *, states, scale, size, transparent,
                   edge_labels, dimmed) -> None:
    check_writable(path)  # before drawing: a PDF writer that cannot open it says nothing
    ensure_qt_app()
    from PySide6 import QtCore

    from gradstep.drawing.qt_scene import GraphScene

    scene = GraphScene(graph, lay, states=states, edge_labels=edge_labels)
    scene.set_dimmed(dimmed)
    source = scene.content_rect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    if suffix == ".png":
        _write_png(scene, source, path, scale, transparent)
    else:
        _write_pdf(scene, source, path, size)
    scene.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def _render(scene, painter, target, source) -> None:
    from PySide6 import QtCore, QtGui

    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
    scene.render(painter, target, source, QtCore.Qt.AspectRatioMode.IgnoreAspectRatio)
    painter.end()


def _write_png(scene, source, path: Path, scale: float, transparent: bool) -> None:
    from PySide6 import QtCore, QtGui

    width, height = source.width() * scale, source.height() * scale
    if width * height == float("inf"):  # --scale 1e308: round() of it was an OverflowError
        raise ExportError(lazy("--scale {scale}: the PNG is too big: lower --scale or export "
                               "SVG/PDF", scale=f"{scale:g}"))
    width, height = max(1, round(width)), max(1, round(height))
    if width * height > PNG_PIXELS:
        raise ExportError(lazy("a {width}x{height} PNG is too big (over {limit} million pixels): "
                               "use --scale {fits} or lower, or export SVG/PDF", width=width,
                               height=height, limit=PNG_PIXELS // 1_000_000,
                               fits=f"{scale_that_fits(scale, width * height):g}"))
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent if transparent else QtCore.Qt.GlobalColor.white)
    image.setDotsPerMeterX(round(scale * 96 / 0.0254))
    image.setDotsPerMeterY(round(scale * 96 / 0.0254))
    painter = QtGui.QPainter(image)
    _render(scene, painter, QtCore.QRectF(0, 0, width, height), source)
    with replacing(path) as into:  # whole or not at all (a full disk leaves the old file)
        if not image.save(str(into), "PNG"):
            raise unwritten(path)


def scale_that_fits(scale: float, pixels: int, limit: int | None = None) -> float:
    """Return a scale, two significant digits rounded down, whose picture of ``pixels`` at
    ``scale`` is under ``limit`` (``PNG_PIXELS``; 1% spare for the rounding of its sides)."""
    exact = scale * math.sqrt((PNG_PIXELS if limit is None else limit) / pixels) * 0.99
    unit = 10.0 ** (math.floor(math.log10(exact)) - 1)
    return math.floor(exact / unit) * unit


def _write_pdf(scene, source, path: Path, size: float = 1.0) -> None:
    width, height = shown_size(source.width(), source.height(), size)  # not inf, not 0
    with replacing(path) as into:  # whole or not at all
        _paint_pdf(scene, source, path, into, width, height)


def _paint_pdf(scene, source, path: Path, into: Path, width: float, height: float) -> None:
    from PySide6 import QtCore, QtGui

    writer = QtGui.QPdfWriter(str(into))
    writer.setResolution(72)  # one scene unit = ``size`` points
    page = QtGui.QPageSize(QtCore.QSizeF(width, height),
                           QtGui.QPageSize.Unit.Point, "gradstep", QtGui.QPageSize.SizeMatchPolicy.ExactMatch)
    writer.setPageSize(page)
    writer.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
    writer.setTitle("gradstep graph")
    painter = QtGui.QPainter(writer)
    if not painter.isActive():  # the file could not be opened: Qt only warns
        raise unwritten(path)
    _render(scene, painter, QtCore.QRectF(0, 0, width, height), source)
