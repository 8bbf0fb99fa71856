"""The state of every graph node after ``k`` steps of a recorded backward pass (pure).

After ``k`` steps (``k`` clamped to ``0..len(steps)``):

- ``steps[:k]`` have run. A step that raised is ``error``; a step whose node's
  saved buffers were released after it ran (its ``freed`` flag: a pass without
  retain_graph releases each node's buffers right after running it) is
  ``freed``; any other step that ran is ``done``.
- ``steps[k]``, if there is one, is ``current`` (about to run).
- Every other node is ``pending``, except the nodes listed in the timeline's
  ``freed_before`` (freed by an earlier pass), which are ``freed`` from the start.

A node that appears in several steps (several passes in one timeline) takes the
state of its latest step up to ``k``.
"""

from __future__ import annotations

STATES = ("pending", "current", "done", "freed", "error")


def node_states(timeline: dict | None, k: int, nodes=None) -> dict[str, str]:
    """Return ``{node id: state}`` after ``k`` steps of ``timeline``.

    ``nodes`` (optional, any iterable of node ids, e.g. the graph's) are
    included as ``pending`` when no step touched them yet; without it only the
    nodes the timeline mentions are returned.
    """
    timeline = timeline or {}
    steps = timeline.get("steps") or []
    k = max(0, min(int(k), len(steps)))
    states = {node_id: "pending" for node_id in (nodes or ())}
    for step in steps:
        states.setdefault(step["node"], "pending")
    for node_id in timeline.get("freed_before") or ():
        states[node_id] = "freed"
    for step in steps[:k]:
        states[step["node"]] = step_state(step)
    if k < len(steps):
        states[steps[k]["node"]] = "current"
    return states


def step_state(step: dict) -> str:
    """Return the state a node is left in once ``step`` has run."""
    if step.get("error"):
        return "error"
    if step.get("freed"):
        return "freed"
    return "done"
