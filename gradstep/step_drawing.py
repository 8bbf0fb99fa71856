"""A step's state as drawing arguments (pure): what ``gradstep export`` and the window's
Export both hand to ``gradstep.drawing.export.export_graph``."""

from __future__ import annotations

from gradstep.autograd.step_state import apply_saved
from gradstep.drawing.style import gradient_text


def grad_dtype(graph, target: str) -> str | None:
    """Return the dtype of the gradient an edge sends into ``target`` (its output's: torch's
    engine casts every gradient to its input's dtype), None when unknown."""
    if graph is None or target not in graph:
        return None
    return graph.nodes[target].get("dtype")


def drawing_at(graph, state) -> tuple:
    """Return ``(graph, keyword arguments for export_graph)`` drawing ``state`` (a
    ``step_state.StepState``; None: the graph as the run left it): the saved tensors as
    torch has them at that step, node states, the gradients written on the edges, and
    for JSON files the gradient per edge and the step (``step_state``)."""
    if state is None:
        return graph, {}
    shown = apply_saved(graph, state.saved)
    # a gradient has its target's dtype (torch casts it so): a complex one's data are
    # [real, imag] pairs, written as a+bj only when that is known
    labels = {edge: gradient_text(grad, dtype=grad_dtype(graph, edge[1]))
              for edge, grad in state.edge_grads.items()}
    extra = {"step_state": {
        "pass": state.pass_index + 1, "step": state.step, "steps": state.step_count,
        "mode": state.mode, "retain_graph": state.retain_graph,
        "leaf_grads": state.leaf_grads, "returned": state.returned,
        "error": (state.error or {}).get("message"),
    }}
    return shown, {"states": state.node_states, "members": state.members,
                   "edge_labels": {e: t for e, t in labels.items() if t},
                   "edge_grads": state.edge_grads, "extra": extra}
