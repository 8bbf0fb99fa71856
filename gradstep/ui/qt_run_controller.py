"""Running the snippet from the window: requests to the session and what the answers do.

The window's run and step controls call this; it sends requests through ``QtRunner``
(off the GUI thread) and hands every answer to the model, then tells the person what
happened (status bar, the failing line, the Errors panel). Views observe the model.
"""

from __future__ import annotations

from PySide6 import QtCore

from gradstep.policies.gc_pause import settle_intake, without_gc
from gradstep.schema.timeline import pass_ran
from gradstep.ui.error_words import for_window, no_graph_text
from gradstep.ui.pass_names import no_steps_note, pass_note, steps_word

INSPECT_DELAY_MS = 120  # the ▶ node's details are asked for once stepping pauses this long


class QtRunController(QtCore.QObject):
    """Runs, backward passes, zero grads and node details for ``window`` (a QtMainWindow)."""

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self._inspect_timer = QtCore.QTimer(self)
        self._inspect_timer.setSingleShot(True)
        self._inspect_timer.setInterval(INSPECT_DELAY_MS)
        self._inspect_timer.timeout.connect(self.inspect_focus)
        self._no_graph: dict | None = None  # the last run's result when it drew no graph
        self._not_run = False  # a snippet was opened after the last run: none is shown
        self._stale = False  # a snippet was opened while requests of the last text's ran
        window.runner.sigResult.connect(self.on_result)
        window.runner.sigBusyChanged.connect(self.on_busy)
        window.model.sigSelectionChanged.connect(self.on_selection)
        window.model.sigStepChanged.connect(lambda _k: self._inspect_timer.start())
        window.model.sigTimelineChanged.connect(self.on_pass_changed)
        window.device_selector.sigDeviceChanged.connect(self.on_device)
        window.root_picker.sigRootChosen.connect(lambda _name: self.run())
        window.step_bar.sigBackwardAgain.connect(self.backward)
        window.step_bar.sigZeroGrads.connect(self.zero_grads)
        window.step_bar.sigOptionsChanged.connect(self.on_options)

    def run(self) -> None:
        """Send the editor's text to the session; the answer arrives in ``on_result``."""
        source = self.w.editor.toPlainText()
        self.w.editor.set_error(None)
        device = self.w.device_selector.device()
        self.w.say(lambda: self.tr("Running on {0}…").format(device))
        options = {"source": source, "device": device, "filename": self.w.filename or "<snippet>"}
        if self.w.root_picker.chosen():
            options["root"] = self.w.root_picker.chosen()
        if self.w.act_deep.isChecked():
            options["deep_values"] = True
        self.w.runner.request("run", **options)

    def backward(self) -> None:
        """Run one more backward pass from the root with the step bar's options."""
        if self.w.model.trace is None:
            self.w.say(lambda: self.tr("Run a snippet that builds a graph first."))
            return
        # a non-scalar root needs a starting gradient; ones_like(root) is what sum() gives
        gradient = None if self.w.model.root_is_scalar() else "ones"
        if gradient:
            self.w.say(lambda: self.tr(
                "The root is not a scalar: backward starts from ones_like(root)."))
        self.w.runner.request("backward", mode=self.w.step_bar.backward_mode(),
                            retain_graph=self.w.step_bar.retain_graph(), gradient=gradient)

    def zero_grads(self) -> None:
        """Set every leaf's .grad to None in the session."""
        if self.w.model.trace is None:
            self.w.say(lambda: self.tr(
                "No graph, so no leaf .grad to set to None: run a snippet that builds a graph first."))
            return
        self.w.runner.request("zero_grad")

    def stop(self) -> None:
        if not self.w.runner.stop():
            self.w.say(lambda: self.tr("This session cannot be stopped; wait for it to finish."))

    def on_result(self, method: str, result) -> None:
        if self._stale:  # the text it ran is gone from the editor: not shown beside this one
            return
        handler = {"run": self.on_run, "backward": self.on_backward,
                   "inspect": self.on_inspect, "zero_grad": self.on_zero}.get(method)
        if handler is not None:
            handler(result if isinstance(result, dict) else {})

    @without_gc  # one pause for all of it: resumed between the model and the scene, the
    # collector would walk all the model made (~1 s for 100,000 nodes) before the scene
    def on_run(self, result: dict) -> None:
        self._not_run = False
        self.w.model.set_run_result(result)
        self._no_graph = None if self.w.model.graph is not None else result
        if self.w.model.graph is not None:
            self.w.graph_view.set_graph(self.w.model.graph)
            self.w.follower.redraw()
            self.w.node_count.setText(self.tr("{0} nodes ").format(self.w.model.graph.number_of_nodes()))
            if result.get("ok") and not self.w.model.passes and not self._calls_elsewhere():
                self.backward()  # the snippet ran no backward of its own: make the pass to step
        else:
            self.w.graph_view.show_message(no_graph_text(result))
            self.w.node_count.setText("")
        self.show_error(result.get("error"))
        timeline = self.w.model.timeline
        if result.get("ok") and no_steps_note(timeline):
            self.w.say(lambda: self.tr("Ran; this pass shows {0}.").format(no_steps_note(timeline)))
        elif result.get("ok") and self.w.model.graph is not None and self._calls_elsewhere():
            self.w.say(lambda: self.tr(
                "Ran. The snippet's backward calls ran on graphs other than the one drawn "
                "(listed with the passes); Backward again (Alt+B) runs a pass of gradstep's own."))
        elif result.get("ok") and self.w.model.index() is not None and not self.w.model.step_count:
            self.w.say(lambda: self.tr("Ran; no step ran in this pass."))
        elif result.get("ok"):
            self.w.say(lambda: self.tr("Ran. Step through backward with Alt+Right."))
        settle_intake(self._nodes(), new_run=True)
        self.w.sigRunFinished.emit(result)

    def _calls_elsewhere(self) -> bool:
        """Return True where the snippet's recorded backward calls all ran on graphs other
        than the one drawn by default (a loss local to a function, beside a top-level
        ``h = x.exp()``): gradstep then starts no pass of its own (one from a root the snippet
        never called backward on); with a root chosen in the root box it does, as asked."""
        model = self.w.model
        return bool(not model.passes and model.other_calls and not self.w.root_picker.chosen())

    def forget_run(self) -> None:
        """Another snippet was opened (not run): the last run's graph, steps and panels go,
        and the graph area says this text has not run."""
        self._no_graph, self._not_run = None, True
        self._stale = self.w.runner.busy  # what is in flight answers for the last text
        self.w.model.forget_run()
        self.w.graph_view.show_message(self.tr("Not run yet: press Ctrl+Enter to run it."))
        self.w.node_count.setText("")

    def _nodes(self) -> int:
        graph = self.w.model.graph
        return 0 if graph is None else graph.number_of_nodes()

    def retranslate(self) -> None:
        """Word again what this controller wrote: the node count, the graph area's message
        when the run drew no graph, the error after the failing line."""
        if self.w.model.graph is not None:
            self.w.node_count.setText(self.tr("{0} nodes ").format(self.w.model.graph.number_of_nodes()))
        elif self._no_graph is not None:
            self.w.graph_view.show_message(no_graph_text(self._no_graph))
        elif self._not_run:
            self.w.graph_view.show_message(self.tr("Not run yet: press Ctrl+Enter to run it."))
        err = for_window(self.w.model.error) if self.w.model.error else None
        if err and self.w.editor.error_line == err.get("line"):
            self.w.editor.set_error(err.get("line"), err.get("short") or "", err.get("column"))

    @without_gc  # as on_run: what the pass made is frozen (settle_intake), not walked
    def on_backward(self, timeline: dict) -> None:
        if not pass_ran(timeline):  # the request failed before a pass ran: nothing to step
            self.w.model.error = timeline.get("error")
            self.show_error(self.w.model.error)
            self.w.sigBackwardFinished.emit(timeline)
            return
        self.w.model.add_timeline(timeline)
        if timeline.get("written_during"):  # a leaf's box gains its written pill
            self.w.graph_view.set_graph(self.w.model.graph)
            self.w.follower.redraw()
        settle_intake(self._nodes(), new_run=False)
        self.show_error(timeline.get("error"))
        n = len(self.w.model.passes)

        def words() -> str:
            message = self.tr("Pass {0}: {1}").format(n, steps_word(len(timeline["steps"])))
            if timeline.get("error"):
                return message + self.tr(" — failed, see Errors")
            return message + (" — " + pass_note(timeline) if pass_note(timeline) else "")

        self.w.say(words)
        self.w.sigBackwardFinished.emit(timeline)

    def on_inspect(self, details: dict) -> None:
        details = dict(details)
        details.setdefault("id", self.w.model.focus_node())
        self.w.model.set_inspected(details)

    def on_zero(self, result: dict) -> None:
        if isinstance(result, dict) and result.get("error"):
            self.show_error(result["error"])
        else:
            self.w.model.add_zero_grads()
            self.w.say(lambda: self.tr("Every leaf's .grad is now None."))

    def show_error(self, err: dict | None) -> None:
        if not err:
            return
        raw, err = err, for_window(err)
        self.w.editor.set_error(err.get("line"), err.get("short") or "", err.get("column"))
        self.w.docks["errors"].raise_()
        # room for torch's message, the why and the fix, as its text is laid out (ERROR_ROOM
        # at most at 1280 x 800: the Values panel keeps its Forward value's plot whole)
        QtCore.QTimer.singleShot(0, self.w, self.w.fit_error_text)
        self.w.say(lambda: self.tr("Error: {0}").format(
            (for_window(raw) or {}).get("title") or err.get("message", ""))[:160])

    def on_busy(self, busy: bool) -> None:
        if not busy:
            self._stale = False  # the last text's requests have all answered
        self.w.model.set_busy(busy)
        self.w.busy_bar.setVisible(busy)
        self.w.stop_button.setVisible(busy)
        self.w.act_run.setEnabled(not busy)

    def on_device(self, device: str) -> None:
        self.w.model.device = device
        if self.w.editor.toPlainText().strip():
            self.run()

    def on_deep_values(self) -> None:
        if self.w.model.trace is not None and not self.w.runner.busy:
            self.run()

    def on_options(self) -> None:
        """The mode and retain_graph of the step bar are for the passes gradstep runs."""
        if self.w.model.trace is None or self.w.runner.busy:
            return
        if self.w.model.snippet_made_passes():  # its own calls keep what its code says
            self.w.say(lambda: self.tr(
                "These options apply to Backward again (Alt+B); the snippet's own calls "
                "keep what its code says."))
            return
        self.run()  # gradstep made the pass: make it again with the new options

    def on_pass_changed(self) -> None:
        record = self.w.model.current_pass()
        self.w.editor.set_pass_line(record.line if record is not None else None)

    def on_selection(self, node_id: str) -> None:
        if node_id:
            self.w.runner.request("inspect", node_id=node_id)

    def inspect_focus(self) -> None:
        """Ask for the ▶ node's details (its Jacobian) once stepping pauses."""
        node = self.w.model.focus_node()
        if not node or self.w.model.graph is None or node not in self.w.model.graph:
            return
        if self.w.runner.busy:
            self._inspect_timer.start()  # ask again once the session is free
        elif self.w.model.inspected.get("id") != node:
            self.w.runner.request("inspect", node_id=node)
