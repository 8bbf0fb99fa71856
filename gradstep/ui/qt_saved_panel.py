"""The Saved tensors & retain_graph panel: each buffer alive or freed at this step, and the
graph's state. Both come from the step state (``gradstep.autograd.step_state``): the same
flags the graph's pills, its tooltips and ``gradstep export`` show."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.step_state import is_tensor_entry
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.refresh_when_seen import RefreshWhenSeen


def saved_rows(model: QtSessionModel, node_id: str) -> list[tuple[str, str, str]]:
    """Return (buffer, shape, state) for the saved items of ``node_id`` at this step.

    State is "alive" or "freed" for a tensor, "value ..." for a saved number or flag
    (saved by value, never freed). Without a pass: the state the snippet left.
    """
    rows = []
    for saved in model.saved_of(node_id):
        name = saved.get("name", "?")
        if not is_tensor_entry(saved):
            rows.append((name, "", f"value {saved.get('value')!r}"))
            continue
        shape = str(list(saved["shape"])) if saved.get("shape") is not None else ""
        rows.append((name, shape, "freed" if saved.get("freed") else "alive"))
    return rows


def graph_words(model: QtSessionModel, tr) -> str:
    """Return the graph's state at this step, in words."""
    state = model.state()
    if state is None:
        return tr("no backward pass yet")
    freed = len(state.freed)
    with_saved = sum(1 for entries in state.saved.values() if any(is_tensor_entry(e) for e in entries))
    counts = tr("{0} of {1} nodes with saved tensors have freed them").format(freed, with_saved)
    if state.error is not None:
        return tr("the pass failed here ({0}); {1}.").format(state.error.get("title") or "", counts)
    if state.retain_graph:
        return tr("retain_graph=True: every node keeps its saved tensors after it runs; "
                  "{0}.").format(counts)
    return tr("retain_graph=False: each node frees its saved tensors right after it runs; "
              "{0}.").format(counts)


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
        self.table.setHeaderLabels([self.tr("saved tensor"), self.tr("shape"), self.tr("state")])
        self.table.setRootIsDecorated(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.state_label)
        layout.addWidget(self.node_label)
        layout.addWidget(self.table, 1)
        for sig in (model.sigStepChanged, model.sigSelectionChanged, model.sigTraceChanged,
                    model.sigTimelineChanged):
            sig.connect(self.refresh)
        self.refresh()

    def _redraw(self) -> None:
        """Show the graph's state and the focus node's buffers (see RefreshWhenSeen)."""
        where = ""
        if self.model.timeline is not None:
            where = self.tr(" (pass {0}, step {1} of {2})").format(
                self.model.pass_index + 1, self.model.step, self.model.step_count)
        self.state_label.setText(f"<b>{self.tr('Graph')}{where}:</b> "
                                 f"{graph_words(self.model, self.tr)}")
        node_id = self.model.focus_node()
        attrs = self.model.node(node_id)
        self.table.clear()
        if not attrs:
            self.node_label.setText(self.tr("Click a node, or step through backward, to see "
                                            "its saved tensors."))
            return
        rows = saved_rows(self.model, node_id)
        tensors = sum(1 for r in rows if r[2] in ("alive", "freed"))
        self.node_label.setText(self.tr("{0} ({1}) {2}: {3} saved tensor(s), {4} saved value(s)")
                                .format(attrs.get("name"), node_id, attrs.get("label") or "",
                                        tensors, len(rows) - tensors))
        for name, shape, alive in rows:
            item = QtWidgets.QTreeWidgetItem([name, shape, alive])
            if alive in ("alive", "freed"):
                color = "#2e7d32" if alive == "alive" else "#c62828"
                item.setForeground(2, QtGui.QBrush(QtGui.QColor(color)))
                tip = (self.tr("still held: backward can use it") if alive == "alive" else
                       self.tr("released by torch: a backward that needs it raises"))
                item.setToolTip(2, tip)
            self.table.addTopLevelItem(item)
        for col in range(3):
            self.table.resizeColumnToContents(col)
        self.table.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
