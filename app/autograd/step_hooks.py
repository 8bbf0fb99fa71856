"""Hooks on every node of a graph that record a backward pass step by step.

A node pre-hook sees the gradient arriving at a node (``grad_outputs``) just
before the engine runs it, after any tensor hooks and ``retain_grad()`` hooks
changed it; a node hook sees what the node sends on (``grad_inputs``, one per
``next_functions`` slot). Steps are appended in the order the engine calls the
pre-hooks, which is the order it runs the nodes. Values are copied into plain
data inside the hook, because torch later reuses gradient buffers in place
(AccumulateGrad may steal a gradient and add the next pass into it).
"""

from __future__ import annotations

from app.autograd.trace import node_name
from app.autograd.values import compact


def snapshot(t):
    """Return a tensor as plain data now: ``tolist()`` when small, a summary dict otherwise."""
    if t is None:
        return None
    return compact(t.detach())


class StepRecorder:
    """Installs pre-hooks and hooks on the nodes of ``id_of`` and collects the steps.

    Use as a context manager: the hooks are removed on exit, also after an error.
    ``labels`` maps node ids to the names shown for AccumulateGrad leaves.
    """

    def __init__(self, id_of: dict, labels: dict | None = None):
        self.id_of = id_of
        self.labels = labels or {}
        self.steps: list[dict] = []
        self._open: dict[str, dict] = {}
        self._handles: list = []

    def __enter__(self) -> StepRecorder:
        try:
            for fn, node_id in self.id_of.items():
                self._handles.append(fn.register_prehook(self._pre_hook(fn, node_id)))
                self._handles.append(fn.register_hook(self._post_hook(fn, node_id)))
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()
        self.mark_unfinished()

    def remove(self) -> None:
        """Remove every hook this recorder installed."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def mark_unfinished(self) -> None:
        """Mark steps whose node started but never finished (it raised) as ``error``."""
        for step in self._open.values():
            step["error"] = True
        self._open.clear()

    def _pre_hook(self, fn, node_id: str):
        name = node_name(fn)
        variable = getattr(fn, "variable", None)

        def hook(grad_outputs):
            step = {
                "index": len(self.steps),
                "node": node_id,
                "name": name,
                "grad_outputs": [snapshot(g) for g in grad_outputs],
                "grad_inputs": None,
                "error": False,
            }
            if variable is not None:
                step["leaf"] = self.labels.get(node_id, node_id)
                step["grad_before"] = snapshot(variable.grad)
            self.steps.append(step)
            self._open[node_id] = step
            return None  # never change what the node receives

        return hook

    def _post_hook(self, fn, node_id: str):
        slots = [nxt is not None for nxt, _ in fn.next_functions]
        variable = getattr(fn, "variable", None)

        def hook(grad_inputs, grad_outputs):
            step = self._open.pop(node_id, None)
            if step is None:  # hooks were installed while this node was already running
                return None
            step["grad_inputs"] = [
                snapshot(g) if i < len(slots) and slots[i] else None
                for i, g in enumerate(grad_inputs)
            ]
            if variable is not None:
                step["grad_after"] = snapshot(variable.grad)
            return None

        return hook
