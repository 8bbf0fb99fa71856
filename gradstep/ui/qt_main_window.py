"""The main window: editor left, graph centre, panels right, run and step toolbars on top.

The window talks to the session (through ``QtRunner``) and hands every answer to
the model; the graph (``QtGraphFollower``) and the panels observe the model.
Files and exports live in ``qt_file_actions`` / ``qt_export_actions``.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from gradstep.ui.qt_about import about_box
from gradstep.ui.qt_autosave import QtAutosave, state_dir
from gradstep.ui.qt_device_selector import QtDeviceSelector
from gradstep.ui.qt_diagnose_panel import install_diagnose
from gradstep.ui.qt_editor import QtEditor
from gradstep.ui.qt_errors_panel import QtErrorsPanel
from gradstep.ui.qt_export_actions import QtExportActions
from gradstep.ui.qt_file_actions import QtFileActions
from gradstep.ui.qt_find_box import QtFindBox
from gradstep.ui.qt_graph_follower import QtGraphFollower
from gradstep.ui.qt_graph_view import QtGraphView
from gradstep.ui.qt_icons import app_icon, glyph_icon
from gradstep.ui.qt_language import LiveTexts, apply_language, remember_choice, saved_choice
from gradstep.ui.qt_leaf_panel import QtLeafPanel
from gradstep.ui.qt_output_panel import QtOutputPanel
from gradstep.ui.qt_panel_column import QtPanelColumn
from gradstep.ui.qt_root_picker import QtRootPicker
from gradstep.ui.qt_run_controller import QtRunController
from gradstep.ui.qt_runner import QtRunner, make_backend
from gradstep.ui.qt_saved_panel import QtSavedPanel, saved_rows
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.qt_settings import migrate_old_settings, settings
from gradstep.ui.qt_step_bar import QtStepBar
from gradstep.ui.qt_values_panel import QtValuesPanel
from gradstep.ui.qt_view_menu import build_view_menu

ERROR_ROOM = 300  # px an error's text may take in the right column at least (it scrolls past)
ERROR_SHARE = 0.4  # ... or this share of the column where that is more (a projector)
OUTPUT_ROOM = 200  # the Output tab's least height when raised: a few printed lines


def raised(dock: QtWidgets.QDockWidget) -> bool:
    """Return whether ``dock`` is seen: shown, and its tab the raised one of its group (a
    tab behind another is still ``isVisible``)."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


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
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        migrate_old_settings()
        apply_language(saved_choice())  # before any text is set
        self.texts = LiveTexts()  # the window's static texts, set again when the language changes
        self.model = QtSessionModel(self)
        self.runner = QtRunner(backend_factory, self)
        self.autosave = QtAutosave(state_dir() / "autosave.json", self)
        self._build_widgets()
        self.follower = QtGraphFollower(self.model, self.graph_view, self)  # before the panels
        self._build_docks()
        self._build_menus()
        self._build_status()
        self.control = QtRunController(self)
        self._connect()
        self._restore_settings()
        self.diagnose_view = install_diagnose(self)  # Diagnose menu, dock, NaN banner, marks
        self.panel_column = QtPanelColumn(self)  # the right column: a share of a wider window
        self.files.restore_text(self.autosave)

    # -- construction ----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.editor = QtEditor()
        self.graph_view = QtGraphView()
        self.step_bar = QtStepBar(self.model, self)
        self.run_bar = QtWidgets.QToolBar(self)
        self.texts.set(self.run_bar.setWindowTitle, QT_TR_NOOP("Run"))
        self.run_bar.setObjectName("run_toolbar")
        self.act_run = QtGui.QAction(glyph_icon("play", self.palette()), "", self)
        self.texts.set(self.act_run.setText, QT_TR_NOOP("Run"))
        self.act_run.setShortcuts([QtGui.QKeySequence("Ctrl+Return"), QtGui.QKeySequence("F5")])
        self.texts.set(self.act_run.setToolTip, QT_TR_NOOP("Run the snippet (Ctrl+Enter)"))
        self.run_bar.addAction(self.act_run)
        self.run_bar.widgetForAction(self.act_run).setToolButtonStyle(
            QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.device_selector = QtDeviceSelector()
        self.run_bar.addWidget(self.device_selector)
        self.root_picker = QtRootPicker(self.model)
        self.run_bar.addWidget(self.root_picker)
        self.run_bar.addSeparator()
        self.search = QtFindBox()
        self.search.setMaximumWidth(170)
        self.run_bar.addWidget(self.search)
        self.run_bar.addSeparator()
        self.step_bar.add_again_group(self.run_bar)
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
        """Add a dock; ``title`` is a ``QT_TR_NOOP`` text (it follows the language)."""
        dock = QtWidgets.QDockWidget(self)
        self.texts.set(dock.setWindowTitle, title)
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
            "values": self._dock(QT_TR_NOOP("Values"), self.values_panel, "dock_values"),
            "saved": self._dock(QT_TR_NOOP("Saved tensors && retain_graph"), self.saved_panel,
                                "dock_saved"),
            "errors": self._dock(QT_TR_NOOP("Errors"), self.errors_panel, "dock_errors"),
            "leaves": self._dock(QT_TR_NOOP("Leaf gradients"), self.leaf_panel, "dock_leaves"),
            "output": self._dock(QT_TR_NOOP("Output"), self.output_panel, "dock_output"),
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
        # wide enough for the four tabs' whole names in English (458 px with the default font;
        # at 420 Qt elided them to "Val…", "Leaf gradi…", "Diagn…")
        self.resizeDocks([self.docks["values"]], [470], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["values"], self.docks["errors"]], [520, 200],
                         QtCore.Qt.Orientation.Vertical)
        self._error_room: int | None = None  # the Errors and Output tabs' height fit_error_room set
        self._fit_size = QtCore.QSize()  # the window's size then (-1: dragged since, by the user)
        self._fit_column = 0  # the right column's height then (a drag keeps it)
        self._refit_timer = QtCore.QTimer(self)  # the tabs fitted again, once laid out
        self._refit_timer.setSingleShot(True)
        self._refit_timer.setInterval(0)
        self._refit_timer.timeout.connect(self._refit_room)
        self._moved_timer = QtCore.QTimer(self)  # another height, the window's size the same:
        self._moved_timer.setSingleShot(True)  # dragged, or a toolbar came (once laid out)
        self._moved_timer.setInterval(0)
        self._moved_timer.timeout.connect(self._moved_room)
        for name in ("errors", "output"):  # another width; a drag of their edge
            self.docks[name].installEventFilter(self)
        self.errors_panel.sigShown.connect(self.fit_error_room)
        for name in ("errors", "output"):  # a tab raised: the room its text wants, once the
            self.docks[name].visibilityChanged.connect(  # other tab's is hidden
                lambda _seen: QtCore.QTimer.singleShot(0, self.fit_error_room))

    def fit_error_room(self, error: bool | None = None) -> None:
        """Give the Errors and Output tabs the room their text wants in the right column:
        little where the Errors tab is raised and says "No errors." (its line and the tabs;
        the Values panel above gets the rest), ``OUTPUT_ROOM`` at least where the Output tab
        is raised; an error makes room for itself (``QtRunController.show_error``). Called
        when the Errors tab's text comes or goes (``error``), always; when a tab is raised
        or the window shown, only while the tabs are as high as it last made them: a height
        the user dragged them to stays until the next error comes or goes."""
        errors, output = self.docks["errors"], self.docks["output"]
        if errors.isFloating() or output.isFloating() or not self.isVisible():
            return
        seen = errors if raised(errors) else output  # (a tab behind keeps an old height)
        if error:  # an error's text came: as high as it (once laid out)
            QtCore.QTimer.singleShot(0, self, self.fit_error_text)
            return
        if error is None and self._error_room not in (None, seen.height()):
            return  # resized since, by the user (or an error: show_error)
        if raised(errors) and self.errors_panel.empty:
            title = errors.height() - errors.widget().height()  # the dock's title bar
            want = self.errors_panel.empty_height() + max(0, title)
            if errors.height() > want:
                self._share_column(errors, want)
        elif raised(errors) and error is None:  # (back from Output, or the window resized)
            self.fit_error_text()
        elif raised(output):  # its printed lines, ``OUTPUT_ROOM`` at least (not the Errors
            title = max(0, output.height() - self.output_panel.height())  # tab's height)
            want = min(max(OUTPUT_ROOM, self.output_panel.text_height() + title),
                       self._most_room())
            if want != output.height():
                self._share_exactly(output, want)

    def fit_error_text(self) -> None:
        """Give the Errors tab the height its error's text takes at the tab's width (torch's
        message, the why and the fix), between ``ERROR_ROOM`` and ``ERROR_SHARE`` of the
        column at most (what is more scrolls): 300 px high, the tab kept ~100 px blank under
        a short error at 1920 x 1080 and cut a long one. Called when an error is shown
        (``QtRunController.show_error``), once its text is laid out."""
        errors, panel = self.docks["errors"], self.errors_panel
        if errors.isFloating() or not self.isVisible() or not raised(errors) or panel.empty:
            return
        title = max(0, errors.height() - panel.height())  # the dock's title bar
        want = min(panel.text_height(), self._most_room() - title) + title
        if want != errors.height():
            self._share_exactly(errors, want)

    def _share_exactly(self, lower: QtWidgets.QDockWidget, height: int) -> None:
        """``_share_column``, and again where Qt gave the tabs another height (it counts a
        tabbed area's size otherwise)."""
        self._share_column(lower, height)
        self.layout().activate()
        if lower.height() != height:
            self._share_column(lower, 2 * height - lower.height())

    def _most_room(self) -> int:
        """Return the most the Errors or Output tabs take of the column (what is more scrolls)."""
        column = self.docks["values"].height() + self.docks["errors"].height()
        return max(ERROR_ROOM, int(ERROR_SHARE * column))

    def _share_column(self, lower: QtWidgets.QDockWidget, height: int) -> None:
        """Make the lower tabs (``lower``: Errors or Output) ``height`` high, the Values tabs
        above them the rest of the column."""
        upper = self.docks["values"]
        column = upper.height() + lower.height()
        self.resizeDocks([upper, lower], [column - height, height], QtCore.Qt.Orientation.Vertical)
        self._error_room = None  # until laid out: the height the tabs got (their least may be more)
        QtCore.QTimer.singleShot(0, self, self._note_room)

    def _note_room(self) -> None:
        """Note the height the Errors and Output tabs now have as the one fitted."""
        self._error_room = self._lower().height()
        self._fit_size = self.size()
        self._fit_column = self._column()

    def _lower(self) -> QtWidgets.QDockWidget:
        errors = self.docks["errors"]
        return errors if raised(errors) else self.docks["output"]

    def _column(self) -> int:
        """Return the right column's height: the raised upper tab's and the lower one's."""
        values = self.docks["values"]
        upper = next((dock for dock in (values, *self.tabifiedDockWidgets(values))
                      if raised(dock)), values)
        return upper.height() + self._lower().height()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        """Fit the Errors or Output tabs again when they get another width (the window
        resized, the column moved: the text wraps otherwise), and note a height of theirs
        that the window's size did not make (the user dragged their edge, the column as high
        as before: it stays, also when the window is resized; a toolbar that came or went
        changed the column: fitted again)."""
        if (event.type() == QtCore.QEvent.Type.Resize and self._error_room != -1
                and watched.isVisible() and not watched.isFloating()):
            if event.size().width() != event.oldSize().width():
                self._refit_timer.start()  # (also while a fit is under way: its width went)
            elif (self._error_room is not None and self.size() == self._fit_size
                  and watched.height() != self._error_room):
                self._moved_timer.start()  # (the tabs above are resized after it, or before)
        return super().eventFilter(watched, event)

    def _moved_room(self) -> None:
        if (self._error_room in (None, -1) or self.size() != self._fit_size
                or self._lower().height() == self._error_room):
            return
        if self._column() == self._fit_column:
            self._error_room = -1  # dragged by the user
        else:
            self._refit_timer.start()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._error_room != -1 and event.size() != event.oldSize():
            self._refit_timer.start()  # (another column: another share of it), once laid out

    def _refit_room(self) -> None:
        if self._error_room == -1 or not self.isVisible():  # (dragged since)
            return
        self._error_room = None
        self.fit_error_room()
        if self._error_room is None:  # (what it fitted, also where it changed nothing)
            QtCore.QTimer.singleShot(0, self, self._note_room)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = self.menu(bar, QT_TR_NOOP("&File"))
        keys = QtGui.QKeySequence.StandardKey  # the platform's own keys where one exists
        self.act_open = self._add(file_menu, QT_TR_NOOP("&Open…"), keys.Open,
                                  lambda: self.files.open_dialog())
        self.act_save = self._add(file_menu, QT_TR_NOOP("&Save"), keys.Save, self.save)
        self.act_save_as = self._add(file_menu, QT_TR_NOOP("Save &As…"), keys.SaveAs,
                                     self.save_as)
        self.recent_menu = self.menu(file_menu, QT_TR_NOOP("Open &Recent"))
        self.files = QtFileActions(self, self.editor, self.recent_menu)
        file_menu.addSeparator()
        self.exports = QtExportActions(self, file_menu)
        self.act_copy_image = self.exports.act_copy
        file_menu.addSeparator()
        self.act_quit = self._add(file_menu, QT_TR_NOOP("&Quit"), (keys.Quit, "Ctrl+Q"),
                                  self.close)
        self.examples_menu = self.menu(bar, QT_TR_NOOP("E&xamples"))
        self._fill_examples()
        run_menu = self.menu(bar, QT_TR_NOOP("&Run"))
        run_menu.addAction(self.act_run)
        self.act_stop = self._add(run_menu, QT_TR_NOOP("S&top"), "Ctrl+.", self.stop)
        self.act_deep = self._add(
            run_menu, QT_TR_NOOP("&Deep values (may change which kernels torch picks)"), "",
            lambda: self.control.on_deep_values())
        self.act_deep.setCheckable(True)
        self.texts.set(self.act_deep.setToolTip, QT_TR_NOOP(
            "Record the output of every torch call inside library code too, so more nodes "
            "show a value. A Python mode is then active while the snippet runs, which can "
            "change the kernels and fast paths torch picks."))
        run_menu.addSeparator()
        for act in (self.step_bar.act_forward, self.step_bar.act_back, self.step_bar.act_end,
                    self.step_bar.act_reset, self.step_bar.act_play, self.step_bar.act_again,
                    self.step_bar.act_zero):
            run_menu.addAction(act)
        self.view_menu = build_view_menu(self, bar)
        help_menu = self.menu(bar, QT_TR_NOOP("&Help"))
        self.act_about = self._add(help_menu, QT_TR_NOOP("&About gradstep"), "", self.show_about)
        editing = {QtGui.QKeySequence(k).toString() for k in ("Ctrl+A", "Ctrl+C", "Ctrl+V", "Ctrl+X", "Ctrl+Z")}
        self.search.window_actions = {
            a.shortcut().toString(): a for a in self.findChildren(QtGui.QAction)
            if not a.shortcut().isEmpty() and a.shortcut().toString() not in editing}

    def menu(self, parent, title: str) -> QtWidgets.QMenu:
        """Add a menu to ``parent`` (the menu bar or a menu); ``title`` a ``QT_TR_NOOP`` text."""
        menu = parent.addMenu("")
        self.texts.set(menu.setTitle, title)
        return menu

    def _add(self, menu, text, shortcut, slot) -> QtGui.QAction:
        """Add an action. ``text`` is a ``QT_TR_NOOP`` text (it follows the language);
        ``shortcut``: a StandardKey, (StandardKey, text used where the platform binds no
        key to it), or text like "Ctrl+E" ("" for none)."""
        action = menu.addAction("")
        self.texts.set(action.setText, text)
        standard, fallback = shortcut if isinstance(shortcut, tuple) else (shortcut, "")
        if isinstance(standard, QtGui.QKeySequence.StandardKey):
            action.setShortcuts(QtGui.QKeySequence.keyBindings(standard)
                                or [QtGui.QKeySequence(fallback)])
        elif shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def show_about(self) -> None:
        """Open Help › About (without blocking); ``self.about`` is the box."""
        self.about = about_box(self)
        self.about.open()

    def _build_status(self) -> None:
        status = self.statusBar()
        self.busy_bar = QtWidgets.QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: we cannot know how long a snippet runs
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setVisible(False)
        self.stop_button = QtWidgets.QPushButton()
        self.texts.set(self.stop_button.setText, QT_TR_NOOP("Stop"))
        self.texts.set(self.stop_button.setToolTip, QT_TR_NOOP("Stop the running snippet (Ctrl+.)"))
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop)
        self.node_count = QtWidgets.QLabel()
        status.addPermanentWidget(self.node_count)
        status.addPermanentWidget(self.busy_bar)
        status.addPermanentWidget(self.stop_button)
        status.showMessage(self.tr("Type a snippet and press Ctrl+Enter."))

    # -- the language (View › Language) ---------------------------------------------------------
    def set_language(self, code: str | None) -> None:
        """Switch to language ``code`` (None: the system's) at once, and remember it."""
        remember_choice(code)
        apply_language(code)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        QtCore.QTimer.singleShot(0, self.fit_error_room)  # laid out by then

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Set every text again in the language now in use (the panels do their own)."""
        self.statusBar().clearMessage()  # said in the other language
        self.texts.retranslate()
        self._fill_examples()
        self.fill_fold_menu()
        self.files.retranslate()
        self.control.retranslate()
        zoom = getattr(self, "font_zoom", None)
        if zoom is not None:  # the panels' names are longer or shorter in this language
            zoom.fit_panel_tabs()
        for helper in (getattr(self, "diagnose_view", None), self.exports,
                       getattr(self, "presentation", None)):
            if helper is not None:
                helper.retranslate()

    def _connect(self) -> None:
        self.act_run.triggered.connect(self.run)
        self.editor.sigRunRequested.connect(self.run)
        self.editor.sigFileDropped.connect(self.files.open_recent)
        self.editor.textChanged.connect(
            lambda: self.autosave.changed(self.editor.toPlainText(), self.filename))
        self.graph_view.sigNodeClicked.connect(self.model.select)
        self.graph_view.sigNodeDoubleClicked.connect(self._on_double_click)
        self.errors_panel.sigJumpToLine.connect(self.editor.go_to_line)
        self.values_panel.formula.sigSavedClicked.connect(self.show_saved)
        self.search.returnPressed.connect(self.find_node)

    # -- running (see qt_run_controller) -------------------------------------------------------
    def run(self) -> None:
        self.control.run()

    def backward(self) -> None:
        self.control.backward()

    def zero_grads(self) -> None:
        self.control.zero_grads()

    def stop(self) -> None:
        self.control.stop()

    def _on_backward(self, timeline: dict) -> None:
        self.control.on_backward(timeline)

    def _show_error(self, err: dict | None) -> None:
        self.control.show_error(err)

    def saved_panel_rows(self) -> list[tuple[str, str, str]]:
        """Return the rows the Saved tensors panel shows (buffer, shape, state)."""
        return saved_rows(self.model, self.model.focus_node())

    def show_saved(self, name: str) -> None:
        """Show saved value ``name`` of the focus node in the Saved tensors panel (a link in
        the Values panel's formula)."""
        self.docks["saved"].show()
        self.docks["saved"].raise_()
        self.saved_panel.select_saved(name)

    def _on_double_click(self, node_id: str) -> None:
        if self.graph_view.toggle_module(node_id):
            self.follower.redraw()
            self.statusBar().showMessage(
                self.tr("{0} module(s) folded.").format(len(self.graph_view.collapsed)))

    def find_node(self) -> None:
        hits = self.graph_view.find(self.search.text())
        if not hits:
            self.statusBar().showMessage(self.tr("No node matches {0!r}.").format(self.search.text()))
            return
        self.model.select(hits[0])
        self.graph_view.highlight(hits)
        self.graph_view.center_on_node(hits[0])
        attrs = self.model.node(hits[0])  # the box's words, not the id ("n3") no box shows
        shown = " ".join(dict.fromkeys(str(attrs.get(k) or "") for k in ("name", "label")))
        self.statusBar().showMessage(
            self.tr("{0} node(s) match; showing {1}.").format(len(hits), shown.strip() or hits[0]))

    def toggle_rankdir(self, left_to_right: bool) -> None:
        self.graph_view.rankdir = "LR" if left_to_right else "TB"
        if self.model.graph is not None:
            self.graph_view._rebuild()
            self.graph_view.fit_to_window()
            self.follower.redraw()

    def fold_to_depth(self, depth: int | None) -> None:
        if self.model.graph is not None:
            self.graph_view.fold_to_depth(depth)
            self.follower.redraw()

    # -- files (see qt_file_actions) ----------------------------------------------------------
    @property
    def filename(self) -> str:
        return self.files.filename

    def open_file(self, path: str) -> bool:
        return self.files.open_file(path)

    def save(self) -> bool:
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def recent_files(self) -> list[str]:
        return self.files.recent_files()

    def export_graph(self, path: str) -> None:
        self.exports.export_graph(path)

    def export_dialog(self) -> None:
        self.exports.export_dialog()

    def copy_image(self) -> None:
        self.exports.copy_image()

    def load_example(self, example_id: str) -> None:
        """Put an example's text in the editor (it is not run)."""
        self.files.load_example(example_id)

    def _fill_examples(self) -> None:
        """List the examples (their titles and descriptions from the pure catalogue)."""
        self.examples_menu.clear()
        try:
            from gradstep.examples import EXAMPLES
        except ImportError:
            self.examples_menu.addAction(self.tr("(examples not installed)")).setEnabled(False)
            return
        self.examples_menu.setToolTipsVisible(True)
        for example in EXAMPLES:
            action = self.examples_menu.addAction(example.shown_title())
            action.setData(example.id)
            action.setToolTip(example.shown_description())
            action.triggered.connect(lambda _c=False, i=example.id: self.load_example(i))

    # -- window state -------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = settings()
        geometry = s.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window_state")
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.files.keep_or_discard_edits(self.tr("quitting"), untitled_too=False):
            event.ignore()
            return
        self.autosave.flush()
        s = settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState())
        self.runner.shutdown()
        super().closeEvent(event)
