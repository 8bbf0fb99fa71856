"""Which of the snippet's own backward calls freed the buffers a later call needed.

torch's "Trying to backward through the graph a second time" does not say which call freed
the graph; the general explanation said "The first backward freed ...", and told to pass
``retain_graph=True`` to the first call, also where that call already did and a later one
freed them (``y.backward(retain_graph=True); y.backward(); y.backward()``). The recorded
calls tell it: each call's timeline lists the nodes freed after it (``freed_nodes``) and
before it (``freed_before``), and its ``CallGraph`` maps its node ids to node keys, which
match across calls. Pure data, no torch.
"""

from __future__ import annotations

from gradstep.i18n import lazy, with_words


def freeing_calls(records: list, graphs: list, timeline: dict, graph) -> list[tuple[int, str]]:
    """Return ``(line, api)`` of the earlier calls (``records``, their ``graphs``) that freed
    what the failed call (its ``timeline``, its ``CallGraph``) found freed before it ran, in
    call order, each line once; empty when none of them is known to (then the general wording
    stays)."""
    if graph is None:
        return []
    key_of = {node_id: key for key, node_id in graph.ids.items()}
    needed = {key_of[n] for n in timeline.get("freed_before") or () if n in key_of}
    calls: list[tuple[int, str]] = []
    for record, earlier in zip(records, graphs):
        past = record.get("timeline") or {}
        if earlier is None or not past.get("freed_nodes") or record.get("line") is None:
            continue
        before = set(past.get("freed_before") or ())
        earlier_key = {node_id: key for key, node_id in earlier.ids.items()}
        freed = {earlier_key.get(n) for n in past["freed_nodes"] if n not in before}
        if needed & freed and all(line != record["line"] for line, _ in calls):
            calls.append((record["line"], record.get("api") or ""))
    return calls


def name_freeing_calls(error: dict, calls: list[tuple[int, str]]) -> dict:
    """Return ``error`` (a ``freed_buffers`` one) worded with the lines of the calls that
    freed the buffers (``freeing_calls``), in place of "the first backward": each named as
    what it is, a backward call or an ``autograd.grad`` call (statehunt4: ``g, =
    torch.autograd.grad(y, x)`` was called "the backward call at line 4"), one call or
    several ("the backward calls at lines 5, 6")."""
    shown = calls[:3]
    lines = ", ".join(str(line) for line, _ in shown)
    named = calls_named({api == "torch.autograd.grad" for _, api in shown}, len(shown) > 1, lines)
    return with_words(
        {**error},
        explanation=lazy("The {calls}, run without retain_graph=True, freed the tensors the "
                         "graph had saved for computing gradients. This backward goes through "
                         "the same graph again, needs them, and they are gone.", calls=named),
        fix=lazy("Pass retain_graph=True to the {calls} if you need to go through the graph "
                 "again, or recompute the forward pass (rebuild the loss) before this "
                 "backward.", calls=named),
    )


def calls_named(grads: set, several: bool, lines: str) -> dict:
    """Return the words for the calls at ``lines``: ``grads`` holds, per call, whether it is
    an ``autograd.grad`` call; ``several``: more than one line."""
    if grads == {True, False}:  # (two calls at least)
        return lazy("backward and autograd.grad calls at lines {lines}", lines=lines)
    if grads == {True}:
        return (lazy("autograd.grad calls at lines {lines}", lines=lines) if several
                else lazy("autograd.grad call at line {lines}", lines=lines))
    return (lazy("backward calls at lines {lines}", lines=lines) if several
            else lazy("backward call at line {lines}", lines=lines))
