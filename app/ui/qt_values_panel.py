"""The Values panel: forward value, gradient arriving, gradients sent, local Jacobian."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.ui.models import SessionModel
from app.ui.qt_tensor_plot import QtTensorPlot
from app.ui.seen import RefreshWhenSeen
from app.ui.summaries import short


class QtValuesPanel(RefreshWhenSeen, QtWidgets.QScrollArea):
    """Describes the model's focus node (selected, else the current step's)."""

    def __init__(self, model: SessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.node_id = ""
        self.header = QtWidgets.QLabel("Run a snippet, then step through backward.")
        self.header.setWordWrap(True)
        # fixed sizes: a new step's text must not re-lay out the dock (that repaints the window)
        self.header.setFixedHeight(self.header.fontMetrics().lineSpacing() * 2 + 4)
        self.header.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.forward = QtTensorPlot("Forward value")
        self.arriving = QtTensorPlot("Gradient arriving (grad_output)")
        self.slot_choice = QtWidgets.QComboBox()
        self.slot_choice.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.slot_choice.setMinimumContentsLength(28)
        self.slot_choice.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                       QtWidgets.QSizePolicy.Policy.Fixed)
        self.sent = QtTensorPlot("Gradient sent (grad_input)")
        self.jacobian = QtTensorPlot("Local Jacobian")
        self._sent_values: list = []
        self._jacobian: dict | None = None
        body = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(body)
        layout.addWidget(self.header)
        layout.addWidget(self.forward)
        layout.addWidget(self.arriving)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Sent along slot:"))
        row.addWidget(self.slot_choice, 1)
        layout.addLayout(row)
        layout.addWidget(self.sent)
        layout.addWidget(self.jacobian)
        layout.addStretch(1)
        self.setWidget(body)
        self.setWidgetResizable(True)
        self.slot_choice.currentIndexChanged.connect(self._on_slot_change)
        model.sigStepChanged.connect(self.refresh)
        model.sigSelectionChanged.connect(self.refresh)
        model.sigTraceChanged.connect(self.refresh)
        model.sigInspected.connect(self._on_inspected)

    def _redraw(self) -> None:
        """Describe the focus node (see RefreshWhenSeen)."""
        self.node_id = self.model.focus_node()
        attrs = self.model.node(self.node_id)
        if not attrs:
            self.header.setText("Click a node, or step through backward.")
            for plot in (self.forward, self.arriving, self.sent, self.jacobian):
                plot.set_value(None)
            self._set_slots([])
            return
        where = f" on {attrs.get('device')}" if attrs.get("device") else ""
        why = "selected" if self.model.selected else f"ran at step {self.model.step}"
        self.header.setText(f"<b>{attrs.get('name')}</b> ({self.node_id}) "
                            f"{attrs.get('label') or ''}{where} — {why}")
        self.forward.set_value(attrs.get("value"))
        steps = self.model.steps_of(self.node_id)
        last = steps[-1] if steps else {}
        outs = last.get("grad_outputs") or []
        self.arriving.set_value(outs[0] if outs else None)
        self._set_slots(last.get("grad_inputs") or [])
        inspected = self.model.inspected
        self._jacobian = inspected.get("jacobian") if inspected.get("id") == self.node_id else None
        self._show_jacobian()

    def _set_slots(self, grads: list) -> None:
        self._sent_values = list(grads)
        self.slot_choice.blockSignals(True)
        self.slot_choice.clear()
        targets = self._slot_targets()
        for i, grad in enumerate(grads):
            to = targets.get(i, "none")
            self.slot_choice.addItem(f"{i} → {to}: {short(grad, 24)}")
        self.slot_choice.blockSignals(False)
        self._on_slot_change(0 if grads else -1)

    def _slot_targets(self) -> dict[int, str]:
        """Return {slot: target node's label or name} for the focus node's edges."""
        graph = self.model.graph
        if graph is None or self.node_id not in graph:
            return {}
        out = {}
        for _, target, data in graph.out_edges(self.node_id, data=True):
            attrs = graph.nodes[target]
            out[data.get("slot", 0)] = attrs.get("label") or attrs.get("name", target)
        return out

    def _on_slot_change(self, index: int) -> None:
        ok = 0 <= index < len(self._sent_values)
        self.sent.set_value(self._sent_values[index] if ok else None)
        self._show_jacobian()

    def _on_inspected(self, details: dict) -> None:
        if self._stale:
            return  # set_seen redraws from the model, which holds these details
        if details.get("id") == self.node_id:
            self._jacobian = details.get("jacobian")
            self._show_jacobian()

    def _show_jacobian(self) -> None:
        """Draw the Jacobian block of the chosen slot (first output), or say why there is none."""
        jac = self._jacobian
        if not jac:
            self.jacobian.set_message("Click the node to compute its local Jacobian.")
            return
        if jac.get("status") != "ok":
            self.jacobian.set_message(f"{jac.get('status')}: {jac.get('reason') or ''}".strip())
            return
        slot = max(0, self.slot_choice.currentIndex())
        blocks = [b for b in jac.get("blocks") or [] if b.get("slot") == slot]
        block = blocks[0] if blocks else None
        if block is None or block.get("matrix") is None:
            self.jacobian.set_message(f"no gradient flows through slot {slot}")
            return
        rows, cols = block["shape"]
        matrix = block["matrix"]
        if rows * cols == 1:
            self.jacobian.set_value({"shape": [], "data": matrix[0][0]})
        else:
            self.jacobian.set_value({"shape": [rows, cols], "data": matrix})
