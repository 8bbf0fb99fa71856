"""The Saved tensors & retain_graph panel: each buffer alive or freed, and the graph's state."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from app.ui.models import SessionModel
from app.ui.seen import RefreshWhenSeen


def freed_by_passes(model: SessionModel, node_id: str) -> bool:
    """Return True when ``node_id``'s saved tensors are freed at the current step.

    Freed by an earlier pass (its ``freed_nodes``) or by a step of the current pass
    up to now (torch releases a node's buffers right after calling it when the
    graph is not retained).
    """
    if model.timeline is None:
        return False
    earlier = model.timelines[:max(0, model.timeline_index())]
    if any(node_id in (tl.get("freed_nodes") or []) for tl in earlier):
        return True
    return any(step.get("freed") for step in model.steps_of(node_id))


def saved_rows(model: SessionModel, node_id: str) -> list[tuple[str, str, str]]:
    """Return (buffer, shape, state) for the saved items of ``node_id`` at this step.

    State is "alive" or "freed" for a tensor, "value ..." for a saved number or flag.
    Without a backward pass the trace's own flag (read after the snippet ran) is used.
    """
    attrs = model.node(node_id)
    freed_now = freed_by_passes(model, node_id)
    rows = []
    for saved in attrs.get("saved") or []:
        name = saved.get("name", "?")
        if "freed" not in saved:  # not a tensor (an int, a flag): saved by value, never freed
            rows.append((name, "", f"value {saved.get('value')!r}"))
            continue
        freed = freed_now if model.timeline is not None else bool(saved.get("freed"))
        shape = str(list(saved["shape"])) if saved.get("shape") is not None else ""
        rows.append((name, shape, "freed" if freed else "alive"))
    return rows


class QtSavedPanel(RefreshWhenSeen, QtWidgets.QWidget):
    """Lists the focus node's saved tensors and states whether the graph is retained."""

    def __init__(self, model: SessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.state_label = QtWidgets.QLabel()
        self.state_label.setWordWrap(True)
        self.node_label = QtWidgets.QLabel()
        self.node_label.setWordWrap(True)
        self.table = QtWidgets.QTreeWidget()
        self.table.setHeaderLabels(["saved tensor", "shape", "state"])
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
        state = self.model.graph_state()
        self.state_label.setText(f"<b>Graph:</b> {state or 'no backward pass yet'}")
        node_id = self.model.focus_node()
        attrs = self.model.node(node_id)
        self.table.clear()
        if not attrs:
            self.node_label.setText("Select a node to see its saved tensors.")
            return
        rows = saved_rows(self.model, node_id)
        self.node_label.setText(f"{attrs.get('name')} ({node_id}): "
                                f"{len(rows) or 'no'} saved tensor{'s' if len(rows) != 1 else ''}")
        for name, shape, alive in rows:
            item = QtWidgets.QTreeWidgetItem([name, shape, alive])
            if alive in ("alive", "freed"):
                color = "#2e7d32" if alive == "alive" else "#c62828"
                item.setForeground(2, QtGui.QBrush(QtGui.QColor(color)))
            self.table.addTopLevelItem(item)
        for col in range(3):
            self.table.resizeColumnToContents(col)
