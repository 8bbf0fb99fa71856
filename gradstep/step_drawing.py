"""A step's state as drawing arguments (pure): what ``gradstep export`` and the window's
Export both hand to ``gradstep.drawing.export.export_graph``."""

from __future__ import annotations

from gradstep.autograd.step_state import apply_saved
from gradstep.drawing.style import gradient_text


def grad_dtype(graph, edge: tuple) -> str | None:
    """Return the dtype of the gradient sent along ``edge`` (``(source, target, slot)``): the
    dtype of the target's output it reaches (torch's engine casts every gradient to it),
    None when unknown. The target's ``dtype`` is its output 0's: a gradient reaching another
    output (``linalg.svd``'s real S beside its complex U) takes that output's recorded dtype,
    else None (read as real numbers rather than made into complex ones torch never had)."""
    source, target, slot = edge
    if graph is None or target not in graph:
        return None
    attrs = graph.nodes[target]
    data = graph.get_edge_data(source, target, slot) or {}
    output = data.get("input_nr", 0)
    if not output:
        return attrs.get("dtype")
    value = attrs.get("value")
    outputs = value.get("outputs") if isinstance(value, dict) else None
    if isinstance(outputs, list) and output < len(outputs) and isinstance(outputs[output], dict):
        return outputs[output].get("dtype")
    return None


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
    labels = {edge: gradient_text(grad, dtype=grad_dtype(graph, edge))
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
