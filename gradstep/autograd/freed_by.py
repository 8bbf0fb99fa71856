"""Which of the snippet's own backward calls freed the buffers a later call needed.

torch's "Trying to backward through the graph a second time" does not say which call freed
the graph; the general explanation said "The first backward freed ...", and told to pass
``retain_graph=True`` to the first call, also where that call already did and a later one
freed them (``y.backward(retain_graph=True); y.backward(); y.backward()``). The recorded
calls tell it: each call's timeline lists the nodes freed after it (``freed_nodes``) and
before it (``freed_before``), and its ``CallGraph`` maps its node ids to node keys, which
match across calls (once the snippet started a thread, to the nodes' metadata dicts the
graphs hold). Pure data, no torch.
"""

from __future__ import annotations

from gradstep.i18n import lazy, with_words


def _told_apart(graph, threads: bool) -> dict:
    """Return ``{node id: what tells the node from every other}`` of a ``CallGraph``: its node
    key where the snippet started no thread; once it started one (torch numbers each
    thread's nodes from a counter of its own, so a key may be two nodes'), an op node's
    metadata dict, which the graph holds (``CallGraph.marks``: its ``id``), and none for an
    op node whose dict it could not hold."""
    if not threads:
        return {node_id: key for key, node_id in graph.ids.items()}
    told = {node_id: key for key, node_id in graph.ids.items() if key[0] != "op"}
    told.update((node_id, ("mark", id(mark))) for node_id, mark in graph.marks.items()
                if mark is not None)
    return told


def freeing_calls(records: list, graphs: list, timeline: dict, graph,
                  threads: bool = False) -> list[tuple[int, str]]:
    """Return ``(line, api)`` of the earlier calls (``records``, their ``graphs``) that freed
    what the failed call (its ``timeline``, its ``CallGraph``) found freed before it ran, in
    call order, a line's calls of one API at most twice (two say "calls": two on one line,
    or a loop's); empty when none of them is known to (then the general wording stays).
    ``threads``: the snippet started a thread (nodes told apart by ``_told_apart``)."""
    if graph is None:
        return []
    key_of = _told_apart(graph, threads)
    needed = {key_of[n] for n in timeline.get("freed_before") or () if n in key_of}
    calls: list[tuple[int, str]] = []
    for record, earlier in zip(records, graphs):
        past = record.get("timeline") or {}
        if earlier is None or not past.get("freed_nodes") or record.get("line") is None:
            continue
        before = set(past.get("freed_before") or ())
        earlier_key = _told_apart(earlier, threads)
        freed = {earlier_key.get(n) for n in past["freed_nodes"] if n not in before}
        call = (record["line"], record.get("api") or "")
        if needed & freed and calls.count(call) < 2:  # (twice tells "calls": a loop's, or
            calls.append(call)  # two on one line; the records tell no column)
    return calls


def name_freeing_calls(error: dict, calls: list[tuple[int, str]]) -> dict:
    """Return ``error`` (a ``freed_buffers`` one) worded with the lines of the calls that
    freed the buffers (``freeing_calls``), in place of "the first backward": each named as
    what it is, a backward call or an ``autograd.grad`` call (statehunt4: ``g, =
    torch.autograd.grad(y, x)`` was called "the backward call at line 4"), one call or
    several ("the backward calls at lines 5, 6"), at most 3 lines."""
    lines = list(dict.fromkeys(line for line, _ in calls))[:3]
    named = calls_named([(line, api == "torch.autograd.grad") for line, api in calls if line in lines])
    return with_words(
        {**error},
        explanation=lazy("The {calls}, run without retain_graph=True, freed the tensors the "
                         "graph had saved for computing gradients. This backward goes through "
                         "the same graph again, needs them, and they are gone.", calls=named),
        fix=lazy("Pass retain_graph=True to the {calls} if you need to go through the graph "
                 "again, or recompute the forward pass (rebuild the loss) before this "
                 "backward.", calls=named),
    )


def calls_named(calls: list[tuple[int, bool]]) -> dict:
    """Return the words for ``calls``: per call, its line and whether it is an
    ``autograd.grad`` call (else a backward call). Each kind among them is named, and "line
    5" or "lines 5, 6" as many lines as they are on ("the backward and autograd.grad calls at
    line 5": two calls on one line)."""
    grads = {grad for _, grad in calls}
    shown = list(dict.fromkeys(line for line, _ in calls))
    lines = ", ".join(str(line) for line in shown)
    if len(shown) > 1:
        return (lazy("backward and autograd.grad calls at lines {lines}", lines=lines)
                if grads == {True, False} else
                lazy("autograd.grad calls at lines {lines}", lines=lines) if grads == {True}
                else lazy("backward calls at lines {lines}", lines=lines))
    if len(calls) > 1:  # several calls on one line
        return (lazy("backward and autograd.grad calls at line {lines}", lines=lines)
                if grads == {True, False} else
                lazy("autograd.grad calls at line {lines}", lines=lines) if grads == {True}
                else lazy("backward calls at line {lines}", lines=lines))
    return (lazy("autograd.grad call at line {lines}", lines=lines) if grads == {True}
            else lazy("backward call at line {lines}", lines=lines))
