"""Draw the snippet's own backward calls on the graph gradstep traced.

A call such as ``torch.autograd.grad(p[1], [a])`` differentiates a tensor
(``p[1]``) that is not the drawn root (``p``), so its recorded timeline numbers
a graph of its own. When that graph shares nodes with the drawn one (``p[1]``'s
``SelectBackward0`` leads into ``p``'s ``SoftmaxBackward0``), the call's roots
join the drawn graph and its timeline is renumbered onto the drawn graph's ids,
so its steps can be shown there. A call on a graph with nothing in common (a
fresh graph per training step) is left as it is.
"""

from __future__ import annotations

from gradstep.autograd.node_memory import mark_of
from gradstep.autograd.safe_reads import ACCUMULATE_GRAD
from gradstep.autograd.trace import node_key


class DrawnNodes:
    """The drawn graph's nodes as a call's graph is matched to them: by ``node_key``, and,
    once the snippet started a thread, an op node by its anomaly-metadata dict (read only
    then, once). Made once for a drawn graph: ``roots_to_join`` and ``renumber_calls`` match
    the same calls' graphs to it, each once (``ids_of``)."""

    def __init__(self, trace_id_of: dict):
        self.trace_id_of = trace_id_of
        self.by_key = {node_key(fn): node_id for fn, node_id in trace_id_of.items()}
        self._by_mark: dict | None = None
        self._ids: dict = {}  # id(entry) -> ids_of(entry) (the entries outlive this object)

    def by_mark(self) -> dict:
        """Return ``{id(metadata dict): node id}`` of the drawn op nodes."""
        if self._by_mark is None:
            self._by_mark = {}
            for fn, node_id in self.trace_id_of.items():
                if type(fn) is not ACCUMULATE_GRAD and (mark := mark_of(fn)) is not None:
                    self._by_mark[id(mark)] = node_id
        return self._by_mark

    def ids_of(self, entry) -> dict:
        """Return ``{call's node id: drawn node id}`` for the nodes of ``entry``'s graph that
        are drawn nodes.

        By ``node_key`` (sequence number and name) where the snippet started no thread:
        torch numbers one thread's nodes from one counter, so no two nodes share a key. Once
        it started one (``entry.threads``, before the call or after it), a key may be another
        thread's node too (the thread's ``x.exp()`` and the main thread's, both
        ``ExpBackward0`` number 1): an op node is then the drawn node only if it has the very
        metadata dict the call held (``calls.CallGraph.marks``); one whose dict it could not
        hold is not known to be drawn. A leaf is told by its tensor's ``id`` as before. The
        dict is read, not changed, by its users."""
        mapped = self._ids.get(id(entry))
        if mapped is None:
            mapped = self._ids[id(entry)] = self._ids_of(entry)
        return mapped

    def _ids_of(self, entry) -> dict:
        if not entry.threads:
            return {old: self.by_key[key] for key, old in entry.ids.items() if key in self.by_key}
        by_mark = self.by_mark()
        mapped = {old: self.by_key[key] for key, old in entry.ids.items()
                  if key[0] != "op" and key in self.by_key}
        for old, mark in entry.marks.items():
            if mark is not None and id(mark) in by_mark:
                mapped[old] = by_mark[id(mark)]
        return mapped


def _all_nodes(entry) -> set:
    """Return the node ids of ``entry``'s graph (its keys may collide across threads: its
    marks name every op node)."""
    return set(entry.ids.values()) | set(entry.marks)


def _op_nodes(entry) -> set:
    """Return the ids of ``entry``'s op nodes (not leaves' AccumulateGrad)."""
    return {old for key, old in entry.ids.items() if key[0] == "op"} | set(entry.marks)


def roots_to_join(drawn: DrawnNodes, call_graphs: list) -> list:
    """Return the grad_fns of call roots to add to the drawn graph's roots (``drawn``: its
    nodes).

    ``call_graphs`` holds a ``calls.CallGraph`` per call (None for a call that recorded
    no graph). Only calls whose graph shares an op node with the drawn one count (every
    step of a training loop shares the parameters' AccumulateGrad nodes, and is still a
    graph of its own); roots already drawn are not repeated.
    """
    extra: list = []
    for entry in call_graphs:
        if not entry:
            continue
        mapped = drawn.ids_of(entry)
        ops = _op_nodes(entry)
        if not any(old in ops for old in mapped):
            continue
        extra.extend(fn for fn in entry.roots if fn not in drawn.trace_id_of and fn not in extra)
    return extra


def on_a_called_graph(fns: list, root_keys: set, call_graphs: list) -> bool:
    """Return True when one of the snippet's recorded calls ran on the graph of these root
    nodes: its root is one of them (``root_keys``, ``(id(tensor), node_key(fn))`` of the
    candidate tensors, against ``CallGraph.root_keys``), or its graph shares an op node with
    theirs (``y.sum().backward()`` and the drawn ``y``: the call's root then joins the drawn
    graph, ``roots_to_join``). Walks ``next_functions`` with a stack, each node once, and
    stops at the first node found; a leaf's key (its tensor's id) is not matched. Once the
    snippet started a thread (``CallGraph.threads``) an op node is the call's only if it has
    the very metadata dict the call held, as ``DrawnNodes.ids_of`` tells them: a key may be
    another thread's node (a thread's ``x.exp()`` and the main thread's are both
    ``ExpBackward0`` number 0)."""
    graphs = [entry for entry in call_graphs if entry]
    if any(key in root_keys for entry in graphs for key in entry.root_keys):
        return True
    ops = {key for entry in graphs if not entry.threads for key in entry.ids if key[0] == "op"}
    marks = {id(mark) for entry in graphs if entry.threads
             for mark in entry.marks.values() if mark is not None}
    if not ops and not marks:
        return False
    stack = [fn for fn in fns if fn is not None]
    seen: set = set()
    while stack:
        fn = stack.pop()
        key = node_key(fn)
        if key[0] != "op" or key in seen:
            continue
        if key in ops or (marks and (mark := mark_of(fn)) is not None and id(mark) in marks):
            return True
        seen.add(key)
        stack.extend(child for child, _ in fn.next_functions if child is not None)
    return False


def renumber_calls(calls: list, call_graphs: list, drawn: DrawnNodes | None) -> None:
    """Rewrite, in place, the node ids of each call record whose nodes are all drawn, and
    set every record's ``drawn``: True when its graph's nodes are the drawn graph's own
    (the same nodes, told by ``DrawnNodes.ids_of``: an op node by its sequence number, or
    its metadata dict once the snippet started a thread; a call on an earlier graph that
    merely looks the same, such as a loss computed again, or another thread's graph of the
    same numbers, is not drawn). ``drawn``: the drawn graph's nodes (None where no call
    recorded a graph)."""
    freed_unseen: dict = {}  # drawn nodes a call not drawn freed, in order (freed_elsewhere)
    for record, entry in zip(calls, call_graphs):
        record["drawn"] = False
        if not entry:
            continue
        new_id = drawn.ids_of(entry)
        if not entry.ids or len(new_id) < len(_all_nodes(entry)):
            if freed_elsewhere(record, new_id, _op_nodes(entry), freed_unseen):
                record["freed_drawn"] = True  # (gradstep's own pass names it: backward.py)
            continue
        _renumber_record(record, new_id)
        record["drawn"] = True
        timeline = record.get("timeline")
        if timeline and freed_unseen:  # (nodes of its own graph: its own probe tells)
            own = set(new_id.values())
            timeline["freed_before"] = list(timeline.get("freed_before") or ()) + [
                node for node in freed_unseen if node not in own]
        entry.view_versions, entry.raised_view_versions = (
            {new_id.get(n, n): names for n, names in versions.items()}
            for versions in (entry.view_versions, entry.raised_view_versions))


def freed_elsewhere(record: dict, new_id: dict, ops: set, freed: dict) -> bool:
    """Add to ``freed`` (drawn node ids, in order, each once: a dict's keys, as a list's
    ``not in`` made a call that freed a large drawn graph quadratic) the drawn graph's nodes whose
    buffers the call of ``record`` (not drawn: its root is no tensor the snippet holds, such
    as ``(g * g).sum().backward()`` after ``g`` = ``autograd.grad(y, x, create_graph=True)``)
    freed. A later drawn call lists them in its ``freed_before``: its own probe reads only
    its own graph, and the drawn nodes outside it showed their buffers alive in its steps,
    where torch had freed them (statehunt4). ``new_id``: the call's nodes that are drawn
    nodes (``DrawnNodes.ids_of``: once the snippet started a thread, told by their metadata
    dicts, as a key may be another thread's node); only op nodes (``ops``: an
    AccumulateGrad's key is its leaf's ``id``, which python may give again). Return whether
    the call freed any drawn node."""
    timeline = record.get("timeline") or {}
    freed_nodes = timeline.get("freed_nodes")
    if not freed_nodes or not new_id:
        return False
    before = set(timeline.get("freed_before") or ())
    drawn = [old for old in dict.fromkeys(freed_nodes) if old in ops and old in new_id]
    freed.update(dict.fromkeys(new_id[old] for old in drawn))  # (one met again: its place)
    return any(old not in before for old in drawn)


def resolve_call_views(calls: list, call_graphs: list, trace) -> None:
    """Add to each drawn call's ``changed_before`` the saved views its probe could not tell
    as the call began (``calls.CallGraph.view_versions``), and to its ``changed_when_raised``
    those it could not tell as it raised, told now that the snippet is done from the
    trace's saved entries (``saved.resolve_view_versions``). Run after ``renumber_calls``,
    with the trace its ids are renumbered onto."""
    from gradstep.autograd.saved import resolve_view_versions

    nodes = trace.graph.nodes
    def saved_of(node_id):
        return nodes[node_id].get("saved") if node_id in nodes else None

    for record, entry in zip(calls, call_graphs):
        if not entry or not record.get("drawn"):
            continue
        timeline = record.get("timeline") or {}
        for key, versions in (("changed_before", entry.view_versions),
                              ("changed_when_raised", entry.raised_view_versions)):
            changed = timeline.get(key)
            if versions and changed is not None:  # (None: the probe failed, or no error)
                resolve_view_versions(changed, versions, saved_of)


def _renumber_record(record: dict, new_id: dict) -> None:
    for node in record.get("nodes") or []:
        node["id"] = new_id.get(node["id"], node["id"])
    timeline = record.get("timeline") or {}
    for step in timeline.get("steps") or []:
        step["node"] = new_id.get(step["node"], step["node"])
    for key in ("freed_nodes", "freed_before"):
        if timeline.get(key):
            timeline[key] = [new_id.get(n, n) for n in timeline[key]]
    for key in ("changed_before", "changed_when_raised"):
        if timeline.get(key):
            timeline[key] = {new_id.get(n, n): marks for n, marks in timeline[key].items()}
    for reading in timeline.get("probed") or ():  # [moment, {node: {name: version}}]
        reading[1] = {new_id.get(n, n): names for n, names in reading[1].items()}
    for error in (record.get("error"), timeline.get("error")):
        if isinstance(error, dict) and error.get("node") in new_id:
            error["node"] = new_id[error["node"]]
