"""Hooks on every node of a graph that record a backward pass step by step.

A node pre-hook sees the gradient arriving at a node (``grad_outputs``) just
before the engine runs it, after any tensor hooks and ``retain_grad()`` hooks
changed it; a node hook sees what the node sends on (``grad_inputs``, one per
``next_functions`` slot). Steps are appended in the order the engine calls the
pre-hooks, which is the order it runs the nodes.

The hooks only keep references; the values become plain data in one batch
when the recorder exits (``grad_values.plain_values``). Holding a reference is
enough to keep a gradient from changing: torch only adds into a gradient buffer
in place, or steals it for ``.grad``, when nobody else holds it. A leaf's
``.grad`` before AccumulateGrad runs is copied, since AccumulateGrad adds into it.
"""

from __future__ import annotations

from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.trace import node_name
from gradstep.policies.gc_pause import gc_paused


class StepRecorder:
    """Installs pre-hooks and hooks on the nodes of ``id_of`` and collects the steps.

    Use as a context manager: the hooks are removed on exit, also after an
    error, and ``steps`` then holds plain data. ``labels`` maps node ids to the
    names shown for AccumulateGrad leaves.
    """

    def __init__(self, id_of: dict, labels: dict | None = None):
        self.id_of = id_of
        self.labels = labels or {}
        self.steps: list[dict] = []
        # What the hooks collect, as cheaply as possible (they run once per node):
        self._started: list[tuple] = []  # (node id, grad_outputs, leaf .grad copy) in engine order
        self._finished: dict = {}  # node id -> (grad_inputs, leaf .grad after)
        self._info: dict = {}  # node id -> (name, slots that lead somewhere, leaf label or None)
        self._handles: list = []
        self._gc = gc_paused()
        self.failure: str | None = None  # set when the steps could not be turned into data
        # {group: {name: tensor}} set before exit; turned into plain data with the steps
        self.extra: dict = {}

    def __enter__(self) -> StepRecorder:
        self._gc.__enter__()
        try:
            for fn, node_id in self.id_of.items():
                self._handles.append(fn.register_prehook(self._pre_hook(fn, node_id)))
                self._handles.append(fn.register_hook(self._post_hook(fn, node_id)))
        except BaseException:
            self.remove()
            self._gc.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.remove()
            try:
                self._build_steps()
                self._to_plain_data()
            except Exception as exc:  # never lose the pass's own result to this
                self.failure = f"the recorded values could not be read: {exc}"
                self.steps, self.extra = [], {}
        finally:
            self._started, self._finished = [], {}
            self._gc.__exit__(None, None, None)

    def remove(self) -> None:
        """Remove every hook this recorder installed."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _pre_hook(self, fn, node_id: str):
        variable = getattr(fn, "variable", None)
        label = None if variable is None else self.labels.get(node_id, node_id)
        self._info[node_id] = (node_name(fn), tuple(n is not None for n, _ in fn.next_functions), label)
        started = self._started
        if variable is None:
            def hook(grad_outputs):
                started.append((node_id, grad_outputs, None))
        else:
            def hook(grad_outputs):
                grad = variable.grad  # AccumulateGrad adds into it in place: copy it now
                started.append((node_id, grad_outputs, None if grad is None else grad.detach().clone()))
        return hook  # returns None: never changes what the node receives

    def _post_hook(self, fn, node_id: str):
        variable = getattr(fn, "variable", None)
        finished = self._finished
        if variable is None:
            def hook(grad_inputs, grad_outputs):
                finished[node_id] = (grad_inputs, None)
        else:
            def hook(grad_inputs, grad_outputs):
                finished[node_id] = (grad_inputs, variable.grad)
        return hook

    def _build_steps(self) -> None:
        """Turn the hooks' raw events into step dicts (tensors still; see ``_to_plain_data``).

        A node whose pre-hook ran but whose hook did not raised: its step is ``error``.
        """
        steps = []
        for node_id, grad_outputs, before in self._started:
            name, slots, label = self._info[node_id]
            done = self._finished.get(node_id)
            step = {"index": len(steps), "node": node_id, "name": name,
                    "grad_outputs": list(grad_outputs), "grad_inputs": None, "error": done is None}
            if done is not None:
                step["grad_inputs"] = [g if i < len(slots) and slots[i] else None
                                       for i, g in enumerate(done[0])]
            if label is not None:
                step["leaf"], step["grad_before"] = label, before
                if done is not None:
                    step["grad_after"] = done[1]
            steps.append(step)
        self.steps = steps

    def _to_plain_data(self) -> None:
        """Replace the tensors held by the steps by plain data, all in one batch."""
        tensors: list = []
        for step in self.steps:
            tensors += step["grad_outputs"]
            if step["grad_inputs"] is not None:
                tensors += step["grad_inputs"]
            if "leaf" in step:
                tensors += (step["grad_before"], step.get("grad_after"))
        extra = [(group, name, t) for group, named in self.extra.items() for name, t in named.items()]
        tensors += [t for _, _, t in extra]
        values = plain_values(tensors)
        at = len(tensors) - len(extra)
        plain_extra: dict = {group: {} for group in self.extra}
        for (group, name, _), value in zip(extra, values[at:]):
            plain_extra[group][name] = value
        self.extra = plain_extra
        at = 0
        for step in self.steps:
            count = len(step["grad_outputs"])
            step["grad_outputs"] = values[at:at + count]
            at += count
            if step["grad_inputs"] is not None:
                count = len(step["grad_inputs"])
                step["grad_inputs"] = values[at:at + count]
                at += count
            if "leaf" in step:
                step["grad_before"] = values[at]
                if "grad_after" in step:
                    step["grad_after"] = values[at + 1]
                at += 2
