"""Fold module scopes into single boxes and unfold them again (pure).

A node's ``scope`` is the dotted path of the ``nn.Module`` it ran in
(``layer1.0.conv1``). Collapsing scope ``layer1.0`` replaces every node whose
scope is ``layer1.0`` or lies inside it by one box of kind ``module`` with its
op count; edges into and out of the box are merged (``count`` says how many).
Expanding is collapsing the original graph with a smaller set of scopes, so
the original graph is never modified.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

MODULE_PREFIX = "module:"
READABLE_NODES = 80  # the default depth keeps a graph at most this big where it can


def scope_parts(scope) -> list[str]:
    """Return the dotted parts of a scope (``[]`` for none)."""
    return [p for p in str(scope or "").split(".") if p]


def owning_scope(scope, collapsed: set) -> str | None:
    """Return the outermost scope in ``collapsed`` that holds ``scope`` (or None)."""
    parts = scope_parts(scope)
    for depth in range(1, len(parts) + 1):
        prefix = ".".join(parts[:depth])
        if prefix in collapsed:
            return prefix
    return None


def module_id(scope: str) -> str:
    """Return the node id of the box of a collapsed scope."""
    return MODULE_PREFIX + scope


def collapse_scopes(graph, collapsed, *, classes: dict | None = None) -> nx.MultiDiGraph:
    """Return a copy of ``graph`` with each scope in ``collapsed`` folded into one box.

    Box attributes: ``id``, ``kind="module"``, ``name`` (the module class when
    ``classes`` or ``graph.graph["scope_classes"]`` knows it, else ``Module``),
    ``label`` (scope, plus class), ``scope``, ``op_count``, ``members`` (node
    ids), and ``device``/``dtype`` of its members. An edge between two boxes or
    a box and a node is merged into one with ``count`` the number it stands for.
    """
    collapsed = set(collapsed or ())
    classes = classes if classes is not None else graph.graph.get("scope_classes", {})
    import networkx as nx  # here: the kernel draws an unfolded graph without it (PlainGraph)

    owner = {n: owning_scope(attrs.get("scope"), collapsed) for n, attrs in graph.nodes(data=True)}
    out = nx.MultiDiGraph()
    out.graph.update(graph.graph)
    members: dict[str, list] = {}
    for node, attrs in graph.nodes(data=True):
        scope = owner[node]
        if scope is None:
            out.add_node(node, **attrs)
        else:
            members.setdefault(scope, []).append(node)
    for scope, nodes in members.items():
        out.add_node(module_id(scope), **_module_attrs(graph, scope, nodes, classes))
    _add_merged_edges(graph, out, owner)
    if "root" in graph.graph and owner.get(graph.graph["root"]):
        out.graph["root"] = module_id(owner[graph.graph["root"]])
    return out


def _module_attrs(graph, scope: str, nodes: list, classes: dict) -> dict:
    ops = [n for n in nodes if graph.nodes[n].get("kind") == "op"]
    cls = classes.get(scope)
    first = graph.nodes[nodes[0]]
    return {
        "id": module_id(scope), "name": cls or "Module", "kind": "module",
        "label": f"{scope} ({cls})" if cls else scope, "scope": scope,
        "shape": None, "dtype": first.get("dtype"), "device": first.get("device"),
        "value": None, "saved": [], "op_count": len(ops), "members": list(nodes),
    }


def _add_merged_edges(graph, out, owner: dict) -> None:
    """Add the edges of ``graph`` to ``out``: kept between plain nodes, merged at boxes."""
    merged: dict[tuple, dict] = {}
    for u, v, key, data in graph.edges(keys=True, data=True):
        su, sv = owner[u], owner[v]
        if su is None and sv is None:
            out.add_edge(u, v, key=key, **data)
            continue
        a = module_id(su) if su else u
        b = module_id(sv) if sv else v
        if a == b:
            continue  # inside one box
        entry = merged.setdefault((a, b), {**data, "count": 0, "edges": []})
        entry["count"] += 1
        entry["edges"].append([u, v, key])
    for (a, b), data in merged.items():
        out.add_edge(a, b, key=data.get("slot", 0), **data)


def scopes_at_depth(graph, depth: int) -> set[str]:
    """Return every scope prefix with exactly ``depth`` parts (the boxes of that depth)."""
    found = set()
    for _, attrs in graph.nodes(data=True):
        parts = scope_parts(attrs.get("scope"))
        if len(parts) >= depth >= 1:
            found.add(".".join(parts[:depth]))
    return found


def collapse_to_depth(graph, depth: int | None) -> nx.MultiDiGraph:
    """Return ``graph`` with every scope of ``depth`` parts collapsed (None or 0: unchanged)."""
    if not depth:
        return graph
    return collapse_scopes(graph, scopes_at_depth(graph, depth))


def max_depth(graph) -> int:
    """Return the deepest scope nesting in ``graph`` (0 when no node has a scope)."""
    scopes = [a.get("scope") for _, a in graph.nodes(data=True)]
    try:  # each distinct scope once (a graph has few); texts: no 1 and 1.0 made one
        distinct = set(scopes)
    except TypeError:
        distinct = None
    if distinct is not None and set(map(type, distinct)) <= {str, type(None)}:
        scopes = distinct
    return max((len(scope_parts(scope)) for scope in scopes), default=0)


def visible_count(graph, collapsed: set) -> int:
    """Return how many boxes a graph shows with ``collapsed`` folded (without building it)."""
    owners = [owning_scope(a.get("scope"), collapsed) for _, a in graph.nodes(data=True)]
    return owners.count(None) + len(set(owners) - {None})


def default_depth(graph, limit: int = READABLE_NODES) -> int | None:
    """Return the collapse depth a graph opens at: None when it is small enough as it is,
    else the deepest depth that shows at most ``limit`` boxes (the smallest count if none does)."""
    if graph.number_of_nodes() <= limit:
        return None
    best, best_count = None, graph.number_of_nodes()
    for depth in range(1, max_depth(graph) + 1):
        count = visible_count(graph, scopes_at_depth(graph, depth))
        if count <= limit:
            best, best_count = depth, 0  # deeper and still small enough wins
        elif best_count and count < best_count:
            best, best_count = depth, count
    return best


def default_collapsed(graph, limit: int = READABLE_NODES) -> set[str]:
    """Return the set of scopes to fold when ``graph`` first opens (empty for small graphs)."""
    depth = default_depth(graph, limit)
    return scopes_at_depth(graph, depth) if depth else set()


def box_state(member_states) -> str:
    """Return the state of a module box from its members' states: ``error`` or ``current``
    when a member is, ``freed`` when every member is freed, ``done`` when every member has
    run, else ``pending``."""
    found = set(member_states)
    for state in ("error", "current"):
        if state in found:
            return state
    if found == {"freed"}:
        return "freed"
    if found and found <= {"done", "freed"}:
        return "done"
    return "pending"


def box_states(graph, states: dict) -> dict:
    """Return ``{box id: state}`` for the module boxes of a collapsed graph, from their
    members' states (see ``box_state``)."""
    return {node: box_state(states.get(m, "pending") for m in attrs.get("members", ()))
            for node, attrs in graph.nodes(data=True) if attrs.get("kind") == "module"}


def outside(graph, members) -> set:
    """Return the drawn nodes of ``graph`` outside a pass whose own graph is ``members``
    (node ids; None: every node is in it): a module box is outside when all it holds is.
    These are drawn faded (the other ``p[i]`` of a snippet that calls backward on one)."""
    if members is None:
        return set()
    return {node for node, attrs in graph.nodes(data=True)
            if not any(m in members for m in (attrs.get("members") or (node,)))}
