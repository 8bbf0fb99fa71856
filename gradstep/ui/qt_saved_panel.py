"""The Saved tensors & retain_graph panel: each buffer alive, freed or changed in place at
this step, and the
graph's state. Both come from the step state (``gradstep.autograd.step_state``): the same
flags the graph's pills, its tooltips and ``gradstep export`` show."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.step_state import held_as_tuple, is_tensor_entry
from gradstep.drawing.style import format_shape
from gradstep.i18n import localized
from gradstep.policies.number_text import TORCH_WORDS
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.refresh_when_seen import RefreshWhenSeen
from gradstep.ui.tensor_text import saved_state_words
from gradstep.ui.words import tr


def saved_rows(model: QtSessionModel, node_id: str) -> list[tuple[str, str, str]]:
    """Return (buffer, shape, state) for the saved items of ``node_id`` at this step.

    Shape as the graph's boxes write it (``(2, 3)``, ``(1,)``, ``()``): for a freed tensor,
    the shape it had when the pass freed it (``autograd.saved_shapes``).

    State is "alive" or "freed" for a tensor, or "changed in place: version V, saved at
    version S" for one the snippet changed in place since the node saved it (torch refuses
    it to backward; the versions are torch's own, see ``saved.saved_items``), "value ..." for
    a saved number or flag (saved by value, never freed). Without a pass: the state the
    snippet left.
    """
    rows = []
    for saved in model.saved_of(node_id):
        name = saved.get("name", "?")
        if not is_tensor_entry(saved):
            rows.append((name, "", "value " + saved_value_text(saved.get("value"),
                                                               held_as_tuple(saved))))
            continue
        shape = format_shape(saved["shape"]) if saved.get("shape") is not None else ""
        rows.append((name, shape, tensor_state(saved)))
    return rows


CHANGED = "changed in place: version {0}, saved at version {1}"
DETACHED = "detached in place since it was saved (torch refuses it)"
UNREAD = "a view past version 0: whether changed since it was saved is not read"
DURING = ("changed in place during this pass (by a hook or a custom Function's backward; when "
          "is not recorded)")


def tensor_state(entry: dict) -> str:
    """Return a saved tensor's state in ``saved_rows``' English words."""
    if entry.get("freed"):
        return "freed"
    if entry.get("changed_during"):  # (detached or changed: not known whether already here)
        return DURING
    if entry.get("detached_in_place"):
        return DETACHED
    if entry.get("changed_in_place"):
        return CHANGED.format(entry.get("version"), entry.get("saved_version"))
    if entry.get("view_version"):
        return UNREAD
    return "alive"


def saved_value_text(value, is_tuple: bool = False) -> str:
    """Return a saved number or flag as Python writes it (``repr``), strict JSON's
    ``"Infinity"``, ``"-Infinity"``, ``"NaN"`` as ``inf``, ``-inf``, ``nan`` (not quoted);
    a list that torch holds as a tuple (``is_tuple``) as one: ``(2,)``, ``(2, 3)``."""
    if isinstance(value, list):
        words = [saved_value_text(v) for v in value]
        if is_tuple:
            return "(" + ", ".join(words) + ("," if len(words) == 1 else "") + ")"
        return "[" + ", ".join(words) + "]"
    return TORCH_WORDS.get(value, repr(value)) if isinstance(value, str) else repr(value)


def graph_words(model: QtSessionModel) -> str:
    """Return the graph's state at this step, in words (from the pass's counts, not the
    whole state: a step on a 100,000-node graph must not walk every node)."""
    index = model.index()
    if index is None:
        return tr("no backward pass yet")
    # (not counting nodes torch had not built yet at this step: they saved nothing then)
    counts = tr("{0} of {1} nodes with saved tensors have freed them").format(
        index.freed_count(model.step), index.saved_tensor_nodes() - model.unbuilt_saving())
    error = index.error_at(model.step)
    if error is not None:
        title = (localized(error) or {}).get("title") or ""
        return tr("the pass failed here ({0}); {1}.").format(title, counts)
    if index.timeline.get("retain_graph"):
        return tr("retain_graph=True: every node keeps its saved tensors after it runs; "
                  "{0}.").format(counts)
    return tr("retain_graph=False: each node frees its saved tensors right after it runs; "
              "{0}.").format(counts)


_STATE_COLOURS = {"alive": "#2e7d32", "freed": "#c62828", "changed": "#b71c1c",
                  "detached": "#b71c1c", "during": "#37474f", "unread": "#37474f"}


class QtSavedPanel(RefreshWhenSeen, QtWidgets.QWidget):
    """Lists the focus node's saved tensors and states whether the graph is retained."""

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.state_label = QtWidgets.QLabel()
        self.state_label.setWordWrap(True)
        self.node_label = QtWidgets.QLabel()
        self.node_label.setWordWrap(True)
        self.table = QtWidgets.QTreeWidget()
        self._retranslate()
        self.table.setRootIsDecorated(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.state_label)
        layout.addWidget(self.node_label)
        layout.addWidget(self.table, 1)
        for sig in (model.sigStepChanged, model.sigSelectionChanged, model.sigTraceChanged,
                    model.sigTimelineChanged):
            sig.connect(self.refresh)
        self.refresh()

    def _retranslate(self) -> None:
        self.table.setHeaderLabels([self.tr("saved tensor"), self.tr("shape"), self.tr("state")])

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self._retranslate()
            self._stale = True
            self.refresh()
        super().changeEvent(event)

    def _redraw(self) -> None:
        """Show the graph's state and the focus node's buffers (see RefreshWhenSeen)."""
        where = ""
        if self.model.timeline is not None:
            index, k = self.model.index(), self.model.step
            raised = index.raised_step(k) if index is not None else None
            if raised is None:
                where = self.tr(" (pass {0}, {1} of {2} steps done)").format(
                    self.model.pass_index + 1, k, self.model.step_count)
            else:  # the step that raised did not finish
                where = self.tr(" (pass {0}, {1} of {2} steps done, step {3} raised)").format(
                    self.model.pass_index + 1, index.steps_done(k), self.model.step_count, raised)
        graph = self.tr("Graph")
        self.state_label.setText(f"<b>{graph}{where}:</b> "
                                 f"{graph_words(self.model)}")
        node_id = self.model.focus_node()
        attrs = self.model.node(node_id)
        self.table.clear()
        if not attrs:
            self.node_label.setText(
                self.tr("Click a node, or step through backward, to see its saved tensors.")
                if self.model.graph is not None or not self.model.has_run else
                self.tr("The last run built no graph: see Errors and Output."))
            return
        rows = saved_rows(self.model, node_id)
        entries = self.model.saved_of(node_id)  # the rows' entries, in order
        tensors = sum(1 for e in entries if is_tensor_entry(e))
        self.node_label.setText(self.tr("{0} ({1}) {2}: {3} saved tensor(s), {4} saved value(s)")
                                .format(attrs.get("name"), node_id, attrs.get("label") or "",
                                        tensors, len(rows) - tensors))
        for (name, shape, state), entry in zip(rows, entries):
            tensor = is_tensor_entry(entry)
            shown = (self._during_words(entry) if tensor and state == DURING else
                     saved_state_words(entry) if tensor else
                     self.tr("value {0}").format(state[len("value "):]))
            item = QtWidgets.QTreeWidgetItem([name, shape, shown])
            if tensor:
                kind = ("alive" if state == "alive" else "freed" if state == "freed" else
                        "detached" if state == DETACHED else "during" if state == DURING
                        else "unread" if state == UNREAD else "changed")
                item.setForeground(2, QtGui.QBrush(QtGui.QColor(_STATE_COLOURS[kind])))
                item.setToolTip(2, self._state_tip(kind))
            self.table.addTopLevelItem(item)
        for col in range(3):
            self.table.resizeColumnToContents(col)
        self.table.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)

    def _during_words(self, entry: dict) -> str:
        """The state cell of a saved tensor changed during the pass at a step no probe bounds
        (``changed_during``): short, as the pill; its tooltip says the rest."""
        if entry.get("detached_in_place"):  # detached: torch's refusal names no version
            return self.tr("detached in this pass?")
        return self.tr("changed in this pass? (saved at version {0})").format(
            entry.get("saved_version", "?"))

    def _state_tip(self, kind: str) -> str:
        if kind == "alive":
            return self.tr("still held: backward can use it")
        if kind == "freed":
            return self.tr("released by torch: a backward that needs it raises")
        if kind == "during":
            return self.tr("still held; the snippet's code (a hook or a custom Function's "
                           "backward) changed it in place during this pass, and torch refuses it "
                           "at the step that raised: whether it was already changed at this step "
                           "is not recorded")
        if kind == "unread":
            return self.tr("still held; a view of the running program at a version past 0: "
                           "torch refuses it at backward if it changed since the node saved "
                           "it, which only unpacking it tells, and that could rebuild the "
                           "view's node (gradstep does not)")
        if kind == "detached":
            return self.tr("still held, but detached in place (.detach_()) since the node "
                           "saved it: backward through the node raises (use .detach())")
        return self.tr("still held, but changed in place since the node saved it: torch "
                       "checks the version when backward unpacks it, and raises")

    def select_saved(self, name: str) -> bool:
        """Select the row of the focus node's saved value ``name`` (a formula's link);
        return False when the node has no such row."""
        self._redraw()  # its dock was just raised: draw now, not at the next paint
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item.text(0) == name:
                self.table.setCurrentItem(item)
                self.table.scrollToItem(item)
                return True
        return False
