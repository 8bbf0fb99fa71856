"""Graph files without Qt: DOT (renders with Graphviz), GraphML (networkx, Gephi, yEd), JSON.

JSON is the trace JSON of DESIGN.md plus, per node, ``x``, ``y`` (centre),
``width``, ``height`` and, per edge, ``points`` (the route, source to target).
"""

from __future__ import annotations

import json
from itertools import chain
from typing import TYPE_CHECKING

from gradstep.drawing import style
from gradstep.policies.strict_json import dumps, json_float, plain
from gradstep.schema.graph import NODE_FIELDS

if TYPE_CHECKING:
    import networkx as nx

# --------------------------------------------------------------------------------------
# DOT


def quote(text) -> str:
    """Return ``text`` as a DOT double-quoted string (quotes, backslashes, newlines escaped)."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{text}"'


_DOT_DASH = {"solid": "", "dash": ",dashed", "dot": ",dotted"}  # StateLook.dash -> style


def node_label(attrs: dict, state: str = "pending") -> str:
    """Return a node's label text: its lines, with the state's glyph on the title (the
    saved line reads ``attrs["saved"]``: pass a step's saved entries to show that moment)."""
    lines = [ln.text for ln in style.label_lines(attrs)]
    glyph = style.state_look(state).glyph
    if glyph and lines:
        lines[0] = f"{glyph} {lines[0]}"
    return "\n".join(lines)


def to_dot(graph, *, states: dict | None = None, rankdir: str = "TB",
           edge_labels: dict | None = None) -> str:
    """Return DOT text drawing ``graph`` in the torchviz look (``dot -Tsvg`` renders it)."""
    states, edge_labels = states or {}, edge_labels or {}
    roots = style.root_ids(graph)
    out = [
        "digraph gradstep {",
        f"  graph [rankdir={rankdir}, ranksep=0.4, nodesep=0.25];",
        '  node [shape=box, style="filled", fontname="DejaVu Sans", fontsize=10, '
        'margin="0.1,0.05", height=0.3];',
        '  edge [color="#7f7f7f", arrowsize=0.7, fontname="DejaVu Sans", fontsize=9];',
    ]
    for node, attrs in graph.nodes(data=True):
        state = states.get(node, "pending")
        look = style.state_look(state)
        fill = style.node_fill(attrs, is_root=node in roots, state=state)
        dash = _DOT_DASH[look.dash]
        out.append(
            f"  {quote(node)} [label={quote(node_label(attrs, state))}, "
            f'fillcolor="{fill}", color="{look.border}", penwidth={look.border_width:g}, '
            f'style="filled{dash}"];'
        )
    for u, v, key in edge_triples(graph):
        label = edge_labels.get((u, v, key))
        extra = f", label={quote(label)}" if label else ""
        out.append(f"  {quote(u)} -> {quote(v)} [key={quote(json.dumps(key))}{extra}];")
    out.append("}")
    return "\n".join(out) + "\n"


def edge_triples(graph):
    """Return the edges as (u, v, key) triples; key 0 for a graph without keys."""
    if graph.is_multigraph():
        if graph.is_directed():  # networkx's order, read from its dicts (no generator per edge)
            return [(u, v, key) for u, targets in graph._succ.items()
                    for v, keys in targets.items() for key in keys]
        return list(graph.edges(keys=True))  # the order of _edges_data, without the attributes
    return [(u, v, 0) for u, v in graph.edges()]


def edge_count(graph) -> int:
    """Return ``len(graph.edges)``; for a directed graph counted from networkx's dicts."""
    if not graph.is_directed():
        return len(graph.edges)
    targets = graph._succ.values()
    if graph.is_multigraph():
        return sum(map(len, chain.from_iterable(map(dict.values, targets))))
    return sum(map(len, targets))


# --------------------------------------------------------------------------------------
# GraphML


def flat_value(value):
    """Return ``value`` as a GraphML-safe scalar: numbers and strings as they are,
    None as '', lists/dicts as compact JSON text, non-finite floats as 'NaN'/'Infinity'."""
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return json_float(value)
    if value is None:
        return ""
    return dumps(value)


def flat_attrs(attrs: dict) -> dict:
    """Return attributes flattened for GraphML (see ``flat_value``); None is left out (a
    GraphML element without the data has no value)."""
    return {str(k): flat_value(v) for k, v in attrs.items() if v is not None}


def one_type_each(items) -> None:
    """Write an attribute that has values of more than one type among ``items`` (dicts of flat
    values) as one type in every item (float for ints and floats, else text), so that it gets one GraphML key: networkx writes a key per
    name and type (a leaf's ``seq`` of '' beside the ops' numbers gave two keys named ``seq``,
    which Gephi and yEd read as one column of two types)."""
    types: dict = {}
    for attrs in items:
        for name, value in attrs.items():
            types.setdefault(name, set()).add(type(value))
    mixed = {name for name, kinds in types.items() if len(kinds) > 1}
    for name in mixed:
        to = float if types[name] <= {int, float} else str  # numbers stay numbers
        for attrs in items:
            if name in attrs:
                attrs[name] = to(attrs[name])


def to_graphml_graph(graph, layout=None, states: dict | None = None) -> nx.MultiDiGraph:
    """Return a copy of ``graph`` with flat attributes (plus x, y, width, height, state),
    its edges keyed ``e0``, ``e1``, ... in ``graph``'s edge order: networkx writes a
    multigraph's keys as the edges' ``id``, which GraphML readers (yEd) take as unique in
    the file; the slot each edge leaves from is its ``slot`` data."""
    import networkx as nx  # here: only GraphML needs it (the kernel's other files: PlainGraph)

    out = nx.MultiDiGraph()
    out.graph.update(flat_attrs({k: v for k, v in graph.graph.items()}))
    for node, attrs in graph.nodes(data=True):
        flat = flat_attrs(attrs)
        if layout is not None and node in layout.positions:
            (x, y), (w, h) = layout.positions[node], layout.sizes[node]
            flat.update(x=float(x), y=float(y), width=float(w), height=float(h))
        if states:
            flat["state"] = states.get(node, "pending")
        out.add_node(str(node), **flat)
    for number, (u, v, key, attrs) in enumerate(_edges_data(graph)):
        flat = flat_attrs(attrs)
        flat.setdefault("slot", key if isinstance(key, int) else str(key))
        if layout is not None and (u, v, key) in layout.routes:
            flat["points"] = json.dumps([[round(x, 2), round(y, 2)] for x, y in layout.routes[(u, v, key)]])
        out.add_edge(str(u), str(v), key=f"e{number}", **flat)
    one_type_each([attrs for _, attrs in out.nodes(data=True)])
    one_type_each([attrs for _, _, attrs in out.edges(data=True)])
    return out


def _edges_data(graph):
    """Return the edges as (u, v, key, attrs); key 0 for a graph without keys."""
    if graph.is_multigraph():
        return list(graph.edges(keys=True, data=True))
    return [(u, v, 0, d) for u, v, d in graph.edges(data=True)]


def write_graphml(graph, path, *, layout=None, states: dict | None = None) -> None:
    """Write ``graph`` as GraphML that ``networkx.read_graphml``, Gephi and yEd open."""
    import networkx as nx

    nx.write_graphml(to_graphml_graph(graph, layout, states), str(path))


# --------------------------------------------------------------------------------------
# JSON


def to_json(graph, layout=None, states: dict | None = None, edge_grads: dict | None = None,
            extra: dict | None = None) -> dict:
    """Return the DESIGN trace JSON of ``graph`` plus geometry (and ``state`` when given).

    ``edge_grads`` ({(source, target, slot): gradient}) adds ``grad`` to every edge (null
    where none flowed); ``extra`` adds top-level fields (the step an export shows)."""
    roots = sorted(style.root_ids(graph), key=str)
    root = graph.graph.get("root", roots[0] if roots else None)
    nodes = []
    for node, attrs in graph.nodes(data=True):
        item = {name: plain(attrs.get(name)) for name in NODE_FIELDS}
        item["id"] = str(node)
        for name, value in attrs.items():  # module boxes carry op_count, members
            if name not in item:
                item[name] = plain(value)
        if layout is not None and node in layout.positions:
            (x, y), (w, h) = layout.positions[node], layout.sizes[node]
            item.update(x=round(float(x), 3), y=round(float(y), 3),
                        width=round(float(w), 3), height=round(float(h), 3))
        if states:
            item["state"] = states.get(node, "pending")
        nodes.append(item)
    edges = []
    for u, v, key, attrs in _edges_data(graph):
        item = {"source": str(u), "target": str(v), "slot": plain(attrs.get("slot", key)),
                "input_nr": plain(attrs.get("input_nr", 0))}
        if layout is not None and (u, v, key) in layout.routes:
            item["points"] = [[round(float(x), 3), round(float(y), 3)]
                              for x, y in layout.routes[(u, v, key)]]
        if edge_grads is not None:
            item["grad"] = plain(edge_grads.get((u, v, attrs.get("slot", key))))
        edges.append(item)
    data = {"root": root, "device": graph.graph.get("device", "cpu"), "nodes": nodes,
            "edges": edges}
    if extra:
        data.update(plain(extra))
    if layout is not None:
        data["bounds"] = [round(float(b), 3) for b in layout.bounds]
        data["rankdir"] = layout.rankdir
    return data


def write_json(graph, path, *, layout=None, states: dict | None = None,
               edge_grads: dict | None = None, extra: dict | None = None) -> None:
    """Write ``to_json`` as strict JSON (UTF-8, no NaN literals)."""
    # to_json's data is strict already (strict_json.plain): no second pass over a big graph
    text = json.dumps(to_json(graph, layout, states, edge_grads, extra), ensure_ascii=False,
                      allow_nan=False, indent=1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
