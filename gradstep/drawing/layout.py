"""A fast layered (Sugiyama-style) layout: networkx graph in, positions and edge routes out.

Pure Python + numpy, no Qt and no system binary. The stages:

1. ``layering``: break cycles (autograd graphs have none; any other graph may);
   layers by longest path from the roots (root at the top), then nodes with at
   least as many edges below as above are pulled down next to their successors;
   every edge that spans several layers gets a chain of dummy points;
2. ``ordering``: crossing reduction, a depth-first or breadth-first start, then
   barycenter sweeps (one-sided, then two-sided) keeping the best order;
3. ``coordinates``: where each node sits along its layer (straight chains and
   long edges, no overlaps), all layers at once with numpy;
4. here: routes, polylines from the source box's border through the dummy
   points to the target box's border; parallel edges (``x * x``) bow apart.

``layout_dot`` runs Graphviz ``dot`` instead, where it is installed.
Coordinates are scene units (one unit = one pixel at 100%), y grows downwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter, le

import numpy as np

from gradstep.drawing import edge_geometry, style
from gradstep.drawing.coordinates import RANK_GAP, RANK_GAP_LR, assign_coordinates, rank_positions
from gradstep.drawing.graph_files import edge_triples, quote
from gradstep.drawing.layering import LayeredGraph, flips_and_layers
from gradstep.drawing.node_sizes import node_sizes
from gradstep.drawing.ordering import count_inversions, reduce_crossings, start_order
from gradstep.policies.gc_pause import without_gc

__all__ = ["Layout", "DotNotFoundError", "layout", "layout_dot", "count_inversions"]

PARALLEL_SPREAD = 16.0  # how far parallel edges bow apart


@dataclass
class Layout:
    """Where everything goes.

    positions: {node: (x, y)} box centres; sizes: {node: (w, h)};
    routes: {(u, v, key): [(x, y), ...]} from the source box's border to the
    target box's border (the arrowhead goes at the last point);
    bounds: (x0, y0, x1, y1) around all boxes and routes; ranks: {node: layer};
    label_sides: {(u, v, key): -1 or 1} for parallel edges, the way each bows (-1: left,
    or up left to right): its gradient label goes on that side, so two edges' labels do
    not cover each other (``edge_geometry.edge_label_box``).
    """

    positions: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    routes: dict = field(default_factory=dict)
    bounds: tuple = (0.0, 0.0, 0.0, 0.0)
    rankdir: str = "TB"
    ranks: dict = field(default_factory=dict)
    label_sides: dict = field(default_factory=dict)


class DotNotFoundError(RuntimeError):
    """Graphviz ``dot`` is not installed."""


# --------------------------------------------------------------------------------------
# the public entry points


@without_gc  # a 100,000-node layout makes millions of lists: no full collections meanwhile
def layout(graph, *, rankdir: str = "TB", sizes: dict | None = None,
           label_lines: dict | None = None) -> Layout:
    """Return the layered Layout of ``graph`` (any networkx graph), root at the top for TB.

    ``sizes`` maps node to (width, height); missing nodes get the size of their
    label (``node_sizes.node_size``), and their label lines go into ``label_lines``
    (a dict) when one is given. ``rankdir`` is ``TB`` (top-down) or ``LR``.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR', not {rankdir!r}")
    nodes = ordered_nodes(graph)
    all_sizes = _box_sizes(graph, nodes, sizes, label_lines)
    if not nodes:
        return Layout(rankdir=rankdir)
    index = {n: i for i, n in enumerate(nodes)}
    triples = edge_triples(graph)
    edges = _edge_list(triples, index)
    src = [index[u] for u, _, _ in edges]
    dst = [index[v] for _, v, _ in edges]
    flipped, ranks = flips_and_layers(len(nodes), src, dst)
    up_src, up_dst = src, dst  # (the same lists where no edge is turned round)
    if any(flipped):
        up_src = [dst[i] if flipped[i] else src[i] for i in range(len(edges))]
        up_dst = [src[i] if flipped[i] else dst[i] for i in range(len(edges))]
    aug = LayeredGraph(ranks, up_src, up_dst)
    layers, crossings = start_order(aug, len(nodes))
    layers = reduce_crossings(aug, layers, crossings)
    breadth = [all_sizes[n][0 if rankdir == "TB" else 1] for n in nodes]
    depth = [all_sizes[n][1 if rankdir == "TB" else 0] for n in nodes]
    along = assign_coordinates(aug, layers, breadth, len(nodes))
    rank_pos = rank_positions(ranks, depth, RANK_GAP if rankdir == "TB" else RANK_GAP_LR)
    return _build_layout(nodes, edges, flipped, aug, along, rank_pos, all_sizes, rankdir,
                         _self_loop_keys(triples), (src, dst))


def layout_dot(graph, *, rankdir: str = "TB", sizes: dict | None = None,
               timeout: float | None = None, label_lines: dict | None = None) -> Layout:
    """Return the Layout that Graphviz ``dot`` computes for ``graph`` (``dot -Tjson``);
    ``sizes`` and ``label_lines`` as for ``layout``.

    Raises DotNotFoundError when ``dot`` is not on PATH.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFoundError(
            "Graphviz 'dot' is not installed (not found on PATH); install Graphviz "
            "(e.g. 'apt install graphviz') or use the built-in layout (--layout layered)."
        )
    nodes = ordered_nodes(graph)
    all_sizes = _box_sizes(graph, nodes, sizes, label_lines)
    if not nodes:
        return Layout(rankdir=rankdir)
    text = layout_input_dot(graph, all_sizes, rankdir=rankdir)
    done = subprocess.run([exe, "-Tjson"], input=text, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.strip()}")
    return _parse_dot_json(json.loads(done.stdout), nodes, all_sizes, rankdir)


def layout_input_dot(graph, sizes: dict, *, rankdir: str = "TB") -> str:
    """Return DOT for ``dot -Tjson`` to lay out: fixed-size boxes named ``v<index>``.

    Indexes follow ``ordered_nodes``; each edge carries its key as JSON in ``gskey`` (dot
    keeps an attribute of ours in its output; ``key`` it drops, and parallel edges then
    came back as one).
    """
    nodes = ordered_nodes(graph)
    index = {n: i for i, n in enumerate(nodes)}
    out = [f"digraph g {{\n  graph [rankdir={rankdir}, ranksep=0.5, nodesep=0.25];",
           '  node [shape=box, fixedsize=true, label=""];']
    for n in nodes:
        w, h = sizes[n]
        out.append(f"  v{index[n]} [width={w / 72:.4f}, height={h / 72:.4f}];")
    for u, v, key in edge_triples(graph):
        if u != v:
            out.append(f"  v{index[u]} -> v{index[v]} [gskey={quote(json.dumps(key))}];")
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# graph indexing


def ordered_nodes(graph) -> list:
    """Return the nodes, roots first, then in insertion order (``n0`` first for a trace)."""
    roots = style.root_ids(graph)
    return [n for n in graph.nodes if n in roots] + [n for n in graph.nodes if n not in roots]


def _box_sizes(graph, nodes: list, sizes: dict | None, label_lines: dict | None = None) -> dict:
    """Return ``{node: (w, h)}``: the given size, else the size of the node's label (whose
    lines go into ``label_lines`` when it is a dict)."""
    sizes = sizes or {}
    missing = [n for n in nodes if not sizes.get(n)]
    made = [] if label_lines is not None else None
    measured = dict(zip(missing, node_sizes(map(graph._node.__getitem__, missing), made)))
    if made is not None:
        label_lines.update(zip(missing, made))
    if not sizes:  # every node measured, in the nodes' order
        return measured
    return {n: sizes.get(n) or measured[n] for n in nodes}


def _edge_list(triples: list, index: dict) -> list:
    """Return the ``(u, v, key)`` of ``triples`` without self-loops, in a stable order (source,
    then key)."""
    edges = [e for e in triples if e[0] != e[1]]
    keys = list(map(itemgetter(2), edges))
    if edges and set(map(type, keys)) <= {int}:  # (a trace's edges: keys are input slots)
        # For int keys ``_sort_key`` orders as the key itself, so (source, key) is the sort
        # key; as one int per edge (exact: Python ints), sorted stably as ``sort`` would.
        low = min(keys)
        span = max(keys) - low + 1
        places = [index[u] * span for u in map(itemgetter(0), edges)]
        places = list(map(int.__add__, places, [k - low for k in keys]))
        if all(map(le, places, places[1:])):  # in order already: the sort keeps them so
            return edges
        return list(map(edges.__getitem__, sorted(range(len(edges)), key=places.__getitem__)))
    edges.sort(key=lambda e: (index[e[0]], _sort_key(e[2])))
    return edges


def _self_loop_keys(triples: list) -> list:
    """Return ``[(node, key)]`` of self-loops (left out of the layering; autograd makes none)."""
    return [(u, k) for u, v, k in triples if u == v]


def _sort_key(key):
    return (0, key, "") if isinstance(key, (int, float)) else (1, 0, str(key))


# --------------------------------------------------------------------------------------
# routes


def _build_layout(nodes, edges, flipped, aug, along, rank_pos, sizes, rankdir,
                  self_loops, ends_index) -> Layout:
    """Return the Layout: node centres, sizes, edge routes and bounds (``ends_index``:
    the indexes in ``nodes`` of the edges' sources and targets)."""
    across_list = [rank_pos[r] for r in aug.layer]
    along_list = along.tolist()  # the same floats as float(along[v]), made in one go
    tb = rankdir == "TB"
    points = list(zip(along_list, across_list) if tb else zip(across_list, along_list))
    positions = dict(zip(nodes, points))  # real nodes come first in the augmented graph
    parallel = _parallel_index(ends_index, len(nodes))
    made = None if parallel else _routes_at_once(nodes, edges, flipped, aug, along,
                                                  across_list, sizes, tb, ends_index)
    if made is not None:
        routes, boxes, route_points = made
        for u, key in self_loops:
            routes[(u, u, key)] = _self_loop_route(positions[u], sizes[u])
        bounds = (_bounds(positions, sizes, routes) if self_loops
                  else _bounds_of(*boxes, route_points))
    else:
        routes = _routes_one_by_one(nodes, edges, flipped, aug, along, across_list, sizes,
                                    rankdir, ends_index, points, positions, parallel)
        for u, key in self_loops:
            routes[(u, u, key)] = _self_loop_route(positions[u], sizes[u])
        bounds = _bounds(positions, sizes, routes)
    ranks = dict(zip(nodes, aug.layer))
    sides = edge_geometry.parallel_sides({edges[e]: routes[edges[e]] for e in parallel}, tb)
    return Layout(positions, dict(sizes), routes, bounds, rankdir, ranks, sides)


def _routes_one_by_one(nodes, edges, flipped, aug, along, across_list, sizes, rankdir,
                       ends_index, points, positions, parallel) -> dict:
    """Return the routes edge by edge (parallel edges bow apart: ``_route``)."""
    routes = {}
    ends = _route_ends(nodes, ends_index, flipped, aug, along, across_list, sizes,
                       rankdir == "TB")
    chains = aug.chains
    for e, (u, v, key) in enumerate(edges):
        path = chains[e]  # its augmented nodes, upper end first
        if ends is None or e in parallel:
            inner = ([points[d] for d in (path[-2:0:-1] if flipped[e] else path[1:-1])]
                     if len(path) > 2 else [])
            routes[(u, v, key)] = _route(positions[u], sizes[u], positions[v], sizes[v],
                                         inner, parallel.get(e, (0, 1)), rankdir)
        elif len(path) == 2:
            routes[(u, v, key)] = [ends[0][e], ends[1][e]]
        else:
            routes[(u, v, key)] = [ends[0][e],
                                   *map(points.__getitem__,
                                        path[-2:0:-1] if flipped[e] else path[1:-1]),
                                   ends[1][e]]
    return routes


def _routes_at_once(nodes, edges, flipped, aug, along, across_list, sizes, tb: bool,
                    ends_index):
    """Return the routes ``_routes_one_by_one`` makes for edges without parallels, all
    edges at once in numpy: (routes, (box centres, box half sizes), every route point in
    the routes' order as an array of (x, y)); None when a size is not a plain number.

    The same floats: the bend points are the augmented nodes' own coordinates and the
    ends ``_border_points`` of the same arrays ``_route_ends`` makes."""
    if not set(map(type, chain.from_iterable(sizes.values()))) <= {float, int}:
        return None
    lengths, flat = aug.chain_arrays()
    firsts = np.cumsum(lengths) - lengths
    lasts = firsts + lengths - 1
    flip = np.asarray(flipped, dtype=bool)
    # the next point from each end: a bend point, or the other end (chains run top down)
    second, before_last = flat[firsts + 1], flat[lasts - 1]
    toward = (np.where(flip, before_last, second), np.where(flip, second, before_last))
    along_across = (np.asarray(along, dtype=float), np.asarray(across_list, dtype=float))
    xs, ys = along_across if tb else along_across[::-1]
    wh = np.asarray([sizes[n] for n in nodes], dtype=float).reshape(len(nodes), 2)
    # a route's points: its chain's (a flipped edge's from its lower end up), the first and
    # last on the borders of their boxes
    place = np.arange(len(flat))
    if flip.any():
        step = place - np.repeat(firsts, lengths)
        place = np.where(np.repeat(flip, lengths), np.repeat(lasts, lengths) - step, place)
    x, y = xs[flat[place]], ys[flat[place]]
    for at, end, next_point in ((firsts, ends_index[0], toward[0]),
                                (lasts, ends_index[1], toward[1])):
        end = np.asarray(end, dtype=np.int64)
        x[at], y[at] = _border_points(xs[end], ys[end], wh[end, 0], wh[end, 1], xs[next_point],
                                      ys[next_point])
    flat_points = list(zip(x.tolist(), y.tolist()))
    routes = dict(zip([(u, v, key) for u, v, key in edges],
                      [flat_points[a:b] for a, b in zip(firsts.tolist(), (lasts + 1).tolist())]))
    n = len(nodes)
    boxes = (np.stack([xs[:n], ys[:n]], axis=1), wh / 2)
    return routes, boxes, np.stack([x, y], axis=1)


def _route_ends(nodes, ends_index, flipped, aug, along, across_list, sizes, tb: bool):
    """Return (first points, last points) of every edge's route, as ``_route`` makes them
    for an edge without parallels (``_border_point`` towards the next point), all edges at
    once; None when a size is not a plain number (numpy would round it otherwise).

    The same floats as ``_border_point``: the same operations on doubles, in the same order.
    """
    if not set(map(type, chain.from_iterable(sizes.values()))) <= {float, int}:
        return None
    chains = aug.chains
    # the next point from each end: a bend point, or the other end (chains run top down)
    toward = [[c[-2] if f else c[1] for c, f in zip(chains, flipped)],
              [c[1] if f else c[-2] for c, f in zip(chains, flipped)]]
    along_across = (np.asarray(along, dtype=float), np.asarray(across_list, dtype=float))
    xs, ys = along_across if tb else along_across[::-1]
    wh = np.asarray([sizes[n] for n in nodes], dtype=float).reshape(len(nodes), 2)
    out = []
    for end, next_point in zip(ends_index, toward):
        end, next_point = np.asarray(end, dtype=np.int64), np.asarray(next_point, dtype=np.int64)
        x, y = _border_points(xs[end], ys[end], wh[end, 0], wh[end, 1], xs[next_point],
                              ys[next_point])
        out.append(list(zip(x.tolist(), y.tolist())))
    return out


def _border_points(cx, cy, w, h, toward_x, toward_y):
    """Return (x, y) arrays: ``_border_point`` of every box (centre, size) towards a point."""
    dx, dy = toward_x - cx, toward_y - cy
    hw, hh = w / 2, h / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.where(dx != 0, hw / np.abs(dx), np.inf)
        ty = np.where(dy != 0, hh / np.abs(dy), np.inf)
        t = np.where(ty < tx, ty, tx)  # Python's min(tx, ty): tx unless ty is less (NaN, -0.0)
        same = (dx == 0) & (dy == 0)  # towards its own centre: straight down
        return np.where(same, cx, cx + dx * t), np.where(same, cy + hh, cy + dy * t)


def _parallel_index(ends_index: tuple, n: int) -> dict:
    """Return {edge: (i, k)} for the edges that join the same two nodes as others: the k
    of them, in edge order, are i = 0 .. k - 1 (``ends_index``: sources' and targets'
    indexes among the ``n`` nodes)."""
    src, dst = (np.asarray(a, dtype=np.int64) for a in ends_index)
    pair = src * n + dst
    order = np.argsort(pair, kind="stable")
    ranked = pair[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    sizes = np.diff(np.r_[starts, len(pair)])
    out = {}
    for first, k in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
        for i, e in enumerate(order[first:first + k].tolist()):
            out[e] = (i, k)
    return out


def _route(pu, su, pv, sv, inner, parallel, rankdir) -> list:
    """Return the polyline of one edge: border of u, bend points, border of v."""
    i, k = parallel
    shift = (i - (k - 1) / 2) * PARALLEL_SPREAD
    if k > 1 and not inner:  # bow parallel edges apart through a shifted midpoint
        mid = ((pu[0] + pv[0]) / 2, (pu[1] + pv[1]) / 2)
        inner = [(mid[0] + shift, mid[1]) if rankdir == "TB" else (mid[0], mid[1] + shift)]
    elif k > 1:
        inner = [(x + shift, y) if rankdir == "TB" else (x, y + shift) for x, y in inner]
    start = _border_point(pu, su, inner[0] if inner else pv)
    end = _border_point(pv, sv, inner[-1] if inner else pu)
    return [start, *inner, end]


def _border_point(centre, size, toward) -> tuple:
    """Return where the ray from a box's centre towards ``toward`` leaves the box."""
    cx, cy = centre
    dx, dy = toward[0] - cx, toward[1] - cy
    hw, hh = size[0] / 2, size[1] / 2
    if dx == 0 and dy == 0:
        return (cx, cy + hh)
    tx = hw / abs(dx) if dx else float("inf")
    ty = hh / abs(dy) if dy else float("inf")
    t = min(tx, ty)
    return (cx + dx * t, cy + dy * t)


def _self_loop_route(centre, size) -> list:
    x, y = centre
    w, h = size
    right = x + w / 2
    return [(right, y - h / 4), (right + 18, y - h / 4), (right + 18, y + h / 4), (right, y + h / 4)]


def _bounds(positions, sizes, routes) -> tuple:
    """Return (x0, y0, x1, y1) around every box and every route point."""
    if not positions:
        return (0.0, 0.0, 0.0, 0.0)
    names = list(positions)
    xy = np.asarray([positions[n] for n in names], dtype=float)
    wh = np.asarray([sizes[n] for n in names], dtype=float) / 2
    count = sum(map(len, routes.values()))
    arr = None
    if count:
        coords = chain.from_iterable(chain.from_iterable(routes.values()))
        arr = np.fromiter(coords, dtype=float, count=2 * count).reshape(count, 2)
    return _bounds_of(xy, wh, arr)


def _bounds_of(xy, wh, route_points) -> tuple:
    """Return ``_bounds`` of boxes (centres ``xy``, half sizes ``wh``, in the nodes' order)
    and ``route_points`` (every route's points in the routes' order; None or empty: no
    route)."""
    x0, y0 = (xy - wh).min(axis=0)
    x1, y1 = (xy + wh).max(axis=0)
    if route_points is not None and len(route_points):
        arr = route_points
        x0, y0 = min(x0, arr[:, 0].min()), min(y0, arr[:, 1].min())
        x1, y1 = max(x1, arr[:, 0].max()), max(y1, arr[:, 1].max())
    return (float(x0), float(y0), float(x1), float(y1))


# --------------------------------------------------------------------------------------
# Graphviz dot


def _parse_dot_json(data: dict, nodes: list, sizes: dict, rankdir: str) -> Layout:
    """Return a Layout from ``dot -Tjson`` output (y flipped to grow downwards)."""
    top = float(data["bb"].split(",")[3])
    by_gvid = {}
    positions = {}
    for obj in data.get("objects", []):
        if "pos" not in obj:
            continue
        node = nodes[int(obj["name"][1:])]  # nodes are written as "v<index>"
        by_gvid[obj["_gvid"]] = node
        x, y = (float(c) for c in obj["pos"].split(","))
        positions[node] = (x, top - y)
    routes = {}
    for edge in data.get("edges", []):
        u, v = by_gvid[edge["tail"]], by_gvid[edge["head"]]
        key = json.loads(edge["gskey"]) if "gskey" in edge else 0
        routes[(u, v, key)] = _dot_spline_points(edge.get("pos", ""), top)
    return Layout(positions, dict(sizes), routes, _bounds(positions, sizes, routes), rankdir, {},
                  edge_geometry.parallel_sides(routes, rankdir == "TB"))


def _dot_spline_points(pos: str, top: float) -> list:
    """Return the points of a dot edge ``pos`` (``e,x,y x,y ...``): tail first, head last."""
    points, end = [], None
    for part in pos.split():
        fields = part.split(",")
        if fields[0] == "e":
            end = (float(fields[1]), top - float(fields[2]))
        elif fields[0] == "s":
            continue
        else:
            points.append((float(fields[0]), top - float(fields[1])))
    if end is not None:
        points.append(end)
    return points
