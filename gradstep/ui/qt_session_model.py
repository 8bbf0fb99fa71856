"""The window's model: what was run, the graph, the backward passes and the step.

Plain Python state with Qt signals. Widgets observe it and write user input back;
it never opens a dialog and never computes autograd: every number it holds came
from the session (the kernel) as plain data, and every statement about a step
(node states, saved buffers freed or alive, edge gradients, leaf ``.grad``) comes
from ``gradstep.autograd.step_state``, the one source of truth the exports use too.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from PySide6 import QtCore

from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.step_state import PassHistory, drawn_calls, is_tensor_entry
from gradstep.policies.gc_pause import without_gc
from gradstep.policies.number_text import DEFAULT, options_of, use_print_options
from gradstep.ui.pass_names import pass_title


def _graph_from_json(trace: dict):
    """Return the networkx graph of a trace JSON (torch-free: the GUI does not load torch)."""
    return graph_from_json(trace)


@dataclass(frozen=True)
class PassRecord:
    """One backward pass the window can step: its timeline and where it came from.

    ``line``/``code``/``api`` for a snippet call (``source == "snippet"``); a pass
    gradstep ran has ``source == "gradstep"`` and no line.
    """

    timeline: dict
    source: str
    name: str = ""  # a title of its own; else ``title`` words it in the language in use
    line: int | None = None
    code: str | None = None
    api: str | None = None
    members: tuple | None = None  # the nodes of the call's own graph (None: the whole graph)
    seq_mark: int | None = None  # a snippet call: torch's sequence number when it ended
    # a create_graph call: the number after each of its steps (``built_marks``), else None
    built_marks: tuple | None = None

    @property
    def title(self) -> str:
        """Return the pass list's words for it (``line 12: ...``, ``gradstep: backward() ...``)."""
        if self.name:
            return self.name
        if self.source == "snippet":
            return pass_title({"line": self.line, "code": self.code, "api": self.api})
        return pass_title(None, self.timeline)

    @property
    def failed(self) -> bool:
        return bool(self.timeline.get("error"))

    @property
    def mode(self) -> str:
        return self.timeline.get("mode", "backward")


class QtSessionModel(QtCore.QObject):
    """The state one window shows.

    Signals
    -------
    sigTraceChanged()          a new run finished (graph, error, output, passes may all change)
    sigTimelineChanged()       the pass being stepped changed (or a pass was added)
    sigStepChanged(int)        the number of steps done changed
    sigSelectionChanged(str)   the selected node changed ("" for none)
    sigInspected(dict)         details of a node arrived from the session
    sigBusyChanged(bool)       a request to the session started or ended
    sigLeavesChanged()         leaf .grad history changed (a pass, or zero grads)
    """

    sigTraceChanged = QtCore.Signal()
    sigTimelineChanged = QtCore.Signal()
    sigStepChanged = QtCore.Signal(int)
    sigSelectionChanged = QtCore.Signal(str)
    sigInspected = QtCore.Signal(object)  # object: QVariantMap would mangle ints
    sigBusyChanged = QtCore.Signal(bool)
    sigLeavesChanged = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.device = "cpu"
        self.busy = False
        self.has_run = False  # a run's result was taken in (its graph may be None)
        self._clear()

    def _clear(self) -> None:
        use_print_options(DEFAULT)  # no run: torch's own print options
        self.trace: dict | None = None
        self.graph = None
        self.error: dict | None = None
        self.run_ok = True
        self.output = ""
        self.calls: list[dict] = []
        self.root_name: str | None = None
        self.root_candidates: list[str] = []
        self.passes: list[PassRecord] = []
        self.other_calls: list[dict] = []  # the snippet's calls on another graph than the drawn
        self.columns: list[tuple[str, int]] = []  # the leaf table: ("pass", i) or ("zero", n)
        self.history = PassHistory()
        self.pass_index = -1
        self.step = 0
        self.previous_step = 0
        self.selected = ""
        self.inspected: dict = {}
        self._state_cache: tuple | None = None
        self._later_cache: tuple | None = None  # (key, ``_later_candidates``)

    # -- a run -----------------------------------------------------------------------------
    @without_gc  # it and its observers make millions of small objects for a big graph
    def set_run_result(self, result: dict) -> None:
        """Take a ``Session.run`` result; everything the previous run showed is replaced.

        A failed run that built a graph shows it, with the passes that ran and the
        failing one at the node where torch raised (its end).
        """
        self._clear()
        # the views draw on this thread: their numbers as the snippet's print writes them
        use_print_options(options_of(result.get("print_options")))
        self.has_run = True
        self.error = result.get("error")
        self.run_ok = bool(result.get("ok"))
        self.output = result.get("output") or ""
        self.root_name = result.get("root_name")
        self.root_candidates = list(result.get("root_candidates") or [])
        if result.get("trace"):
            self.trace = result["trace"]
            self.graph = _graph_from_json(self.trace)
            self.calls = list(result.get("calls") or [])
            for call in drawn_calls(self.calls, self.graph):
                self.passes.append(PassRecord(
                    call["timeline"], "snippet", line=call.get("line"),
                    code=call.get("code"), api=call.get("api"),
                    members=tuple(n["id"] for n in call.get("nodes") or ()),
                    seq_mark=call.get("seq_mark"),
                    built_marks=tuple(call["built_marks"]) if call.get("built_marks") else None))
                self.columns.append(("pass", len(self.passes) - 1))
            self.history = self._history()
            drawn = {id(p.timeline) for p in self.passes}
            self.other_calls = [c for c in self.calls if c.get("timeline") is not None
                                and id(c["timeline"]) not in drawn]
        failing = [i for i, p in enumerate(self.passes) if p.failed]
        self.pass_index = failing[-1] if failing and not self.run_ok else (0 if self.passes else -1)
        self.sigTraceChanged.emit()
        self.sigLeavesChanged.emit()
        self._restart_steps(at_end=bool(failing) and not self.run_ok)

    def forget_run(self) -> None:
        """Drop what the last run showed, as before any run: another snippet was opened, and
        that run's graph, passes, output and error are not this text's."""
        self._clear()
        self.has_run = False
        self.sigTraceChanged.emit()
        self.sigLeavesChanged.emit()
        self._restart_steps()

    def snippet_made_passes(self) -> bool:
        """Return True when the snippet ran backward on the drawn graph itself."""
        return any(p.source == "snippet" for p in self.passes)

    def root_is_scalar(self) -> bool:
        """Return True when the drawn root has a single element."""
        root = (self.trace or {}).get("root")
        shape = self.node(root).get("shape") if root else []
        count = 1
        for size in shape or []:
            count *= size
        return count == 1

    @without_gc
    def add_timeline(self, timeline: dict, name: str = "") -> None:
        """Append a pass gradstep ran and make it the one being stepped."""
        record = PassRecord(timeline, "gradstep", name, members=self._reached(timeline))
        self._note_written(timeline)
        self.passes.append(record)
        self.columns.append(("pass", len(self.passes) - 1))
        self.history = self._history()
        self.pass_index = len(self.passes) - 1
        if timeline.get("error"):
            self.error = timeline["error"]
        self.sigLeavesChanged.emit()
        self._restart_steps()

    def _note_written(self, timeline: dict) -> None:
        """Mark each leaf a hook wrote during this pass of gradstep's own (``written_during``)
        as the snippet's own call marks it (``written_after`` with ``during``), ``own``: its
        box shows the trace's value, the one before this pass. A leaf already marked keeps
        the snippet's mark."""
        for node_id, moved in (timeline.get("written_during") or {}).items():
            if self.graph is not None and node_id in self.graph:
                attrs = self.graph.nodes[node_id]
                if attrs.get("kind") == "leaf" and not attrs.get("written_after"):
                    attrs["written_after"] = {**moved, "during": True, "own": True}

    def built_later(self, node_id: str) -> bool:
        """Return True when torch had not built ``node_id`` yet at the step shown of the
        snippet call being stepped: the second ``p[1]`` of retain_graph_error during the first
        ``backward()``, built after that call ran, or a node of ``g``'s graph that
        ``g, = autograd.grad(y, x, create_graph=True)`` builds at a later step of its own
        pass. Leaves (no sequence number) are never said to be."""
        return bool(self.built_later_of((node_id,)))

    def _mark(self, step: int | None = None) -> int | None:
        """Return torch's sequence number after ``step`` (None: the step shown) steps of the
        snippet call being stepped: a node numbered this or more did not exist then (None:
        not known; a call without ``built_marks`` gives the number as it ended)."""
        record = self.current_pass()
        if record is None or self.graph is None:
            return None
        if record.built_marks:
            k = self.step if step is None else step
            return record.built_marks[max(0, min(k, len(record.built_marks) - 1))]
        return record.seq_mark

    def built_later_of(self, node_ids, step: int | None = None) -> set:
        """Return those of ``node_ids`` torch had not built after ``step`` (None: the step
        shown) steps of the snippet call being stepped (``built_later``), reading each node's
        ``seq`` once (a pass shown over a large graph)."""
        mark = self._mark(step)
        if mark is None:
            return set()
        nodes = self.graph.nodes
        seqs = ((n, nodes[n].get("seq")) for n in node_ids if n in nodes)
        return {n for n, seq in seqs if seq is not None and seq >= mark}

    def built_at(self, node_id: str) -> int | None:
        """Return the step of the snippet call being stepped that built ``node_id`` (1 for
        its first: a ``create_graph`` pass builds its gradients' graph step by step); None
        where that call did not build it, or which step is not known."""
        record = self.current_pass()
        marks = record.built_marks if record is not None else None
        seq = self.node(node_id).get("seq") if marks and node_id in self.graph else None
        if seq is None or not marks[0] <= seq < marks[-1]:
            return None
        return next(k for k in range(1, len(marks)) if seq < marks[k])

    def _later_candidates(self) -> list[tuple[str, int, bool]]:
        """Return ``(node, seq, saves a tensor)`` of the drawn nodes numbered at or past
        torch's counter as the snippet call being stepped began (or, without ``built_marks``,
        ended): the only nodes it may not have built yet at a step. Once per pass."""
        record = self.current_pass()
        if record is None or self.graph is None:
            return []
        key = (self.pass_index, id(record), id(self.graph))
        if self._later_cache is None or self._later_cache[0] != key:
            first = record.built_marks[0] if record.built_marks else record.seq_mark
            found = [] if first is None else [
                (n, seq, any(is_tensor_entry(e) for e in attrs.get("saved") or ()))
                for n, attrs in self.graph.nodes(data=True)
                if (seq := attrs.get("seq")) is not None and seq >= first]
            self._later_cache = (key, found)
        return self._later_cache[1]

    def built_between(self, before: int) -> tuple[set, set]:
        """Return ``(built, unbuilt)``: the drawn nodes torch built between step ``before`` and
        the step shown of the pass being stepped, and those it had built at ``before`` and
        not yet at the step shown (a step back). Empty but in a ``create_graph`` call's own
        steps (``built_marks``)."""
        record = self.current_pass()
        if record is None or not record.built_marks or self.graph is None:
            return set(), set()
        was, now = self._mark(before), self._mark()
        if was == now:
            return set(), set()
        low, high = min(was, now), max(was, now)
        moved = {n for n, seq, _ in self._later_candidates() if low <= seq < high}
        return (moved, set()) if now > was else (set(), moved)

    def unbuilt_saving(self) -> int:
        """Return how many drawn nodes that save a tensor torch had not built yet at the step
        shown (they hold no saved tensors then: the Saved panel does not count them)."""
        mark = self._mark()
        if mark is None:
            return 0
        return sum(1 for _, seq, saves in self._later_candidates() if saves and seq >= mark)

    def _reached(self, timeline: dict) -> tuple | None:
        """Return the nodes a pass gradstep ran can reach from the roots it started at, when
        the graph drawn holds more (the snippet's own calls joined nodes above the root:
        ``p[1]``'s SelectBackward0 over softmax's ``p``); None when it reaches them all."""
        roots = [n for n in timeline.get("roots") or () if self.graph is not None and n in self.graph]
        if not roots:
            return None
        reached = set(roots)
        for root in roots:
            reached.update(nx.descendants(self.graph, root))
        return None if len(reached) == self.graph.number_of_nodes() else tuple(reached)

    def _history(self):
        return PassHistory(self.graph, [p.timeline for p in self.passes],
                           [p.members for p in self.passes])

    def add_zero_grads(self) -> None:
        """Record that every leaf's .grad was set to None (a column of the leaf table)."""
        self.columns.append(("zero", sum(1 for kind, _ in self.columns if kind == "zero")))
        self.sigLeavesChanged.emit()

    def choose_timeline(self, index: int) -> None:
        """Step through pass ``index`` of ``passes`` from its start."""
        if 0 <= index < len(self.passes):
            self.pass_index = index
            self._restart_steps()

    def _restart_steps(self, at_end: bool = False) -> None:
        """Go to step 0 (or the end) of the pass being stepped and tell the observers.

        ``previous_step`` is the step shown until now: choosing the pass being stepped again
        (the pass list; a failed run opens at its end) must undo every step between, not
        only step 0's node (a view that repaints only ``changes(previous_step)`` kept the
        end's freed buffers and ✗ at step 0)."""
        self.previous_step = self.step
        self.step = self.step_count if at_end else 0
        self.selected = ""
        self._state_cache = None
        self.sigTimelineChanged.emit()
        self.sigStepChanged.emit(self.step)

    # -- the pass being stepped ------------------------------------------------------------
    @property
    def timeline(self) -> dict | None:
        return self.passes[self.pass_index].timeline if self.pass_index >= 0 else None

    @property
    def timelines(self) -> list[dict]:
        return [p.timeline for p in self.passes]

    def current_pass(self) -> PassRecord | None:
        return self.passes[self.pass_index] if self.pass_index >= 0 else None

    def timeline_index(self) -> int:
        return self.pass_index

    def index(self):
        """Return the step_state PassIndex of the pass being stepped (None without one)."""
        return self.history.index(self.pass_index) if self.pass_index >= 0 else None

    # -- stepping ------------------------------------------------------------------------------
    @property
    def step_count(self) -> int:
        """Return how many steps the current pass has (0 without one)."""
        index = self.index()
        return index.count if index is not None else 0

    def set_step(self, k: int) -> None:
        """Go to the state after ``k`` steps (clamped); the panels follow the ▶ node again."""
        k = max(0, min(k, self.step_count))
        if k != self.step:
            self.previous_step = self.step
            self.step = k
            if self.selected:
                self.selected = ""
                self.sigSelectionChanged.emit("")
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
        """Return True when every step of the pass is done."""
        return self.step >= self.step_count

    def state(self):
        """Return the StepState of this pass and step (None without a pass)."""
        index = self.index()
        if index is None:
            return None
        key = (self.pass_index, self.step, id(index))
        if self._state_cache is None or self._state_cache[0] != key:
            self._state_cache = (key, index.state(self.step))
        return self._state_cache[1]

    def states(self) -> dict:
        """Return {node_id: state} for the current step ({} without a pass)."""
        state = self.state()
        return dict(state.node_states) if state else {}

    def changes(self, previous: int):
        """Return the StepChange since step ``previous`` (cheap: only the steps between;
        without edge gradients: the graph labels its edges from the last steps itself)."""
        index = self.index()
        return index.changes(previous, self.step, edges=False) if index is not None else None

    def current_step(self) -> dict | None:
        """Return the step about to run (the ▶ node's; None at the end or without a pass)."""
        index = self.index()
        if index is None or self.step >= index.count:
            return None
        return index.steps[self.step]

    def last_step(self) -> dict | None:
        """Return the step that ran last (None before the first)."""
        index = self.index()
        return index.steps[self.step - 1] if index is not None and self.step > 0 else None

    def step_of(self, node_id: str) -> dict | None:
        """Return the step of this pass that ran ``node_id`` (or is about to), if any."""
        index = self.index()
        if index is None:
            return None
        occ = [i for i in index.occurrences.get(node_id, ()) if i <= self.step]
        return index.steps[occ[-1]] if occ and occ[-1] < index.count else None

    def node_state(self, node_id: str) -> str:
        """Return the state of one node now ("" without a pass)."""
        index = self.index()
        return index.node_state(node_id, self.step) if index is not None else ""

    def said_state(self, node_id: str) -> str:
        """Return the state of one node now as words tell it: ``node_state``, with a pending
        node that this pass does not run from here on ``"not_run"`` (``PassIndex.said_state``)."""
        index = self.index()
        return index.said_state(node_id, self.step) if index is not None else ""

    def saved_of(self, node_id: str) -> list[dict]:
        """Return ``node_id``'s saved entries as torch has them now (the trace's without a pass)."""
        index = self.index()
        if index is not None:
            return index.saved(node_id, self.step)
        return list(self.node(node_id).get("saved") or [])

    def leaf_grad(self, label: str):
        """Return leaf ``label``'s ``.grad`` now (cheap: one leaf, not the whole state)."""
        index = self.index()
        return index.leaf_grad(label, self.step) if index is not None else None

    def focus_node(self) -> str:
        """Return the node the panels describe: the selected one, else the ▶ node, else (at
        the end of a pass) the node that ran last."""
        if self.selected:
            return self.selected
        step = self.current_step() or self.last_step()
        return step["node"] if step else ""

    def node(self, node_id: str) -> dict:
        """Return the trace attributes of ``node_id`` ({} when unknown)."""
        if self.graph is None or node_id not in self.graph:
            return {}
        return dict(self.graph.nodes[node_id])

    # -- selection and details -----------------------------------------------------------------
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

    # -- leaves ----------------------------------------------------------------------------------
    def leaf_history(self) -> dict[str, list]:
        """Return {leaf name: [its .grad after pass 1, pass 2, ...]} over all passes."""
        history: dict[str, list] = {}
        for i, record in enumerate(self.passes):
            for name, grad in (record.timeline.get("leaf_grads") or {}).items():
                history.setdefault(name, [None] * i)
                history[name].append(grad)
            for values in history.values():
                if len(values) < i + 1:
                    values.append(None)
        return history
