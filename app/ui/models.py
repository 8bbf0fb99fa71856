"""The window's model: what was run, the graph, the backward timelines and the step.

Plain Python state with Qt signals. Widgets observe it and write user input back;
it never opens a dialog and never computes autograd: every number it holds came
from the session (the kernel) as plain data.
"""

from __future__ import annotations

from PySide6 import QtCore


def _node_states(timeline: dict, k: int) -> dict:
    """Return {node_id: state} after ``k`` steps (the backward part's function)."""
    from app.autograd.timeline import node_states

    return node_states(timeline, k)


def _step_state(step: dict) -> str:
    from app.autograd.timeline import step_state

    return step_state(step)


class StepIndex:
    """Which steps ran each node, so the states that change between two positions can be
    found without walking the whole timeline (one step on a 10,000-node graph stays cheap).

    It follows ``app.autograd.timeline.node_states`` (tests check they agree).
    """

    def __init__(self, timeline: dict):
        self.steps = timeline.get("steps") or []
        self.freed_before = set(timeline.get("freed_before") or ())
        self.occurrences: dict[str, list[int]] = {}
        for i, step in enumerate(self.steps):
            self.occurrences.setdefault(step["node"], []).append(i)

    def state(self, node_id: str, k: int) -> str:
        """Return the state of ``node_id`` after ``k`` steps."""
        if k < len(self.steps) and self.steps[k]["node"] == node_id:
            return "current"
        ran = [i for i in self.occurrences.get(node_id, ()) if i < k]
        if ran:
            return _step_state(self.steps[ran[-1]])
        return "freed" if node_id in self.freed_before else "pending"

    def changed(self, a: int, b: int) -> dict[str, str]:
        """Return {node: state after ``b`` steps} for every node whose state may differ
        from its state after ``a`` steps."""
        lo, hi = min(a, b), min(max(a, b), len(self.steps) - 1)
        nodes = {self.steps[i]["node"] for i in range(lo, hi + 1)} if self.steps else set()
        return {n: self.state(n, b) for n in nodes}


def _graph_from_json(trace: dict):
    """Return the networkx graph of a trace JSON (the tracer's function)."""
    from app.autograd.graph_json import graph_from_json  # torch-free: the GUI does not load torch

    return graph_from_json(trace)


class SessionModel(QtCore.QObject):
    """The state one window shows.

    Signals
    -------
    sigTraceChanged()          a new run finished (trace, error, output, calls may all change)
    sigTimelineChanged()       the timeline being stepped changed (or a pass was added)
    sigStepChanged(int)        the number of steps done changed
    sigSelectionChanged(str)   the selected node changed ("" for none)
    sigInspected(dict)         details of a node arrived from the session
    sigBusyChanged(bool)       a request to the session started or ended
    """

    sigTraceChanged = QtCore.Signal()
    sigTimelineChanged = QtCore.Signal()
    sigStepChanged = QtCore.Signal(int)
    sigSelectionChanged = QtCore.Signal(str)
    sigInspected = QtCore.Signal(object)  # object: QVariantMap would mangle ints
    sigBusyChanged = QtCore.Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.device = "cpu"
        self.trace: dict | None = None
        self.graph = None
        self.error: dict | None = None
        self.output = ""
        self.calls: list[dict] = []
        self.timelines: list[dict] = []  # every pass so far, in order
        self.pass_names: list[str] = []  # one per timeline: where it came from
        self.timeline: dict | None = None  # the pass being stepped
        self.step = 0
        self.previous_step = 0
        self.selected = ""
        self.inspected: dict = {}
        self.busy = False
        self._index: StepIndex | None = None

    # -- a run -----------------------------------------------------------------
    def set_run_result(self, result: dict) -> None:
        """Take a ``Session.run`` result; a failed run keeps the last good graph."""
        self.error = result.get("error")
        self.output = result.get("output") or ""
        if result.get("trace"):  # a failed run may still have built a graph worth showing
            self.trace = result["trace"]
            self.graph = _graph_from_json(self.trace)
            self.calls = list(result.get("calls") or [])
            self.timelines, self.pass_names = [], []
            for call in self.calls:
                if call.get("timeline") and self.call_matches_graph(call):
                    self.timelines.append(call["timeline"])
                    self.pass_names.append(f"line {call.get('line')}: {call.get('api')}")
            self.timeline = self.timelines[0] if self.timelines else None
            self.selected = ""
            self.inspected = {}
        self.sigTraceChanged.emit()
        self._restart_steps()

    def call_matches_graph(self, call: dict) -> bool:
        """Return True when a snippet call's nodes are the drawn graph's (same ids and ops).

        A call from another tensor (``p[1]`` when ``p`` is drawn) numbers its own graph,
        so its steps cannot be shown on this one.
        """
        nodes = call.get("nodes") or []
        graph = self.graph
        return bool(nodes) and graph is not None and all(
            n["id"] in graph and graph.nodes[n["id"]].get("name") == n["name"] for n in nodes)

    def root_is_scalar(self) -> bool:
        """Return True when the drawn root has a single element."""
        root = (self.trace or {}).get("root")
        shape = self.node(root).get("shape") if root else []
        count = 1
        for size in shape or []:
            count *= size
        return count == 1

    def add_timeline(self, timeline: dict, name: str = "") -> None:
        """Append one backward pass and make it the one being stepped."""
        self.timelines.append(timeline)
        self.pass_names.append(name or f"gradstep pass {len(self.timelines)}")
        self.timeline = timeline
        if timeline.get("error"):
            self.error = timeline["error"]
        self._restart_steps()

    def choose_timeline(self, index: int) -> None:
        """Step through pass ``index`` of ``timelines``."""
        self.timeline = self.timelines[index]
        self._restart_steps()

    def _restart_steps(self) -> None:
        """Go back to step 0 of the (possibly new) timeline and tell the observers."""
        self.step = 0
        self.sigTimelineChanged.emit()
        self.sigStepChanged.emit(0)

    def timeline_index(self) -> int:
        """Return the position of the timeline being stepped in ``timelines`` (-1 for none)."""
        return next((i for i, tl in enumerate(self.timelines) if tl is self.timeline), -1)

    # -- stepping ----------------------------------------------------------------
    @property
    def step_count(self) -> int:
        """Return how many steps the current timeline has (0 without one)."""
        return len(self.timeline["steps"]) if self.timeline else 0

    def set_step(self, k: int) -> None:
        """Go to the state after ``k`` steps (clamped to the timeline)."""
        k = max(0, min(k, self.step_count))
        if k != self.step:
            self.previous_step = self.step
            self.step = k
            self.sigStepChanged.emit(k)

    def step_forward(self) -> None:
        self.set_step(self.step + 1)

    def step_back(self) -> None:
        self.set_step(self.step - 1)

    def run_to_end(self) -> None:
        self.set_step(self.step_count)

    def reset_steps(self) -> None:
        self.set_step(0)

    def at_end(self) -> bool:
        """Return True when every step of the timeline is done."""
        return self.step >= self.step_count

    def states(self) -> dict:
        """Return {node_id: state} for the current step ({} without a timeline)."""
        if not self.timeline:
            return {}
        return _node_states(self.timeline, self.step)

    def states_changed(self, previous: int) -> dict:
        """Return {node_id: state} for the nodes whose state may have changed since step
        ``previous`` (cheap: only the steps in between are looked at)."""
        if not self.timeline:
            return {}
        return self._step_index().changed(previous, self.step)

    def current_step(self) -> dict | None:
        """Return the step record just executed (None before the first step).

        The graph marks the *next* step's node as ``current`` (about to run); the
        panels describe the one that just ran, whose gradients are all known.
        """
        if not self.timeline or self.step == 0:
            return None
        return self.timeline["steps"][self.step - 1]

    def steps_of(self, node_id: str) -> list[dict]:
        """Return the steps of the current timeline that ran ``node_id``, up to now."""
        if not self.timeline:
            return []
        index = self._step_index()
        return [index.steps[i] for i in index.occurrences.get(node_id, ()) if i < self.step]

    def _step_index(self) -> StepIndex:
        """Return the StepIndex of the current timeline, built once per timeline."""
        if self._index is None or self._index.steps is not self.timeline.get("steps"):
            self._index = StepIndex(self.timeline)
        return self._index

    def focus_node(self) -> str:
        """Return the node the panels describe: the selected one, else the current step's."""
        if self.selected:
            return self.selected
        step = self.current_step()
        return step["node"] if step else ""

    def node(self, node_id: str) -> dict:
        """Return the trace attributes of ``node_id`` ({} when unknown)."""
        if self.graph is None or node_id not in self.graph:
            return {}
        return dict(self.graph.nodes[node_id])

    # -- selection and details -----------------------------------------------------
    def select(self, node_id: str) -> None:
        if node_id != self.selected:
            self.selected = node_id
            self.sigSelectionChanged.emit(node_id)

    def set_inspected(self, details: dict) -> None:
        self.inspected = details
        self.sigInspected.emit(details)

    def set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.sigBusyChanged.emit(busy)

    # -- graph state ------------------------------------------------------------------
    def graph_state(self) -> str:
        """Return "retained", "freed after the pass at step N", or "" before any pass."""
        tl = self.timeline
        if not tl:
            return ""
        if tl.get("retain_graph"):
            return "retained"
        if tl.get("error"):
            return "pass failed: " + str(tl["error"].get("message", ""))[:80]
        if self.step < self.step_count:
            return f"alive (the pass frees it at step {self.step_count})"
        return f"freed after the pass at step {self.step_count}"

    def leaf_history(self) -> dict[str, list]:
        """Return {leaf name: [its .grad after pass 1, pass 2, ...]} over all passes."""
        history: dict[str, list] = {}
        for i, tl in enumerate(self.timelines):
            for name, grad in (tl.get("leaf_grads") or {}).items():
                history.setdefault(name, [None] * i)
                history[name].append(grad)
            for values in history.values():
                if len(values) < i + 1:
                    values.append(None)
        return history
