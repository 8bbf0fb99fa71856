"""Gradient statistics of every leaf of a traced graph, read from the real ``.grad``.

``grad_stats(trace, labels)`` returns ``{"params": [ParamStats, ...], "error": None}``
(plain, strict-JSON data; ``Session.grad_stats`` and the kernel's ``grad_stats``
request). Norms are torch's own (``torch.linalg.vector_norm``, what
``p.grad.norm()`` computes, in the tensor's dtype), so they equal what a plain run
prints. Reading ``.grad`` and a leaf's data changes nothing the snippet did; tensor
subclasses are skipped (their reads run their own code).
"""

from __future__ import annotations

import torch

from gradstep.autograd.leaves_and_freed import id_number, unique_labels
from gradstep.autograd.pass_versions import written_when
from gradstep.autograd.safe_reads import is_plain, leaf_variable, storage_holds
from gradstep.autograd.values import to_jsonable
from gradstep.schema.kernel import GradStatsReply, ParamStats


def grad_stats(trace, labels: dict | None = None) -> GradStatsReply:
    """Return the statistics of every leaf of ``trace`` (a ``trace.Trace``), in node order.

    ``labels`` maps node ids to labels (default: the trace's own); a label shared by
    several leaves gets ``(nK)`` appended, as in the backward JSON's ``leaf_grads``.
    """
    graph = trace.graph
    if labels is None:
        labels = {node_id: attrs.get("label") for node_id, attrs in graph.nodes(data=True)}
    names = unique_labels(trace.id_of, labels)
    params = []
    with torch.no_grad():
        for node_id in sorted(trace.node_of, key=id_number):
            variable = leaf_variable(trace.node_of[node_id])
            if variable is None or not is_plain(variable) or variable.is_nested:
                continue
            params.append(_stats(node_id, names[node_id], graph.nodes[node_id].get("scope") or "",
                                 variable, _users(trace, node_id)))
    return {"params": params, "error": None}


def _users(trace, node_id: str):
    """Return a function giving the traced nodes that take leaf ``node_id`` as an input (the
    forward that used it: ``pass_versions.versions``' ``used_by``, as the trace reads it)."""
    return lambda: [trace.node_of[source] for source in trace.graph.predecessors(node_id)
                    if source in trace.node_of]


def _stats(node_id: str, label: str, scope: str, leaf: torch.Tensor, used_by=None) -> ParamStats:
    grad = leaf.grad
    when = written_when(leaf, used_by)
    stats: ParamStats = {
        "node": node_id, "label": label, "scope": scope, "shape": list(leaf.shape),
        "numel": leaf.numel(), "grad_norm": None, "weight_norm": _norm(leaf),
        "zeros": 0, "nan": 0, "inf": 0, "written_after": when is not None,
        "written_during": when == "during",
    }
    if (grad is None or not is_plain(grad) or grad.layout != torch.strided or grad.is_meta
            or not storage_holds(grad)):
        return stats
    stats["grad_norm"] = norm = _norm(grad)
    stats["zeros"] = grad.numel() - int(torch.count_nonzero(grad))
    if isinstance(norm, str):  # "NaN" or "Infinity": count them (a finite norm has none)
        stats["nan"] = int(torch.isnan(grad).sum())
        stats["inf"] = int(torch.isinf(grad).sum())
    return stats


def _norm(t: torch.Tensor):
    """Return torch's norm of ``t``, None where there is none to read (meta, not strided,
    not float, or its memory freed: FSDP resizes a parameter's storage to 0 bytes)."""
    if (t.is_meta or t.layout != torch.strided or not (t.is_floating_point() or t.is_complex())
            or not storage_holds(t)):
        return None
    return to_jsonable(torch.linalg.vector_norm(t.detach()).item())
