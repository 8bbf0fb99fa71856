"""Write a graph as SVG, DOT, GraphML or JSON (pure: no Qt), and the layout they and pictures share.

``export.export_graph`` writes every format and hands these four here; the Python API
(``gradstep.draw(...).save("graph.dot")``) and the kernel (``gradstep.kernel.writing``: the
command line's exports, drawn where the graph lives) call this module directly, so
writing these files never imports Qt.
"""

from __future__ import annotations

from pathlib import Path

from gradstep.drawing.collapse import box_states, collapse_to_depth, outside
from gradstep.drawing.formats import FILE_FORMATS, MARGIN, TEXT_FORMATS, ExportError, shown_size
from gradstep.drawing.graph_files import to_dot, write_graphml, write_json
from gradstep.drawing.layout import layout as layered_layout
from gradstep.drawing.layout import layout_dot
from gradstep.drawing.svg_picture import write_svg
from gradstep.i18n import lazy
from gradstep.policies.whole_file import replacing

__all__ = ["FILE_FORMATS", "MARGIN", "TEXT_FORMATS", "ExportError", "compute_layout", "fold",
           "shown_size", "write_graph_file", "write_text_file"]


def fold(graph, states: dict | None, collapse: int | None):
    """Return ``(graph, states)`` with module scopes deeper than ``collapse`` folded into
    boxes, each box taking the state of what it holds."""
    if collapse:
        graph = collapse_to_depth(graph, collapse)
    if states:
        states = {**states, **box_states(graph, states)}  # module boxes follow their members
    return graph, states


def compute_layout(graph, *, rankdir: str = "TB", engine: str = "layered",
                   label_lines: dict | None = None):
    """Return the Layout of ``graph`` from the chosen engine (``layered`` or ``dot``); the
    label lines it made to size the boxes go into ``label_lines`` when it is a dict."""
    if engine == "layered":
        return layered_layout(graph, rankdir=rankdir, label_lines=label_lines)
    if engine == "dot":
        return layout_dot(graph, rankdir=rankdir, label_lines=label_lines)
    raise ExportError(lazy("unknown layout engine {engine}: use 'layered' or 'dot'",
                           engine=repr(engine)))


def write_text_file(graph, path, *, states: dict | None = None, rankdir: str = "TB",
                    engine: str = "layered", collapse: int | None = None,
                    edge_labels: dict | None = None, layout=None, edge_grads: dict | None = None,
                    extra: dict | None = None, members=None, size: float = 1.0) -> Path:
    """Write ``graph`` as SVG, DOT, GraphML or JSON by ``path``'s suffix, with module scopes
    deeper than ``collapse`` folded first (``layout`` is of the folded graph); return the path.
    An SVG draws the nodes outside ``members`` (a pass's own graph) faded, and is shown
    ``size`` times its drawing (``svg_picture.write_svg``).
    """
    path = Path(path)
    graph, states = fold(graph, states, collapse)
    if path.suffix.lower() != ".svg":
        return write_graph_file(graph, path, states=states, rankdir=rankdir, engine=engine,
                                edge_labels=edge_labels, layout=layout, edge_grads=edge_grads,
                                extra=extra)
    made: dict = {}  # the lines the layout sizes the boxes by: the picture draws them
    lay = layout if layout is not None else compute_layout(graph, rankdir=rankdir, engine=engine,
                                                           label_lines=made)
    with replacing(path) as into:  # whole or not at all (a full disk leaves the old file)
        write_svg(graph, lay, into, states=states, edge_labels=edge_labels, margin=MARGIN,
                  label_lines=made, dimmed=outside(graph, members), size=size)
    return path


def write_graph_file(graph, path, *, states: dict | None = None, rankdir: str = "TB",
                     engine: str = "layered", edge_labels: dict | None = None, layout=None,
                     edge_grads: dict | None = None, extra: dict | None = None) -> Path:
    """Write an (already folded) ``graph`` as DOT, GraphML or JSON, by ``path``'s suffix.

    DOT leaves the layout to Graphviz; GraphML and JSON carry ours (``layout``, or
    one computed here). Each is written whole or not at all (``whole_file.replacing``).
    Returns the path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".dot", ".gv"):
        text = to_dot(graph, states=states, rankdir=rankdir, edge_labels=edge_labels)
        with replacing(path) as into:
            into.write_text(text, encoding="utf-8")
        return path
    if suffix not in FILE_FORMATS:
        raise ExportError(lazy("{name} is not a graph file: use one of {known}",
                               name=repr(path.name), known=", ".join(FILE_FORMATS)))
    lay = layout if layout is not None else compute_layout(graph, rankdir=rankdir, engine=engine)
    with replacing(path) as into:
        if suffix == ".graphml":
            write_graphml(graph, into, layout=lay, states=states)
        else:
            write_json(graph, into, layout=lay, states=states, edge_grads=edge_grads,
                       extra=extra)
    return path
