"""Keeps the graph view on the model's step: node states (folded module boxes too), saved
tensors alive or freed as torch has them then, the gradients on the edges, the ▶ node in
view, and tooltips that tell the same. Everything is read from the model's step state
(``gradstep.autograd.step_state``), the source the panels and exports read too."""

from __future__ import annotations

from PySide6 import QtCore

from gradstep.autograd.formula_step import wired_slots
from gradstep.drawing.collapse import box_state
from gradstep.drawing.style import gradient_full_text, gradient_text
from gradstep.step_drawing import grad_dtype
from gradstep.ui.qt_graph_view import QtGraphView
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.tensor_text import node_tooltip, summary_words

LABEL_WINDOW = 40  # gradients of the last this many steps are written on the edges


class QtGraphFollower(QtCore.QObject):
    """Observes ``model`` and draws its step on ``view`` (a view of the model, no state of its own
    beyond which labels are written)."""

    def __init__(self, model: QtSessionModel, view: QtGraphView, parent=None):
        super().__init__(parent)
        self.model = model
        self.view = view
        self._labelled = (0, 0)  # the steps whose gradients are written on edges
        self._shown = None  # the PassIndex whose states the view shows
        view.node_tooltip = self.node_tooltip
        view.edge_tooltip = self.edge_tooltip
        # the graph view hears of a step before the side panels: the other way round a step
        # paints the 10,000-node view twice, not once (bench/bench_ui.py)
        model.sigStepChanged.connect(self.on_step)

    def redraw(self) -> None:
        """Show the model's step on a view that was just given a new graph."""
        self._shown = None
        self._labelled = (0, 0)
        self.on_step(self.model.step)

    def on_step(self, k: int) -> None:
        index = self.model.index()
        if index is None:
            self.view.set_dimmed(())
            self.view.set_node_states({}, {})
            self.view.clear_edge_labels()
            self._shown, self._labelled = None, (0, 0)
            return
        # scroll first, then change what is drawn: the other way round a step that scrolls
        # (on a wide graph, most steps) paints the view twice, the whole view and then the
        # changed boxes again (bench/bench_ui.py --snippet bench/snippets/dag100k.py)
        node = index.node_of_step(k) or index.node_of_step(k - 1)
        if node is not None:
            self.view.follow(node)
        if self._shown is index:
            change = self.model.changes(self.model.previous_step)
            saved = change.saved
            # a create_graph pass builds its gradients' graph step by step: a node built
            # since gets its saved tensors as torch has them now, one not built yet none
            built, unbuilt = self.model.built_between(self.model.previous_step)
            if built or unbuilt:
                saved = {**saved, **{n: self.model.saved_of(n) for n in built},
                         **{n: [] for n in unbuilt}}
            self.view.update_node_states(change.node_states, saved)
        else:  # a new pass: every node at once
            state = self.model.state()
            outside = self.outside(index)
            self.view.set_dimmed(outside)
            # a node torch built after this pass ran saved nothing then: no pill (the box
            # showed the trace's, "saved: self", on a node that did not exist yet)
            unbuilt = {n: [] for n in self.model.built_later_of(outside)}
            self.view.set_node_states(state.node_states, {**state.saved, **unbuilt})
            self.view.clear_edge_labels()
            self._labelled = (0, 0)
            self._shown = index
        self._update_edge_labels(index, k)
        self.view.flush_updates()

    def _labels_of_step(self, index, i: int, k: int) -> dict:
        """Return {(u, v, key): text} for the gradients step ``i`` sent (small ones only)."""
        node = index.steps[i]["node"]
        labels = {}
        for edge in index.edges_from(node):
            text = gradient_text(index.edge_grad(node, edge[2], k),
                                 dtype=grad_dtype(index.graph, edge))
            if text:
                labels[edge] = text
        return labels

    def _update_edge_labels(self, index, k: int) -> None:
        """Write the gradients sent by the last LABEL_WINDOW steps before ``k`` on their edges.

        Only steps entering or leaving that window are looked at, so one step costs the
        same on a 10,000-node graph as on a small one (and a long pass does not bury the
        drawing under thousands of numbers). The edge keys are slots, as the graph's.
        """
        old = set(range(*self._labelled))
        new = set(range(max(0, k - LABEL_WINDOW), k))
        changed: dict = {}
        for i in sorted(old - new):
            # every edge of a step that leaves the window: at ``k`` a step undone (a step
            # back, Reset) has sent no gradient, so its labels cannot be found by their text
            for edge in index.edges_from(index.steps[i]["node"]):
                changed[edge] = ""
        for i in sorted(new - old):
            changed.update(self._labels_of_step(index, i, k))
        self._labelled = (max(0, k - LABEL_WINDOW), k)
        if changed:
            self.view.set_edge_labels(changed)

    def outside(self, index) -> set:
        """Return the drawn nodes that are not part of the pass ``index`` steps (a snippet call
        on another root of the drawn graph, e.g. the other ``p[i]``, or a node built later)."""
        if index.members is None or self.model.graph is None:
            return set()
        return {n for n in self.model.graph.nodes if n not in index.members}

    # -- tooltips ------------------------------------------------------------------------------
    def node_tooltip(self, node_id: str, attrs: dict) -> str:
        """Return the hover text of ``node_id`` at the step shown."""
        if attrs.get("kind") == "module":
            said = [self.model.said_state(m) or "pending" for m in attrs.get("members", ())]
            state = ("not_run" if said and set(said) == {"not_run"}
                     else box_state("pending" if s == "not_run" else s for s in said))
            return node_tooltip(attrs, state if self.model.index() else "")
        index = self.model.index()
        wired = wired_slots(self.model.graph, node_id)  # no formula for an input torch never
        if index is not None and node_id in self.outside(index):  # sends a gradient to
            record = self.model.current_pass()
            built_at = self.model.built_at(node_id)
            if self.model.built_later(node_id):  # (no saved tensors: it did not exist)
                said = (self.tr("not built yet: step {0} of this pass builds it "
                                "(create_graph=True)").format(built_at)
                        if built_at is not None else
                        self.tr("not built yet: {0} ran before torch made this node"
                                ).format(record.title if record else ""))
                return node_tooltip(attrs, saved=[], wired=wired) + "<br>" + said
            if built_at is not None:  # (its saved tensors as torch has them now)
                return node_tooltip(attrs, saved=self.model.saved_of(node_id),
                                    wired=wired) + "<br>" + self.tr(
                    "built at step {0} of this pass (create_graph=True); this pass does "
                    "not run it").format(built_at)
            return node_tooltip(attrs, wired=wired) + "<br>" + self.tr(
                "not part of this pass: {0} does not reach it (it may not exist yet then)"
            ).format(record.title if record else "")
        label = attrs.get("label")
        said = self.model.said_state(node_id)
        if said == "pending" and index is not None and index.timeline.get("no_steps"):
            said = "not_shown"  # (the pass is over: not "not run yet", as the header says)
        if attrs.get("kind") == "leaf" and index is not None and label in index.leaf_labels():
            # (a .grad not known at this step, GRAD_NOT_KNOWN, is ``...``: no line for it)
            return node_tooltip(attrs, said, self.model.saved_of(node_id),
                                self.model.leaf_grad(label))
        return node_tooltip(attrs, said, self.model.saved_of(node_id), wired=wired)

    def edge_tooltip(self, edge) -> str:
        """Return the full gradient on an edge at the step shown."""
        index = self.model.index()
        if index is None:
            return ""
        source, target, slot = edge
        grad = index.edge_grad(source, slot, self.model.step)
        dtype = grad_dtype(index.graph, edge)
        text = (summary_words(grad, dtype) if isinstance(grad, dict)  # in the language shown
                else gradient_full_text(grad, dtype=dtype))
        if not text:
            return ""
        return self.tr("gradient sent from {0} to {1} (slot {2}):\n{3}").format(
            self.model.node(source).get("label") or source,
            self.model.node(target).get("label") or target, slot, text)
