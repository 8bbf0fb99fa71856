"""Label an indexing node after what it indexes: ``p[1]`` rather than ``select`` (pure).

``torch.autograd.grad(p[1], [a])`` and ``p[2]`` make two ``SelectBackward0`` nodes
that no variable holds, so both would read ``select``. A select saves its ``dim``
and ``index``; the node it reads from (slot 0) is labelled after its variable
(``p``), so the select is ``p[1]`` (``p[:, 1]`` for dim 1, ``p[..., 1]`` for a
negative dim). Nodes whose input has no variable name keep their label.
"""

from __future__ import annotations

INDEXING = {"SelectBackward0": "select"}


def label_indexing(graph, default_label, indexing: list | None = None) -> None:
    """Relabel, in place, the unnamed select nodes of a trace graph whose input is named.

    ``default_label(name)`` is the label an op gets when no variable names it.
    ``indexing``: the graph's ``(node, attrs)`` of kind ``op`` named in ``INDEXING``, in
    the graph's order, when the caller has them (else they are looked for).
    """
    if indexing is None:
        indexing = [(node, attrs) for node, attrs in graph.nodes(data=True)
                    if attrs.get("kind") == "op" and attrs.get("name") in INDEXING]
    # inputs first (they have the larger breadth-first ids), so p[1][0] builds on p[1]
    for node, attrs in sorted(indexing, key=_first_id_number, reverse=True):
        if attrs.get("label") != default_label(attrs["name"]):
            continue  # a variable holds it: its own name wins
        saved = {s.get("name"): s.get("value") for s in attrs.get("saved") or []
                 if isinstance(s, dict) and "value" in s}
        dim, index = saved.get("dim"), saved.get("index")
        if not isinstance(dim, int) or not isinstance(index, int):
            continue
        if index >= 2**63:  # a negative index saved as an unsigned 64-bit number
            index -= 2**64
        base = _input_label(graph, node, default_label)
        if base:
            where = "..., " if dim < 0 else ":, " * dim
            attrs["label"] = f"{base}[{where}{index}]"


def _input_label(graph, node: str, default_label) -> str | None:
    # graph.out_edges(node, keys=True) read from networkx's own dicts, in its order
    for target, keys in graph._succ[node].items():
        if 0 in keys:
            attrs = graph._node[target]
            label = attrs.get("label")
            named = attrs.get("kind") == "leaf" or label != default_label(attrs.get("name", ""))
            return label if label and named and label != "leaf" else None
    return None


def _first_id_number(item) -> int:
    return _id_number(item[0])


def _id_number(node_id) -> int:
    try:
        return int(str(node_id)[1:])
    except ValueError:
        return -1
