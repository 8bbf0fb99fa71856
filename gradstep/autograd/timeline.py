"""The state of every graph node after ``k`` steps of a recorded backward pass (pure).

A thin face of ``gradstep.autograd.step_state`` (the one source of truth for step
state; read its docstring for the rules): after ``k`` steps (clamped),
``steps[:k]`` have run (``error``, ``freed`` or ``done``), ``steps[k]`` is
``current``, nodes in ``freed_before`` start as ``freed``, the rest are
``pending``. A node in several steps takes the state of its latest step up to ``k``.
"""

from __future__ import annotations

from gradstep.autograd.step_state import NODE_STATES, PassIndex, step_outcome

STATES = NODE_STATES


def node_states(timeline: dict | None, k: int, nodes=None) -> dict[str, str]:
    """Return ``{node id: state}`` after ``k`` steps of ``timeline``.

    ``nodes`` (optional, any iterable of node ids, e.g. the graph's) are
    included as ``pending`` when no step touched them yet; without it only the
    nodes the timeline mentions are returned.
    """
    index = PassIndex(timeline)
    wanted = list(nodes or ()) + index.nodes()
    return {node: index.node_state(node, k) for node in dict.fromkeys(wanted)}


def step_state(step: dict) -> str:
    """Return the state a node is left in once ``step`` has run."""
    return step_outcome(step)
