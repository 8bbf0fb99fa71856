"""A step's state as drawing arguments (pure): what ``gradstep export`` and the window's
Export both hand to ``gradstep.drawing.export.export_graph``."""

from __future__ import annotations

from gradstep.autograd.step_state import apply_saved
from gradstep.drawing.style import gradient_text


def drawing_at(graph, state) -> tuple:
    """Return ``(graph, keyword arguments for export_graph)`` drawing ``state`` (a
    ``step_state.StepState``; None: the graph as the run left it): the saved tensors as
    torch has them at that step, node states, the gradients written on the edges, and
    for JSON files the gradient per edge and the step (``step_state``)."""
    if state is None:
        return graph, {}
    shown = apply_saved(graph, state.saved)
    labels = {edge: gradient_text(grad) for edge, grad in state.edge_grads.items()}
    extra = {"step_state": {
        "pass": state.pass_index + 1, "step": state.step, "steps": state.step_count,
        "mode": state.mode, "retain_graph": state.retain_graph,
        "leaf_grads": state.leaf_grads, "returned": state.returned,
        "error": (state.error or {}).get("message"),
    }}
    return shown, {"states": state.node_states, "members": state.members,
                   "edge_labels": {e: t for e, t in labels.items() if t},
                   "edge_grads": state.edge_grads, "extra": extra}
