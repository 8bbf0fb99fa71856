"""The main window: editor left, graph centre, panels right, step toolbar on top."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.ui.models import SessionModel
from app.ui.qt_autosave import QtAutosave, state_dir
from app.ui.qt_device_selector import QtDeviceSelector
from app.ui.qt_diagnose_panel import install_diagnose
from app.ui.qt_editor import QtEditor
from app.ui.qt_errors_panel import QtErrorsPanel
from app.ui.qt_graph_view import QtGraphView
from app.ui.qt_icons import app_icon, glyph_icon
from app.ui.qt_leaf_panel import QtLeafPanel
from app.ui.qt_output_panel import QtOutputPanel
from app.ui.qt_runner import QtRunner, make_backend
from app.ui.qt_saved_panel import QtSavedPanel
from app.ui.qt_settings import migrate_old_settings, settings
from app.ui.qt_step_bar import QtStepBar
from app.ui.qt_values_panel import QtValuesPanel
from app.ui.summaries import edge_label

MAX_RECENT = 8
LABEL_WINDOW = 40  # gradients of the last this many steps are written on the edges
EXPORT_FILTER = ("PNG image (*.png);;SVG image (*.svg);;PDF (*.pdf);;"
                 "Graphviz DOT (*.dot);;GraphML (*.graphml);;JSON (*.json)")


class QtMainWindow(QtWidgets.QMainWindow):
    """The gradstep window.

    Signals
    -------
    sigRunFinished(dict)        a run's result arrived and is shown
    sigBackwardFinished(dict)   a backward pass's timeline arrived and is shown
    """

    sigRunFinished = QtCore.Signal(object)  # object: a dict through QVariantMap mangles ints
    sigBackwardFinished = QtCore.Signal(object)

    def __init__(self, backend_factory=make_backend, parent=None):
        super().__init__(parent)
        self.setWindowTitle("gradstep")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        migrate_old_settings()
        self.filename = ""
        self.model = SessionModel(self)
        self.runner = QtRunner(backend_factory, self)
        self.autosave = QtAutosave(state_dir() / "autosave.json", self)
        self._labelled = (0, 0)  # the steps whose gradients are written on edges
        self._states_shown = None  # the timeline whose states the graph view shows
        self._build_widgets()
        # the graph view hears of a step before the side panels: the other way round a step
        # paints the 10,000-node view twice, not once (bench/bench_ui.py)
        self.model.sigStepChanged.connect(self._on_step)
        self._build_docks()
        self._build_menus()
        self._build_status()
        self._connect()
        self._restore_settings()
        self.diagnose_view = install_diagnose(self)  # Diagnose menu, dock, NaN banner, marks
        self._restore_text()

    # -- construction ----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.editor = QtEditor()
        self.graph_view = QtGraphView()
        self.step_bar = QtStepBar(self.model, self)
        self.run_bar = QtWidgets.QToolBar("Run", self)
        self.run_bar.setObjectName("run_toolbar")
        self.act_run = QtGui.QAction(glyph_icon("play", self.palette()), "Run", self)
        self.act_run.setShortcuts([QtGui.QKeySequence("Ctrl+Return"), QtGui.QKeySequence("F5")])
        self.act_run.setToolTip("Run the snippet (Ctrl+Enter)")
        self.run_bar.addAction(self.act_run)
        self.run_bar.widgetForAction(self.act_run).setToolButtonStyle(
            QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.device_selector = QtDeviceSelector()
        self.run_bar.addWidget(self.device_selector)
        self.run_bar.addSeparator()
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Find node (name or label)")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(170)
        self.run_bar.addWidget(self.search)
        self.addToolBar(self.run_bar)
        self.addToolBarBreak()  # the step controls get a row of their own: nothing overflows
        self.addToolBar(self.step_bar)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.setObjectName("main_splitter")
        split.addWidget(self.editor)
        split.addWidget(self.graph_view)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([400, 520])
        self.splitter = split
        self.setCentralWidget(split)

    def _dock(self, title: str, widget: QtWidgets.QWidget, name: str) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_docks(self) -> None:
        self.values_panel = QtValuesPanel(self.model)
        self.saved_panel = QtSavedPanel(self.model)
        self.errors_panel = QtErrorsPanel(self.model)
        self.leaf_panel = QtLeafPanel(self.model)
        self.output_panel = QtOutputPanel(self.model)
        self.docks = {
            "values": self._dock("Values", self.values_panel, "dock_values"),
            "saved": self._dock("Saved tensors && retain_graph", self.saved_panel, "dock_saved"),
            "errors": self._dock("Errors", self.errors_panel, "dock_errors"),
            "leaves": self._dock("Leaf gradients", self.leaf_panel, "dock_leaves"),
            "output": self._dock("Output", self.output_panel, "dock_output"),
        }
        self.splitDockWidget(self.docks["values"], self.docks["errors"], QtCore.Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.docks["values"], self.docks["saved"])
        self.tabifyDockWidget(self.docks["saved"], self.docks["leaves"])
        self.tabifyDockWidget(self.docks["errors"], self.docks["output"])
        self.docks["values"].raise_()
        self.docks["errors"].raise_()
        for name, panel in (("values", self.values_panel), ("saved", self.saved_panel)):
            # a panel whose tab is behind another skips each step's work until shown
            self.docks[name].visibilityChanged.connect(panel.set_seen)
        self.resizeDocks([self.docks["values"]], [420], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["values"], self.docks["errors"]], [520, 200],
                         QtCore.Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        keys = QtGui.QKeySequence.StandardKey  # the platform's own keys where one exists
        self.act_open = self._add(file_menu, "&Open…", keys.Open, self.open_dialog)
        self.act_save = self._add(file_menu, "&Save", keys.Save, self.save)
        self.act_save_as = self._add(file_menu, "Save &As…", keys.SaveAs, self.save_as)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        self._add(file_menu, "&Export graph…", "Ctrl+E", self.export_dialog)
        # Copy copies the picture when the graph has the focus; the editor keeps Copy for its text
        self.act_copy_image = self._add(file_menu, "&Copy image", keys.Copy, self.copy_image)
        self.act_copy_image.setShortcuts(self.act_copy_image.shortcuts()
                                         + [QtGui.QKeySequence("Ctrl+Shift+C")])
        file_menu.addSeparator()
        self.act_quit = self._add(file_menu, "&Quit", (keys.Quit, "Ctrl+Q"), self.close)
        self.examples_menu = bar.addMenu("E&xamples")
        self._fill_examples()
        run_menu = bar.addMenu("&Run")
        run_menu.addAction(self.act_run)
        self.act_stop = self._add(run_menu, "S&top", "Ctrl+.", self.stop)
        run_menu.addSeparator()
        for act in (self.step_bar.act_forward, self.step_bar.act_back, self.step_bar.act_end,
                    self.step_bar.act_reset, self.step_bar.act_play, self.step_bar.act_again,
                    self.step_bar.act_zero):
            run_menu.addAction(act)
        view = bar.addMenu("&View")
        self._add(view, "&Fit graph to window", "Ctrl+0", self.graph_view.fit_to_window)
        self.act_zoom_in = self._add(view, "Zoom &in", keys.ZoomIn, lambda: self.graph_view.zoom(1.25))
        self.act_zoom_out = self._add(view, "Zoom &out", keys.ZoomOut,
                                      lambda: self.graph_view.zoom(0.8))
        self.act_find = self._add(view, "F&ind node", keys.Find, self.search.setFocus)
        self.act_lr = self._add(view, "Left to &right layout", "", self._toggle_rankdir)
        self.act_lr.setCheckable(True)
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        self.act_about = self._add(help_menu, "&About gradstep", "", self.show_about)
        self._refresh_recent()

    def _add(self, menu, text, shortcut, slot) -> QtGui.QAction:
        """Add an action. ``shortcut``: a StandardKey, (StandardKey, text used where the
        platform binds no key to it), or text like "Ctrl+E" ("" for none)."""
        action = menu.addAction(text)
        standard, fallback = shortcut if isinstance(shortcut, tuple) else (shortcut, "")
        if isinstance(standard, QtGui.QKeySequence.StandardKey):
            action.setShortcuts(QtGui.QKeySequence.keyBindings(standard)
                                or [QtGui.QKeySequence(fallback)])
        elif shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_status(self) -> None:
        status = self.statusBar()
        self.busy_bar = QtWidgets.QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: we cannot know how long a snippet runs
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setVisible(False)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setToolTip("Stop the running snippet (Ctrl+.)")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop)
        self.node_count = QtWidgets.QLabel()
        status.addPermanentWidget(self.node_count)
        status.addPermanentWidget(self.busy_bar)
        status.addPermanentWidget(self.stop_button)
        status.showMessage("Type a snippet and press Ctrl+Enter.")

    def _connect(self) -> None:
        self.act_run.triggered.connect(self.run)
        self.editor.sigRunRequested.connect(self.run)
        self.editor.sigFileDropped.connect(self.open_file)
        self.editor.textChanged.connect(self._on_text_changed)
        self.runner.sigResult.connect(self._on_result)
        self.runner.sigBusyChanged.connect(self._on_busy)
        self.model.sigTimelineChanged.connect(self._reset_labels)
        self.model.sigSelectionChanged.connect(self._on_selection)
        self.graph_view.sigNodeClicked.connect(self.model.select)
        self.graph_view.sigNodeDoubleClicked.connect(self._on_double_click)
        self.errors_panel.sigJumpToLine.connect(self.editor.go_to_line)
        self.device_selector.sigDeviceChanged.connect(self._on_device)
        self.step_bar.sigBackwardAgain.connect(self.backward)
        self.step_bar.sigZeroGrads.connect(self.zero_grads)
        self.step_bar.sigOptionsChanged.connect(self._on_options)
        self.search.returnPressed.connect(self.find_node)

    # -- running -------------------------------------------------------------------------------
    def run(self) -> None:
        """Send the editor's text to the session; the answer arrives in ``_on_result``."""
        source = self.editor.toPlainText()
        self.editor.set_error(None)
        self.statusBar().showMessage(f"Running on {self.device_selector.device()}…")
        self.runner.request("run", source=source, device=self.device_selector.device(),
                            filename=self.filename or "<snippet>")

    def backward(self) -> None:
        """Run one more backward pass from the root with the toolbar's options."""
        if self.model.trace is None:
            self.statusBar().showMessage("Run a snippet first.")
            return
        # a non-scalar root needs a starting gradient; ones_like(root) is what sum() gives
        gradient = None if self.model.root_is_scalar() else "ones"
        if gradient:
            self.statusBar().showMessage("The root is not a scalar: backward starts from ones_like(root).")
        self.runner.request("backward", mode=self.step_bar.backward_mode(),
                            retain_graph=self.step_bar.retain_graph(), gradient=gradient)

    def zero_grads(self) -> None:
        """Set every leaf's .grad to None in the session (needs the session's zero_grad)."""
        self.runner.request("zero_grad")

    def stop(self) -> None:
        if not self.runner.stop():
            self.statusBar().showMessage("This session cannot be stopped; wait for it to finish.")

    def _on_result(self, method: str, result) -> None:
        handler = {"run": self._on_run, "backward": self._on_backward,
                   "inspect": self._on_inspect, "zero_grad": self._on_zero}.get(method)
        if handler is not None:
            handler(result if isinstance(result, dict) else {})

    def _on_run(self, result: dict) -> None:
        had_graph = self.model.graph
        self.model.set_run_result(result)
        if result.get("ok") and self.model.graph is not None:
            self._draw_graph()
            self.node_count.setText(f"{self.model.graph.number_of_nodes()} nodes ")
            if self.model.timeline is None:
                self.backward()  # the snippet ran no backward of its own: make the pass to step
        elif had_graph is not None:
            self.statusBar().showMessage("The run failed; the last good graph is still shown.")
        else:
            self.graph_view.show_message("No graph yet: the run stopped before building one.")
        self._show_error(result.get("error"))
        if result.get("ok"):
            self.statusBar().showMessage("Ran. Step through backward with Alt+Right.")
        self.sigRunFinished.emit(result)

    def _on_backward(self, timeline: dict) -> None:
        if "steps" not in timeline:  # the backend failed before making a timeline
            self.model.error = timeline.get("error")
            self._show_error(self.model.error)
            self.sigBackwardFinished.emit(timeline)
            return
        self.model.add_timeline(timeline)
        self._show_error(timeline.get("error"))
        n = len(self.model.timelines)
        self.statusBar().showMessage(
            f"Pass {n}: {len(timeline['steps'])} steps"
            + (" — failed, see Errors" if timeline.get("error") else ""))
        self.sigBackwardFinished.emit(timeline)

    def _reset_labels(self) -> None:
        self.graph_view.clear_edge_labels()
        self._labelled = (0, 0)

    def _on_inspect(self, details: dict) -> None:
        details = dict(details)
        details.setdefault("id", self.model.focus_node())
        self.model.set_inspected(details)

    def _on_zero(self, result: dict) -> None:
        if isinstance(result, dict) and result.get("error"):
            self._show_error(result["error"])
        else:
            self.statusBar().showMessage("Leaf gradients set to None.")

    def _show_error(self, err: dict | None) -> None:
        if not err:
            return
        self.editor.set_error(err.get("line"), f"{err.get('type', '')}: {err.get('message', '')}")
        self.docks["errors"].raise_()
        if self.docks["errors"].height() < 300:  # room for torch's message, the why and the fix
            self.resizeDocks([self.docks["values"], self.docks["errors"]], [340, 360],
                             QtCore.Qt.Orientation.Vertical)
        self.statusBar().showMessage(f"Error: {err.get('title') or err.get('message', '')}"[:160])

    def _on_busy(self, busy: bool) -> None:
        self.model.set_busy(busy)
        self.busy_bar.setVisible(busy)
        self.stop_button.setVisible(busy)
        self.act_run.setEnabled(not busy)

    def _on_device(self, device: str) -> None:
        self.model.device = device
        if self.editor.toPlainText().strip():
            self.run()

    def _on_options(self) -> None:
        # mode and retain_graph change what the pass does: start from a fresh run
        if self.model.trace is not None and not self.runner.busy:
            self.run()

    # -- stepping ------------------------------------------------------------------------------
    def _on_step(self, k: int) -> None:
        if self._states_shown is self.model.timeline:
            self.graph_view.update_node_states(self.model.states_changed(self.model.previous_step))
        else:  # a new timeline: every node's state at once
            self.graph_view.set_node_states(self.model.states())
            self._states_shown = self.model.timeline
        self._update_edge_labels(k)
        step = self.model.timeline["steps"][k] if self.model.timeline and k < self.model.step_count else None
        if step is not None:
            self.graph_view.follow(step["node"])

    def _labels_of_step(self, index: int) -> dict:
        """Return {(u, v, key): text} for the gradients step ``index`` sent (small ones only)."""
        graph, step = self.model.graph, self.model.timeline["steps"][index]
        node = step.get("node")
        if node not in graph:
            return {}
        grads = step.get("grad_inputs") or []
        labels = {}
        for _, target, key, data in graph.out_edges(node, keys=True, data=True):
            slot = data.get("slot", key)
            text = edge_label(grads[slot]) if slot < len(grads) else ""
            if text:
                labels[(node, target, key)] = text
        return labels

    def _update_edge_labels(self, k: int) -> None:
        """Write the gradients sent by the last LABEL_WINDOW steps before ``k`` on their edges.

        Only steps entering or leaving that window are looked at, so one step costs the
        same on a 10,000-node graph as on a small one (and a long pass does not bury the
        drawing under thousands of numbers).
        """
        if self.model.graph is None or not self.model.timeline:
            self._labelled = (0, 0)
            return
        old = set(range(*self._labelled))
        new = set(range(max(0, k - LABEL_WINDOW), k))
        changed: dict = {}
        for i in sorted(old - new):
            for edge in self._labels_of_step(i):
                changed[edge] = ""
        for i in sorted(new - old):
            changed.update(self._labels_of_step(i))
        self._labelled = (max(0, k - LABEL_WINDOW), k)
        if changed:
            self.graph_view.set_edge_labels(changed)

    def saved_panel_rows(self) -> list[tuple[str, str, str]]:
        """Return the rows the Saved tensors panel shows (buffer, shape, state)."""
        from app.ui.qt_saved_panel import saved_rows

        return saved_rows(self.model, self.model.focus_node())

    def _on_selection(self, node_id: str) -> None:
        if node_id:
            self.runner.request("inspect", node_id=node_id)

    def _on_double_click(self, node_id: str) -> None:
        if self.graph_view.toggle_module(node_id):
            self.statusBar().showMessage(f"{len(self.graph_view.collapsed)} module(s) folded.")

    def find_node(self) -> None:
        hits = self.graph_view.find(self.search.text())
        if not hits:
            self.statusBar().showMessage(f"No node matches {self.search.text()!r}.")
            return
        self.model.select(hits[0])
        self.graph_view.highlight(hits)
        self.graph_view.center_on_node(hits[0])
        self.statusBar().showMessage(f"{len(hits)} node(s) match; showing {hits[0]}.")

    def _toggle_rankdir(self) -> None:
        self.graph_view.rankdir = "LR" if self.act_lr.isChecked() else "TB"
        if self.model.graph is not None:
            self._draw_graph()

    def _draw_graph(self) -> None:
        """Draw the model's graph anew with the current step's node states and edge labels."""
        self.graph_view.set_graph(self.model.graph)  # starts with no states and no labels
        self._states_shown = None
        self._labelled = (0, 0)
        self._on_step(self.model.step)

    # -- files -----------------------------------------------------------------------------------
    def open_file(self, path: str) -> bool:
        """Load ``path`` into the editor without running it; return False when unreadable."""
        from app.autograd.snippet import SnippetLoadError, load_snippet

        try:
            text, _name = load_snippet(path, None)
        except SnippetLoadError as exc:
            if exc.error.get("kind") != "empty":  # an empty file opens: the user writes in it
                err = exc.error
                QtWidgets.QMessageBox.warning(
                    self, "Cannot open",
                    f"{err.get('message', path)}\n\n{err.get('explanation', '')}\n\n"
                    f"How to fix: {err.get('fix', '')}".strip())
                return False
            text = ""
        self.filename = str(Path(path).resolve())
        self.editor.setPlainText(text)
        self.editor.set_error(None)
        self._remember_file(self.filename)
        self.setWindowTitle(f"gradstep — {Path(path).name}")
        self.statusBar().showMessage(f"Opened {path} (not run: press Ctrl+Enter).")
        return True

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open snippet", self._last_dir(), "Python (*.py);;All files (*)")
        if path:
            self._set_last_dir(path)
            self.open_file(path)

    def save(self) -> None:
        if not self.filename:
            self.save_as()
            return
        Path(self.filename).write_text(self.editor.toPlainText(), encoding="utf-8")
        self.statusBar().showMessage(f"Saved {self.filename}.")

    def save_as(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save snippet", self._last_dir(), "Python (*.py)")
        if path:
            self._set_last_dir(path)
            self.filename = path
            self._remember_file(path)
            self.save()

    def export_graph(self, path: str) -> None:
        """Write the graph with the current step's state to ``path`` (format from the suffix)."""
        from graphviz_views.export import export_graph

        export_graph(self.model.graph, path, states=self.model.states(),
                     rankdir=self.graph_view.rankdir)

    def export_dialog(self) -> None:
        if self.model.graph is None:
            self.statusBar().showMessage("Nothing to export: run a snippet first.")
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export graph", self._last_dir(), EXPORT_FILTER)
        if not path:
            return
        self._set_last_dir(path)
        try:
            self.export_graph(path)
        except Exception as exc:  # a failed export is reported, never fatal
            QtWidgets.QMessageBox.warning(self, "Export failed", f"{path}\n\n{exc}")
            return
        self.statusBar().showMessage(f"Exported {path}.")

    def show_about(self) -> None:
        """Open Help › About (without blocking); ``self.about`` is the box."""
        from app.ui.qt_about import about_box

        self.about = about_box(self)
        self.about.open()

    def copy_image(self) -> None:
        QtGui.QGuiApplication.clipboard().setImage(self.graph_view.render_image())
        self.statusBar().showMessage("Graph image copied to the clipboard.")

    def load_example(self, example_id: str) -> None:
        """Put an example's text in the editor (it is not run)."""
        from app.examples import load_example

        self.filename = ""
        self.editor.setPlainText(load_example(example_id))
        self.editor.set_error(None)
        self.statusBar().showMessage("Example loaded (not run: press Ctrl+Enter).")

    def _fill_examples(self) -> None:
        try:
            from app.examples import EXAMPLES
        except ImportError:
            self.examples_menu.addAction("(examples not installed)").setEnabled(False)
            return
        self.examples_menu.setToolTipsVisible(True)
        for example in EXAMPLES:
            action = self.examples_menu.addAction(example.title)
            action.setData(example.id)
            action.setToolTip(example.description)
            action.triggered.connect(lambda _c=False, i=example.id: self.load_example(i))

    # -- settings, recent files, autosave ------------------------------------------------------------
    def _last_dir(self) -> str:
        return str(settings().value("last_dir", str(Path.home())))

    def _set_last_dir(self, path: str) -> None:
        settings().setValue("last_dir", str(Path(path).parent))

    def recent_files(self) -> list[str]:
        value = settings().value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember_file(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        settings().setValue("recent", [path] + recent[: MAX_RECENT - 1])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _on_text_changed(self) -> None:
        self.autosave.changed(self.editor.toPlainText(), self.filename)

    def _restore_text(self) -> None:
        saved = self.autosave.restore()
        if saved and saved["text"]:
            self.filename = saved["filename"]
            self.editor.setPlainText(saved["text"])
            self.statusBar().showMessage("Restored your last text (not run).")

    def _restore_settings(self) -> None:
        s = settings()
        geometry = s.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window_state")
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.autosave.flush()
        s = settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState())
        self.runner.shutdown()
        super().closeEvent(event)
