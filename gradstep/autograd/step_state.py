"""The state torch is in after K steps of pass P: the one source of truth (pure, no torch, no Qt).

Every view of a backward pass asks this module, never the raw timeline: the
window's graph, its Values / Saved / Leaf panels and tooltips, ``gradstep
export --pass P --step K`` (pictures and JSON). For pass ``P`` (one recorded
timeline: a snippet call or a pass gradstep ran) and ``K`` steps done:

- **node state**: ``steps[K]`` is ``current`` (about to run, the ▶ node); a node
  that ran in ``steps[:K]`` is ``error`` (it raised), ``freed`` (its saved
  buffers were released right after it ran: a pass without retain_graph) or
  ``done``; every other node is ``pending``, also one whose buffers were already
  released when the pass began (its saved entries say ``freed``: it has not run in
  this pass, so no gradient left it, and its edges are not drawn as if one had).
- **saved buffers**: a node's saved tensors are freed at that moment when they
  were freed before the pass began (the pass's ``freed_before``, probed by
  the core, or freed by an earlier pass of the same history) or a step of this
  pass up to ``K`` released them. torch releases all of a node's buffers at
  once, so the flag is per node; saved numbers and flags are never freed. A saved
  tensor torch would refuse as changed (or detached) in place since it was saved shows so
  in pass P as the pass's ``changed_before`` has it (probed as the pass began), unless its
  buffers are freed then. A pass without that probe (a JSON of an older gradstep, a node
  outside the pass's own graph) reads the trace's (``changed_in_place``, probed when the
  graph was traced) unless its node ran without an error in pass P or a later one: torch
  checked the versions then and they matched, so they matched before too (a version only
  grows). A pass torch stopped with its version error (a hook changed a saved tensor in
  place during the pass) shows, from the step that raised on, the state probed right after
  it raised (``changed_when_raised``); the steps before show the state as it began (when
  the hook wrote is not recorded).
- **edge gradients**: what each node that ran in ``steps[:K]`` sent along each
  of its edges (``grad_inputs[slot]``; None where nothing flows).
- **leaf ``.grad``**: an AccumulateGrad step's ``grad_after`` once it ran, its
  ``grad_before`` until then (one that raised, a post-accumulate-grad hook's error, has
  no ``grad_after``: past it the leaf has the ``.grad`` the pass left); a leaf no step of the pass touches keeps the
  ``.grad`` the pass left (``leaf_grads``: ``torch.autograd.grad`` never
  writes ``.grad``). What ``autograd.grad`` returned is ``returned``, given
  once the call returned (never for a call that raised).

``PassIndex`` answers these per node in O(log steps), so a step on a
10,000-node graph only looks at what changed (``changes(a, b)``) and the counts
a panel words (``freed_count``, ``saved_tensor_nodes``, ``error_at``); ``state(k)``
gives the whole picture (exports, tests). Both read the same per-node
functions, so they cannot disagree.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

NODE_STATES = ("pending", "current", "done", "freed", "error")
# a leaf's .grad at a step where it is not known: the snippet's code changed it during the
# pass other than by its AccumulateGrad (``grad_marks``), at a step gradstep cannot tell
GRAD_NOT_KNOWN = ...


def step_outcome(step: dict) -> str:
    """Return the state a node is left in once ``step`` has run."""
    if step.get("error"):
        return "error"
    if step.get("freed"):
        return "freed"
    return "done"


def is_tensor_entry(entry) -> bool:
    """Return True for a saved entry that is a tensor (it can be freed), not a saved number."""
    return isinstance(entry, dict) and "freed" in entry and "value" not in entry


def held_as_tuple(entry) -> bool:
    """Return True for a saved value torch hands out as a tuple, which the JSON holds as a
    list: a C++ node's sizes and dims (torch's generated getters build a tuple of every
    list: ``_saved_self_sym_sizes`` is ``(2,)``), or a value marked ``tuple`` (a custom
    Function's ``ctx`` tuple, a C++ node's tuple of floats: ``_foreach_pow``'s exponents).
    An unmarked list of floats stays a list: a complex number saved is a ``[real, imag]``
    pair in the JSON too."""
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), list):
        return False
    if entry.get("tuple"):
        return True
    if str(entry.get("name", "")).startswith("ctx."):  # a ctx list is a list
        return False
    return all(type(v) is int for v in entry["value"])


@dataclass(frozen=True)
class StepState:
    """Everything a view shows of pass ``pass_index`` after ``step`` of its ``step_count`` steps.

    ``edge_grads`` maps ``(source, target, slot)`` to the gradient sent along that
    edge (only edges where one flowed); ``leaf_grads`` is each leaf's ``.grad`` at
    this moment by leaf label (none where it is not known: ``PassIndex.leaf_grad``); ``leaf_grads_after`` the ``.grad`` the pass left.
    ``current`` is the step about to run, ``last`` the one that ran last (None at
    the ends). ``error`` is the pass's error once torch raised it.
    """

    pass_index: int
    step: int
    step_count: int
    node_states: dict = field(default_factory=dict)
    freed: frozenset = frozenset()
    saved: dict = field(default_factory=dict)
    edge_grads: dict = field(default_factory=dict)
    leaf_grads: dict = field(default_factory=dict)
    leaf_grads_after: dict = field(default_factory=dict)
    returned: list | None = None
    returned_inputs: list = field(default_factory=list)
    current: dict | None = None
    last: dict | None = None
    error: dict | None = None
    mode: str = "backward"
    retain_graph: bool = False
    members: frozenset | None = None  # the nodes of this pass's own graph (None: all)

    @property
    def at_end(self) -> bool:
        return self.step >= self.step_count


@dataclass(frozen=True)
class StepChange:
    """What may differ between two step positions of one pass (for views that repaint
    only what changed): node states and saved lists of the touched nodes, the edge
    gradients of their edges (None: nothing flows there any more) and leaf ``.grad``
    (``GRAD_NOT_KNOWN`` where it is not known, see ``PassIndex.leaf_grad``)."""

    node_states: dict
    saved: dict
    edge_grads: dict
    leaf_grads: dict


class PassIndex:
    """One pass's timeline indexed by node, answering "what is true after k steps".

    ``graph`` (a networkx graph of the trace JSON, optional) gives the saved entries and
    edges; ``freed_at_start`` the nodes whose buffers were released before the pass
    (besides its own ``freed_before``).
    """

    def __init__(self, timeline: dict | None, *, graph=None, freed_at_start=(),
                 pass_index: int = 0, members=None, later=()):
        self.timeline = timeline or {}
        self.members = frozenset(members) if members else None
        self.graph = graph
        self.pass_index = pass_index
        self.steps: list = self.timeline.get("steps") or []
        self.count = len(self.steps)
        self.occurrences: dict[str, list[int]] = {}
        self.freed_after: dict[str, int] = {}  # node -> steps after which its buffers are gone
        self.accumulations: dict[str, list[int]] = {}  # leaf label -> its AccumulateGrad steps
        # leaf label -> its AccumulateGrad step that raised (a post-accumulate-grad hook's
        # error: the ``.grad`` after it is the one the pass left, ``leaf_grads``)
        self.raised_accumulation: dict[str, int] = {}
        for node in list(freed_at_start) + list(self.timeline.get("freed_before") or ()):
            self.freed_after[node] = 0
        if not self.steps:  # a pass that shows no steps (``no_steps``, or torch raised before
            # any node ran): its one position is also its end, where torch had freed these
            for node in self.timeline.get("freed_nodes") or ():
                self.freed_after.setdefault(node, 0)
        for i, step in enumerate(self.steps):
            node = step["node"]
            self.occurrences.setdefault(node, []).append(i)
            if step.get("freed") and node not in self.freed_after:
                self.freed_after[node] = i + 1
            if step.get("leaf") is not None and "grad_after" in step:
                self.accumulations.setdefault(step["leaf"], []).append(i)
            elif step.get("leaf") is not None and step.get("error") and "grad_before" in step:
                self.raised_accumulation[step["leaf"]] = i
        self.error_step = next((i for i, s in enumerate(self.steps) if s.get("error")), None)
        # leaves whose .grad the snippet's code changed in the pass before their AccumulateGrad
        # ran (or in a pass where it did not run), and (``_moved_after``) after it ran
        self.grad_moved = frozenset(self.timeline.get("grad_moved") or ())
        self._after_moved: dict[str, bool] = {}
        self._moved: frozenset | None = None  # ``_moved_any``, once asked
        self.later = later  # the timelines of the passes after this one, or a function
        # giving them (``unchanged``)
        self._unchanged: set | None = None
        self._freed_steps: list[int] | None = None  # freed_after's values, sorted (freed_count)
        self._with_saved: int | None = None  # saved_tensor_nodes, counted once
        self._before_raise_at: dict = {}  # k -> _before_raise(k)

    # -- per node --------------------------------------------------------------------------
    def clamp(self, k: int) -> int:
        return max(0, min(int(k), self.count))

    def node_state(self, node: str, k: int) -> str:
        """Return the state of ``node`` after ``k`` steps."""
        k = self.clamp(k)
        if k < self.count and self.steps[k]["node"] == node:
            return "current"
        ran = self._ran_before(node, k)
        if ran is not None:
            return step_outcome(self.steps[ran])
        return "pending"

    def runs_from(self, node: str, k: int) -> int | None:
        """Return the first step at or after ``k`` that runs ``node`` (None: it does not run
        again in this pass: torch skipped it, ``inputs=`` or an error stopped the pass, or
        it already ran)."""
        occ = self.occurrences.get(node)
        if not occ:
            return None
        j = bisect_left(occ, self.clamp(k))
        return occ[j] if j < len(occ) else None

    def said_state(self, node: str, k: int) -> str:
        """Return ``node_state`` with a pending node that no step from ``k`` on runs told
        apart (``"not_run"``): torch does not run it in this pass, so "not run yet" would
        say it will. Not in a pass whose steps are not shown (``no_steps``): which nodes it
        ran is not known."""
        state = self.node_state(node, k)
        if state != "pending" or self.timeline.get("no_steps"):
            return state
        return "not_run" if self.runs_from(node, k) is None else state

    def is_freed(self, node: str, k: int) -> bool:
        """Return True when ``node``'s saved buffers are released after ``k`` steps."""
        after = self.freed_after.get(node)
        return after is not None and after <= self.clamp(k)

    def saved(self, node: str, k: int) -> list[dict]:
        """Return ``node``'s saved entries with ``freed`` as torch has it after ``k`` steps."""
        entries = self._trace_saved(node)
        if not entries:
            return []
        changed = self.timeline.get("changed_before")
        raised = self.timeline.get("changed_when_raised")
        if raised is not None and (self.members is None or node in self.members):
            if self.clamp(k) >= self._raise_step():
                changed = raised  # probed as torch raised: the state from that step on
            elif changed is not None and "probed" in self.timeline:
                changed = self._before_raise(self.clamp(k))  # a hook's write, probed
        if changed is not None and (self.members is None or node in self.members):
            freed = self.is_freed(node, k)  # probed as the pass began: the state of its time
            marks = changed.get(node) or {}
            return [_at_pass(e, freed, marks.get(e.get("name"))) if is_tensor_entry(e)
                    else dict(e) for e in entries]
        if not self.steps and not self.freed_after:
            return [dict(e) for e in entries]  # no pass: the state the snippet left
        freed = self.is_freed(node, k)
        unchanged = freed or (any("changed_in_place" in e for e in entries)
                              and node in self.unchanged())
        return [_with_freed(e, freed, unchanged) if is_tensor_entry(e) else dict(e)
                for e in entries]

    def _before_raise(self, k: int) -> dict:
        """Return ``changed_before`` as it stands after ``k`` steps of a pass torch stopped
        with its version error, before the step that raised: each saved tensor torch refused
        as it raised, and took as the pass began, as the probes around the snippet's hooks
        bound it (``probed``, ``hook_probes``)."""
        cached = self._before_raise_at.get(k)
        if cached is not None:
            return cached
        before = self.timeline.get("changed_before") or {}
        out = {node: dict(names) for node, names in before.items()}
        readings = sorted((r for r in self.timeline.get("probed") or () if r[0] < self._raise_step()),
                          key=lambda r: r[0])
        for node, names in self.timeline["changed_when_raised"].items():
            for name, marks in names.items():
                if name not in (before.get(node) or {}):
                    found = _probed_marks(k, marks, [(t, moved.get(node, {}).get(name))
                                                     for t, moved in readings],
                                          self._raise_step())
                    if found:
                        out.setdefault(node, {})[name] = found
        self._before_raise_at[k] = out
        return out

    def _raise_step(self) -> int:
        """Return the first step count at which torch's error is the state shown: the
        step that raised is current (its node about to run), or the end."""
        return self.error_step if self.error_step is not None else self.count

    def unchanged(self) -> set:
        """Return the nodes that ran without an error in this pass or a later one: torch
        unpacked their saved tensors then, so none was changed in place yet (a version only
        grows). Read once, where a saved entry says changed."""
        if self._unchanged is None:
            self._unchanged = set().union(ran_without_error(self.steps), *(
                ran_without_error((t or {}).get("steps") or ())
                for t in (self.later() if callable(self.later) else self.later)))
        return self._unchanged

    def edge_grad(self, source: str, slot: int, k: int):
        """Return the gradient ``source`` sent through ``slot`` in ``steps[:k]`` (None if none)."""
        ran = self._ran_before(source, self.clamp(k))
        if ran is None:
            return None
        grads = self.steps[ran].get("grad_inputs") or []
        return grads[slot] if 0 <= slot < len(grads) else None

    def leaf_grad(self, label: str, k: int):
        """Return leaf ``label``'s ``.grad`` after ``k`` steps (``GRAD_NOT_KNOWN`` where the
        snippet's code changed it during the pass and gradstep cannot tell torch's then)."""
        done = self.accumulations.get(label)
        k = self.clamp(k)
        raised = self.raised_accumulation.get(label)
        if label in self.grad_moved:  # changed before its AccumulateGrad ran (it may not)
            first = done[0] if done else raised
            if k < (self.count if first is None else first):
                return GRAD_NOT_KNOWN
        if done and raised is None and k > done[-1] and self._moved_after(label):
            return GRAD_NOT_KNOWN if k < self.count else self.timeline["leaf_grads"][label]
        if raised is not None and (k <= raised and not done):
            return self.steps[raised]["grad_before"]
        if not done or (raised is not None and k > raised):
            return (self.timeline.get("leaf_grads") or {}).get(label)
        j = bisect_left(done, k)
        return self.steps[done[j - 1]]["grad_after"] if j else self.steps[done[0]]["grad_before"]

    def _moved_any(self) -> frozenset:
        """The leaves whose ``.grad`` the snippet's code changed in the pass, before their
        AccumulateGrad ran (``grad_moved``) or after (``_moved_after``): found once, not at
        each ``changes``."""
        if self._moved is None:
            self._moved = self.grad_moved | {label for label in self.accumulations
                                             if self._moved_after(label)}
        return self._moved

    def _moved_after(self, label: str) -> bool:
        """Return True when the ``.grad`` the pass left differs from the one its last
        AccumulateGrad left (the snippet's code wrote it later in the pass)."""
        moved = self._after_moved.get(label)
        if moved is None:
            ended = self.timeline.get("leaf_grads") or {}
            after = self.steps[self.accumulations[label][-1]].get("grad_after")
            # (repr: a NaN the same in both is the same)
            moved = label in ended and after != ended[label] and repr(after) != repr(ended[label])
            self._after_moved[label] = moved
        return moved

    def node_of_step(self, k: int) -> str | None:
        """Return the node of ``steps[k]`` (None past the end)."""
        return self.steps[k]["node"] if 0 <= k < self.count else None

    def _ran_before(self, node: str, k: int) -> int | None:
        occ = self.occurrences.get(node)
        if not occ:
            return None
        j = bisect_left(occ, k)
        return occ[j - 1] if j else None

    def _trace_saved(self, node: str) -> list:
        if self.graph is None or node not in self.graph:
            return []
        return self.graph.nodes[node].get("saved") or []

    # -- whole states ---------------------------------------------------------------------
    def nodes(self) -> list[str]:
        """Return every node this pass knows of: the graph's, then any only its steps name."""
        seen = dict.fromkeys(self.graph.nodes if self.graph is not None else ())
        seen.update(dict.fromkeys(self.freed_after))
        seen.update(dict.fromkeys(self.occurrences))
        return list(seen)

    def edges_from(self, source: str) -> list[tuple]:
        """Return ``(source, target, slot)`` for the edges leaving ``source`` in the graph."""
        if self.graph is None or source not in self.graph:
            return []
        return [(source, target, data.get("slot", key))
                for _, target, key, data in self.graph.out_edges(source, keys=True, data=True)]

    def edge_grads(self, k: int, sources=None) -> dict:
        """Return ``{(source, target, slot): gradient}`` for the edges of ``sources`` (default:
        every node that ran) along which a gradient flowed in ``steps[:k]``, in the order
        the nodes ran (the same order in every process: a picture's labels are drawn so)."""
        k = self.clamp(k)
        if sources is None:
            sources = dict.fromkeys(s["node"] for s in self.steps[:k])
        out = {}
        for source in sources:
            for edge in self.edges_from(source):
                grad = self.edge_grad(source, edge[2], k)
                if grad is not None:
                    out[edge] = grad
        return out

    def leaf_labels(self) -> list[str]:
        labels = dict.fromkeys(self.timeline.get("leaf_grads") or {})
        labels.update(dict.fromkeys(self.accumulations))
        labels.update(dict.fromkeys(self.raised_accumulation))
        return list(labels)

    def state(self, k: int) -> StepState:
        """Return the whole state after ``k`` steps."""
        k = self.clamp(k)
        nodes = self.nodes()
        tl = self.timeline
        ended = k >= self.count
        error = tl.get("error") if self._raised_by(k) else None
        returned = tl.get("returned") if ended and not tl.get("error") else None
        return StepState(
            pass_index=self.pass_index, step=k, step_count=self.count,
            node_states={n: self.node_state(n, k) for n in nodes},
            freed=frozenset(n for n in self.freed_after if self.is_freed(n, k)),
            saved={n: self.saved(n, k) for n in nodes if self._trace_saved(n)},
            edge_grads=self.edge_grads(k),
            leaf_grads={label: grad for label in self.leaf_labels()
                        if (grad := self.leaf_grad(label, k)) is not GRAD_NOT_KNOWN},
            leaf_grads_after=dict(tl.get("leaf_grads") or {}),
            returned=returned, returned_inputs=list(tl.get("returned_inputs") or []),
            current=self.steps[k] if k < self.count else None,
            last=self.steps[k - 1] if k > 0 else None,
            error=error, mode=tl.get("mode", "backward"),
            retain_graph=bool(tl.get("retain_graph")), members=self.members,
        )

    def freed_count(self, k: int) -> int:
        """Return how many nodes' buffers are released after ``k`` steps (``len(state(k).freed)``,
        in O(log nodes): the Saved panel says it at every step)."""
        if self._freed_steps is None:
            self._freed_steps = sorted(self.freed_after.values())
        return bisect_right(self._freed_steps, self.clamp(k))

    def saved_tensor_nodes(self) -> int:
        """Return how many of the graph's nodes saved a tensor (the same at every step:
        a node's saved tensors are freed, never removed)."""
        if self._with_saved is None:
            self._with_saved = sum(
                1 for n in (self.graph.nodes if self.graph is not None else ())
                if any(is_tensor_entry(e) for e in self._trace_saved(n)))
        return self._with_saved

    def steps_done(self, k: int) -> int:
        """Return how many steps torch finished after ``k`` step moves: the step that raised
        did not finish (a pass whose step 2 of 2 raised has 1 of 2 done at its end)."""
        k = self.clamp(k)
        return self.error_step if self.error_step is not None and k > self.error_step else k

    def raised_step(self, k: int) -> int | None:
        """Return the number (from 1) of the step that raised, once torch has raised there
        after ``k`` step moves; None before, or where no step raised (an error before the first
        node ran, or after the last: every step shown finished). Also where the pass keeps no
        error (a hook's ``sys.exit(0)`` ended the snippet there): that step did not finish."""
        return self.error_step + 1 if self.error_step is not None and self.clamp(k) > self.error_step else None

    def error_at(self, k: int) -> dict | None:
        """Return the pass's error once torch has raised it after ``k`` steps (``state(k).error``)."""
        return self.timeline.get("error") if self._raised_by(self.clamp(k)) else None

    def _raised_by(self, k: int) -> bool:
        """Return True when, after ``k`` steps, torch has raised this pass's error."""
        if not self.timeline.get("error"):
            return False
        if self.error_step is not None:
            return k > self.error_step
        return k >= self.count  # raised before the first node ran, or after the last

    def changes(self, a: int, b: int, *, edges: bool = True) -> StepChange:
        """Return what may differ between ``a`` and ``b`` steps, as it is after ``b`` steps
        (``edges=False``: without the edge gradients, for a view that labels edges itself:
        on a jump across a 100,000-node pass they are about half the work)."""
        lo, hi = sorted((self.clamp(a), self.clamp(b)))
        touched = {self.steps[i]["node"] for i in range(lo, min(hi + 1, self.count))}
        edge_grads = {}
        for source in touched if edges else ():
            for edge in self.edges_from(source):
                edge_grads[edge] = self.edge_grad(source, edge[2], b)
        leaves = {self.steps[i]["leaf"] for i in range(lo, min(hi + 1, self.count))
                  if self.steps[i].get("leaf") in self.accumulations
                  or self.steps[i].get("leaf") in self.raised_accumulation}
        # (a .grad the snippet's code changed shows none between steps of other nodes)
        leaves |= self._moved_any()
        # a saved tensor a hook changed shows it from the step a probe found it so (or less
        # between the probes): its node is repainted at any step of the pass
        probed = self.timeline.get("changed_when_raised") or {} if "probed" in self.timeline else {}
        return StepChange(
            node_states={n: self.node_state(n, b) for n in touched},
            saved={n: self.saved(n, b) for n in {*touched, *probed} if self._trace_saved(n)},
            edge_grads=edge_grads,
            leaf_grads={label: self.leaf_grad(label, b) for label in leaves},
        )


CHANGED_KEYS = ("changed_in_place", "version", "saved_version", "detached_in_place",
                "changed_during")


def _probed_marks(k: int, marks: dict, readings: list, top: int) -> dict | None:
    """Return the refusal fields of a saved tensor after ``k`` steps (``k < top``, the step
    that raised), torch having taken it as the pass began and refused it with ``marks`` as
    it raised; ``readings`` are ``(moment, its version then, None: unmoved)`` in order. A
    version only grows: a moment at or after ``k`` that read the saved version says it was
    untouched (None); a moment at or before ``k`` and one at or after it that read the same
    other version say it was changed with that version; else when is not known:
    ``changed_during`` (a hook of the snippet's wrote it during the pass, torch refuses it by
    the step that raised), with torch's saved version; one torch refused as detached in
    place (``b.detach_()`` in a hook: no version is moved, so no probe bounds it) is
    ``changed_during`` with ``detached_in_place``, no version (torch's refusal names none)."""
    saved = marks.get("saved_version")
    if marks.get("detached_in_place"):
        return {"changed_during": True, "detached_in_place": True}
    if not marks.get("changed_in_place") or saved is None:
        return {"changed_during": True}
    moments = [(t, saved if v is None else v) for t, v in readings] + [(top, marks["version"])]
    if any(t >= k and v == saved for t, v in moments):
        return None
    earlier = [v for t, v in moments if t <= k]
    later = next(v for t, v in moments if t >= k)
    if earlier and earlier[-1] != saved and earlier[-1] == later:
        return {"changed_in_place": True, "version": later, "saved_version": saved}
    return {"changed_during": True, "saved_version": saved}


def _at_pass(entry: dict, freed: bool, marks: dict | None) -> dict:
    """Return ``entry`` as torch held it in a pass whose start found ``marks`` for it (the
    timeline's ``changed_before``: None where torch would take it then)."""
    out = {key: value for key, value in entry.items() if key not in CHANGED_KEYS}
    out["freed"] = freed
    if marks and not freed:
        out.update(marks)
    return out


def _with_freed(entry: dict, freed: bool, unchanged: bool = False) -> dict:
    out = dict(entry)
    out["freed"] = freed
    if unchanged and "changed_in_place" in out:
        for key in CHANGED_KEYS:
            out.pop(key, None)
    return out


def ran_without_error(steps) -> set:
    """Return the nodes of ``steps`` that ran without an error."""
    return {step["node"] for step in steps if not step.get("error")}


class PassHistory:
    """The passes of one run in the order they happened (the snippet's own calls, then the
    passes gradstep ran), over one drawn graph. Buffers freed by an earlier pass stay
    freed in later ones."""

    def __init__(self, graph=None, timelines=(), members=None):
        self.graph = graph
        self.timelines = list(timelines)
        # per pass, the node ids of its own graph (a snippet call's ``nodes``), or None: all
        self.members = list(members) if members is not None else [None] * len(self.timelines)
        self._indexes: list[PassIndex] = []

    def __len__(self) -> int:
        return len(self.timelines)

    def append(self, timeline: dict, members=None) -> None:
        self.timelines.append(timeline)
        self.members.append(members)
        for index in self._indexes:  # a later pass may tell a saved tensor unchanged
            index._unchanged = None

    def index(self, pass_index: int) -> PassIndex:
        """Return the PassIndex of pass ``pass_index`` (0-based), built once."""
        while len(self._indexes) <= pass_index:
            i = len(self._indexes)
            start = set()
            if i:
                before = self._indexes[i - 1]
                start = {n for n in before.freed_after if before.is_freed(n, before.count)}
                start |= set(before.timeline.get("freed_nodes") or ())
            members = self.members[i] if i < len(self.members) else None
            self._indexes.append(PassIndex(self.timelines[i], graph=self.graph,
                                           freed_at_start=start, pass_index=i, members=members,
                                           later=lambda i=i: self.timelines[i + 1:]))
        return self._indexes[pass_index]

    def state(self, pass_index: int, k: int) -> StepState:
        return self.index(pass_index).state(k)


def apply_saved(graph, saved: dict):
    """Return a copy of ``graph`` whose nodes' ``saved`` lists are those of ``saved``
    (a StepState's), so drawings and exports read the state of that moment."""
    out = graph.copy()
    for node, entries in saved.items():
        if node in out:
            out.nodes[node]["saved"] = entries
    return out


def call_on_graph(call: dict, graph) -> bool:
    """Return True when a snippet call's recorded nodes are nodes of the drawn ``graph``
    (same ids and ops), so its steps can be shown on it (see ``call_graphs``)."""
    if "drawn" in call and not call["drawn"]:  # the core knows it is another graph
        return False
    nodes = call.get("nodes") or []
    return bool(call.get("timeline")) and bool(nodes) and graph is not None and all(
        n["id"] in graph and graph.nodes[n["id"]].get("name") == n["name"] for n in nodes)


def drawn_calls(calls, graph) -> list[dict]:
    """Return the snippet's backward calls that can be stepped on ``graph``, in order."""
    return [call for call in calls or () if call_on_graph(call, graph)]
