"""The Values panel: the local gradient as formulas, forward value, gradient arriving,
gradients sent, .grad, local Jacobian.

It describes the model's focus node: the ▶ node about to run (it follows every
step), or the node the user clicked until the next step. What a node received and
sent comes from its step of the pass being stepped; a leaf's ``.grad`` from the
step state (``gradstep.autograd.step_state``).
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtWidgets

from gradstep.autograd.step_state import GRAD_NOT_KNOWN, is_tensor_entry
from gradstep.drawing.style import as_printed, gradient_text
from gradstep.i18n import render
from gradstep.step_drawing import grad_dtype
from gradstep.ui.pass_names import no_steps_note, pass_note
from gradstep.ui.qt_formula_view import MIN_LINES, QtFormulaView
from gradstep.ui.qt_row_label import QtLinesLabel
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.qt_tensor_plot import QtTensorPlot
from gradstep.ui.refresh_when_seen import RefreshWhenSeen
from gradstep.ui.tensor_text import short, written_words
from gradstep.ui.words import tr

FORMULA_DELAY_MS = 60  # the formulas are drawn once stepping pauses this long
_MOVES = (QtCore.QEvent.Type.Move, QtCore.QEvent.Type.Resize, QtCore.QEvent.Type.Show)


def jacobian_words(jac: dict, saved: list[dict] | None = None) -> str:
    """Return why a node shows no Jacobian, in words (never a raw status like ``too_large:``).

    ``saved``: the node's saved tensor entries at the step shown. A ``freed`` Jacobian was
    asked for after the run, when torch had freed the buffers; at an earlier step they may
    be alive, and the words say which (never "freed" beside the saved tensors shown alive)."""
    reason = (render(jac.get("reason_words")) or jac.get("reason") or "").strip()
    words = {
        "freed": _freed_words(saved or []),
        "too_large": tr("Too large to show as a matrix ({0}).").format(reason) if reason
        else tr("Too large to show as a matrix."),
        "leaf": tr("A leaf has no local Jacobian: it only adds what arrives into .grad."),
        "unsupported": tr("Not available for this node ({0}).").format(reason) if reason
        else tr("Not available for this node."),
    }
    return words.get(jac.get("status"), reason or tr("Not available."))


def _freed_words(saved: list[dict]) -> str:
    """Say, for the step shown, why a node whose buffers torch freed has no Jacobian."""
    if any(e.get("freed") for e in saved):
        return tr("No Jacobian: torch freed this node's saved tensors in a backward pass "
                  "without retain_graph=True, and none was computed before.")
    if saved:
        return tr("No Jacobian: its saved tensors are alive at this step, but a backward pass "
                  "without retain_graph=True freed them later, and none was computed while "
                  "they were alive.")
    return tr("No Jacobian: by the end of the run torch had freed this node's saved tensors "
              "(a backward pass without retain_graph=True), and none was computed before.")


class QtValuesPanel(RefreshWhenSeen, QtWidgets.QScrollArea):
    """Describes the model's focus node (the ▶ node, or the one clicked)."""

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.node_id = ""
        self.header = QtLinesLabel(self.tr("Run a snippet, then step through backward."))
        self.header.setWordWrap(True)
        self.header.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.grad_change = QtLinesLabel()  # a leaf's .grad before -> after; an op's buffers
        self.grad_change.setWordWrap(True)
        self.grad_change.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        for row in (self.header, self.grad_change):  # (a row one line higher or lower)
            row.sigLinesChanged.connect(lambda _lines: self._fit_formula())
        self.formula = QtFormulaView()  # the local gradient as formulas, with its numbers
        # drawn once stepping pauses (as the node's details are asked for): while a person
        # holds → or plays, a step costs no rich-text layout
        self._formula_timer = QtCore.QTimer(self)
        self._formula_timer.setSingleShot(True)
        self._formula_timer.setInterval(FORMULA_DELAY_MS)
        self._formula_timer.timeout.connect(self._show_formulas)
        self.forward = QtTensorPlot("")
        self.arriving = QtTensorPlot("")
        self.slot_choice = QtWidgets.QComboBox()
        self.slot_choice.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.slot_choice.setMinimumContentsLength(28)
        self.slot_choice.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                       QtWidgets.QSizePolicy.Policy.Fixed)
        self.sent = QtTensorPlot("")
        self.jacobian = QtTensorPlot("")
        self.slot_label = QtWidgets.QLabel()
        self._retranslate()
        self._sent_values: list = []
        self._fitted: tuple = ()  # the Forward value's (title, slot) the height was shared for
        self._jacobian: dict | None = None
        body = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(body)
        layout.addWidget(self.header)
        layout.addWidget(self.grad_change)
        layout.addWidget(self.formula)
        layout.addWidget(self.forward)
        layout.addWidget(self.arriving)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.slot_label)
        row.addWidget(self.slot_choice, 1)
        layout.addLayout(row)
        layout.addWidget(self.sent)
        layout.addWidget(self.jacobian)
        layout.addStretch(1)
        self.setWidget(body)
        self.setWidgetResizable(True)
        # a plot out of view draws its value when it comes into view (QtTensorPlot): the
        # panel scrolled (the body moves) or grew (the viewport); a plot moved by the
        # layout sees that itself
        body.installEventFilter(self)
        self.viewport().installEventFilter(self)
        self.slot_choice.currentIndexChanged.connect(self._on_slot_change)
        model.sigStepChanged.connect(self.refresh)
        model.sigSelectionChanged.connect(self.refresh)
        model.sigTraceChanged.connect(self.formula.forget_heights)  # (a new graph's formulas)
        model.sigTraceChanged.connect(self.refresh)
        model.sigTimelineChanged.connect(self.refresh)
        model.sigInspected.connect(self._on_inspected)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _MOVES and (watched is self.widget() or watched is self.viewport()):
            if watched is self.viewport() and event.type() != QtCore.QEvent.Type.Move:
                self._fit_formula()
            for plot in (self.forward, self.arriving, self.sent, self.jacobian):
                plot.draw_when_seen()
        return super().eventFilter(watched, event)

    def _fit_formula(self) -> None:
        """Share the panel's height out: the formulas get what is left when the rows above
        them and the Forward value (its plot, number or statistics) are seen whole (14 lines
        at most, 4 at least), so a plot is not cut to a sliver at the panel's foot (after an
        error the Errors panel takes part of the column); where even 4 lines leave too
        little, the plot is drawn lower (``PLOT_MIN`` at least), so its statistics under it
        are not cut either. On a resize or zoom, and where the Forward value changes kind
        (a plot after a number): the panel is laid out again then anyway, never on a step
        that shows a value of the same kind."""
        layout = self.widget().layout()
        margins, spacing = layout.contentsMargins(), layout.spacing()
        above = margins.top() + self.header.height() + self.grad_change.height() + 3 * spacing
        around = self.forward.shown_height() - self.forward.slot_height()  # title, statistics
        self.forward.fit_plot_height(self.viewport().height() - above - around
                                     - self.formula.height_of(MIN_LINES))
        self.formula.fit_height(self.viewport().height() - above - self.forward.shown_height()
                                - margins.bottom())

    def _retranslate(self) -> None:
        """Set the fixed titles in the language now in use (``_redraw`` does the rest)."""
        self.forward.set_title(self.tr("Forward value"))
        self.arriving.set_title(self.tr("Gradient arriving (grad_output)"))
        self.sent.set_title(self.tr("Gradient sent (grad_input)"))
        self.jacobian.set_title(self.tr("Local Jacobian: d output[i] / d input[j]"))
        self.jacobian.set_axes((self.tr("j (input)"), self.tr("i (output)")))

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.FontChange and hasattr(self, "grad_change"):
            self._fit_formula()
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self._retranslate()
            self._stale = True
            self.refresh()
            if self._formula_timer.isActive():  # the delay is for bursts of steps: a new
                self._formula_timer.stop()  # language shows its formulas at once, not the
                self._show_formulas()  # old language's text for FORMULA_DELAY_MS
        super().changeEvent(event)

    def _redraw(self) -> None:
        """Describe the focus node (see RefreshWhenSeen)."""
        self.node_id = self.model.focus_node()
        attrs = self.model.node(self.node_id)
        # no graph (before a run, or a run that built none): the header's words alone, not
        # empty titled plots and formula box under a blank row
        self._show_parts(self.model.graph is not None)
        if not attrs:
            if self.model.graph is not None and (note := no_steps_note(self.model.timeline)):
                # (the step bar's note is past the toolbar's edge in a window 1280 wide)
                self.header.set_text(self.tr("Click a node. This pass shows {0}.").format(note))
            elif self.model.graph is not None and self.model.index() is not None and not self.model.step_count:
                # torch ran no node (autograd.grad(loss, [loss]), a root's hook raised): no step
                # to go to, as the caption says ("No step ran")
                self.header.set_text(self.tr("Click a node. No step ran in this pass."))
            elif self.model.graph is not None:
                self.header.set_text(self.tr("Click a node, or step through backward."))
            elif self.model.has_run:
                self.header.set_text(self.tr("The last run built no graph: see Errors and Output."))
            else:
                self.header.set_text(self.tr("Run a snippet, then step through backward."))
            self.grad_change.set_text("")
            for plot in (self.forward, self.arriving, self.sent, self.jacobian):
                plot.set_value(None)
            self._set_slots([], None)
            self._set_slot_label("")
            self._formula_timer.stop()
            self.formula.show_message(self.tr("The local gradient of the ▶ or clicked node "
                                              "shows here as a formula."))
            return
        step = self.model.step_of(self.node_id)
        state = self.model.node_state(self.node_id)
        self.header.set_text(*self._header(attrs, step, state))
        value = attrs.get("value")
        written = written_words(attrs)  # an optimizer step wrote the leaf after the pass
        own = (attrs.get("written_after") or {}).get("own")  # gradstep's pass wrote it: the
        # value shown is the forward's, from before that pass
        self.forward.set_title((self.tr("Forward value — {0}") if own else self.tr("Value now — {0}"))
                               .format(html.escape(written)) if written
                               else self.tr("Forward value"))
        if value:
            self.forward.set_value(value)
        else:
            self.forward.set_message(self.tr(
                "Not captured: gradstep shows only values it knows are torch's own "
                "(Run › Deep values records more)."))
        fit = (bool(written), self.forward.slot_height())
        if fit != self._fitted:  # a plot after a number, or a longer title: share again
            self._fit_formula()  # (which may draw the plot lower: the height it leaves)
            self._fitted = (fit[0], self.forward.slot_height())
        self._show_arriving(step, state)
        self._show_sent(step, state)
        self._show_grad_change(attrs, step, state)
        inspected = self.model.inspected
        self._jacobian = inspected.get("jacobian") if inspected.get("id") == self.node_id else None
        self._show_jacobian()
        self._formula_timer.start()

    def _show_parts(self, shown: bool) -> None:
        """Show or hide everything under the header (a plot's visibility changes only when
        it differs: a step lays nothing out again)."""
        for part in (self.grad_change, self.formula, self.forward, self.arriving,
                     self.slot_label, self.slot_choice, self.sent, self.jacobian):
            if part.isHidden() == shown:
                part.setVisible(shown)

    def _show_formulas(self) -> None:
        """Show the focus node's formulas at this step, with the numbers the kernel read."""
        from gradstep.autograd.formula_step import formulas_at, wired_slots

        inspected = self.model.inspected
        shown = formulas_at(self.model.node(self.node_id), self.model.saved_of(self.node_id),
                            inspected=inspected if inspected.get("id") == self.node_id else None,
                            step=self.model.step_of(self.node_id), targets=self._slot_targets(),
                            dtypes=self._slot_dtypes(),
                            wired=wired_slots(self.model.graph, self.node_id))
        self.formula.show_formulas(shown, self.model.node_state(self.node_id) == "current")

    def _header(self, attrs: dict, step: dict | None, state: str) -> tuple[str, str]:
        """Return the header's rich text and its words (measured for its height)."""
        name, label = str(attrs.get("name") or ""), str(attrs.get("label") or "")
        where = (self.tr(" on {0}").format(attrs.get("device"))
                 if attrs.get("device") not in (None, "cpu") else "")
        if step is not None:
            number = step["index"] + 1 if "index" in step else self.model.step + 1
            why = {"current": self.tr("▶ runs at step {0}"),
                   "error": self.tr("✗ raised at step {0}")}.get(
                state, self.tr("ran at step {0}")).format(number)
        elif self.model.timeline is None:
            why = self.tr("no backward pass yet")
        elif self.model.built_later(self.node_id):
            built_at = self.model.built_at(self.node_id)
            why = (self.tr("not built yet — step {0} of this pass builds it").format(built_at)
                   if built_at is not None else self.tr("not built yet when this pass ran"))
        elif (later := self._runs_later()) is not None:  # (not "not run in this pass": it runs)
            why = self.tr("not run yet — runs at step {0}").format(later + 1)
        elif self.model.timeline.get("no_steps"):  # torch ran it or not: not shown, and why
            # (the step bar's note may be out of sight, past the toolbar's edge)
            why = pass_note(self.model.timeline) or self.tr("this pass's steps are not shown")
        else:
            why = self.tr("not run in this pass")
        if self.model.selected:
            why = self.tr("selected — {0}").format(why)
        tail = f"{where} — {why}"
        return (f"<b>{html.escape(name)}</b> ({self.node_id}) {html.escape(label)}{tail}",
                f"{name} ({self.node_id}) {label}{tail}")

    def _runs_later(self) -> int | None:
        """Return the index of the step of this pass that runs the node after the one shown."""
        index = self.model.index()
        return index.runs_from(self.node_id, self.model.step + 1) if index else None

    def _show_arriving(self, step: dict | None, state: str) -> None:
        outs = (step or {}).get("grad_outputs") or []
        if outs and outs[0] is not None:
            # the gradient of this node's output: its dtype (complex: not plotted as numbers)
            self.arriving.set_value(outs[0], dtype=self.model.node(self.node_id).get("dtype"))
        else:
            self.arriving.set_message(self.tr("No gradient has reached this node in this pass."))

    def _show_sent(self, step: dict | None, state: str) -> None:
        self._set_slot_label(state)
        if step is None:
            self.sent.set_title(self.tr("Gradient sent (grad_input)"))
            self._set_slots([], self.tr("Nothing sent in this pass."))
            return
        if state == "error":
            self.sent.set_title(self.tr("Gradient sent (grad_input)"))
            self._set_slots([], self.tr("torch raised here: nothing was sent."))
            return
        title = (self.tr("Gradient it sends when it runs (grad_input)") if state == "current"
                 else self.tr("Gradient sent (grad_input)"))
        self.sent.set_title(title)
        self._set_slots(step.get("grad_inputs") or [], self.tr("It sends nothing on (a leaf)."))

    def _set_slot_label(self, state: str) -> None:
        """Word the slot list's label in the tense of the node's state: the ▶ node has not
        run, so torch has sent nothing along its slots yet."""
        words = (self.tr("Sends along slot:"), self.tr("Sent along slot:"))
        self.slot_label.setText(words[0] if state == "current" else words[1])
        metrics = self.slot_label.fontMetrics()  # as wide as the wider wording: a step from
        width = max(metrics.horizontalAdvance(w) for w in words)  # ▶ on does not move the row
        if self.slot_label.minimumWidth() != width:
            self.slot_label.setMinimumWidth(width)

    def _show_grad_change(self, attrs: dict, step: dict | None, state: str) -> None:
        """For a leaf: its .grad before and after this step, or why autograd.grad left it."""
        if attrs.get("kind") != "leaf" or self.model.timeline is None:
            self.grad_change.set_text(self._saved_words())
            return
        label = str(attrs.get("label") or self.node_id)
        grad_now = self.model.leaf_grad(label)
        dtype = attrs.get("dtype")  # a leaf's .grad has its dtype (complex: written a+bj)
        if step is not None and "grad_after" in step:
            before = short(step.get("grad_before"), dtype=dtype)
            after = short(step.get("grad_after"), dtype=dtype)
            text = (self.tr("{0}.grad: {1} → {2} when this step runs") if state == "current"
                    else self.tr("{0}.grad: {1} → {2}")).format(label, before, after)
        elif grad_now is GRAD_NOT_KNOWN:  # (also in grad mode: a hook wrote it)
            text = self.tr("{0}.grad at this step: not known (the snippet's code changed it "
                           "during the pass)").format(label)
        elif self.model.timeline.get("mode") == "grad":
            text = self.tr("autograd.grad does not write .grad: {0}.grad is {1}; "
                           "what the call returned is in Leaf gradients."
                           ).format(label, short(grad_now, dtype=dtype))
        else:
            text = self.tr("{0}.grad now: {1}").format(label, short(grad_now, dtype=dtype))
        self.grad_change.set_text(text)

    def _saved_words(self) -> str:
        """Return an op's saved tensors at this step, in a line (the Saved panel has more)."""
        tensors = [e for e in self.model.saved_of(self.node_id) if is_tensor_entry(e)]
        if not tensors:
            return self.tr("Saves no tensor for backward.") if self.model.graph is not None else ""
        refused = ("changed_in_place", "detached_in_place", "changed_during")
        alive = [str(e.get("name")) for e in tensors
                 if not e.get("freed") and not any(e.get(key) for key in refused)]
        changed = [str(e.get("name")) for e in tensors
                   if not e.get("freed") and e.get("changed_in_place")]
        detached = [str(e.get("name")) for e in tensors
                    if not e.get("freed") and e.get("detached_in_place")]
        during = [str(e.get("name")) for e in tensors
                  if not e.get("freed") and e.get("changed_during")]
        freed = [str(e.get("name")) for e in tensors if e.get("freed")]
        parts = ([self.tr("alive: {0}").format(", ".join(alive))] if alive else []) + (
            [self.tr("changed in place: {0}").format(", ".join(changed))] if changed else []) + (
            [self.tr("detached in place: {0}").format(", ".join(detached))] if detached else []) + (
            [self.tr("changed in this pass (a hook or a custom Function's backward), "
                     "maybe later: {0}").format(", ".join(during))]
            if during else []) + (
            [self.tr("freed: {0}").format(", ".join(freed))] if freed else [])
        return self.tr("Saved tensors now — {0}").format("; ".join(parts))

    def _set_slots(self, grads: list, empty: str | None) -> None:
        self._sent_values = list(grads)
        self._empty_sent = empty or ""
        self.slot_choice.blockSignals(True)
        self.slot_choice.clear()
        targets = self._slot_targets()
        dtypes = self._slot_dtypes()
        for i, grad in enumerate(grads):
            to = targets.get(i, self.tr("no node"))
            if grad is None:
                what = self.tr("nothing flows")
            elif isinstance(grad, dict):  # a big tensor: its shape (the plot has the rest)
                what = "×".join(str(d) for d in grad.get("shape") or []) or self.tr("scalar")
            else:
                # as the edge (and the formula) write it: one gradient, one text
                what = (gradient_text(grad, dtype=dtypes.get(i))
                        or short(grad, 24, dtypes.get(i), words_of=as_printed))
            self.slot_choice.addItem(f"{i} → {to}: {what}")
        self.slot_choice.setEnabled(bool(grads))
        first = next((i for i, g in enumerate(grads) if g is not None), 0 if grads else -1)
        self.slot_choice.setCurrentIndex(first)
        self.slot_choice.blockSignals(False)
        self._on_slot_change(first)

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

    def _slot_dtypes(self) -> dict[int, str | None]:
        """Return {slot: the dtype of the gradient sent through it} (``grad_dtype``: the
        target's output's it reaches, torch casts a gradient to it; complex: written a+bj)."""
        graph = self.model.graph
        if graph is None or self.node_id not in graph:
            return {}
        return {data.get("slot", key): grad_dtype(graph, (self.node_id, target, key))
                for _, target, key, data in graph.out_edges(self.node_id, keys=True, data=True)}

    def _on_slot_change(self, index: int) -> None:
        if 0 <= index < len(self._sent_values) and self._sent_values[index] is not None:
            self.sent.set_value(self._sent_values[index], dtype=self._slot_dtypes().get(index))
        elif 0 <= index < len(self._sent_values):
            self.sent.set_message(self.tr("No gradient flows through slot {0}.").format(index))
        else:
            self.sent.set_message(getattr(self, "_empty_sent", ""))
        self._show_jacobian()

    def _on_inspected(self, details: dict) -> None:
        if self._stale:
            return  # set_seen redraws from the model, which holds these details
        if details.get("id") == self.node_id:
            self._jacobian = details.get("jacobian")
            self._show_jacobian()
            self._formula_timer.stop()
            self._show_formulas()

    def _show_jacobian(self) -> None:
        """Draw the Jacobian block of the chosen slot (first output), or say why there is none."""
        jac = self._jacobian
        if not jac:
            self.jacobian.set_message(self.tr("Computing the local Jacobian…") if self.node_id
                                      else "")
            return
        if jac.get("status") != "ok":
            saved = [e for e in self.model.saved_of(self.node_id) if is_tensor_entry(e)]
            self.jacobian.set_message(jacobian_words(jac, saved))
            return
        slot = max(0, self.slot_choice.currentIndex())
        blocks = [b for b in jac.get("blocks") or [] if b.get("slot") == slot]
        block = blocks[0] if blocks else None
        if block is None or block.get("matrix") is None:
            self.jacobian.set_message(self.tr("No gradient flows through slot {0}.").format(slot))
            return
        rows, cols = block["shape"]
        matrix = block["matrix"]
        if rows * cols == 1:
            self.jacobian.set_value({"shape": [], "data": matrix[0][0]})
        else:
            self.jacobian.set_value({"shape": [rows, cols], "data": matrix})
