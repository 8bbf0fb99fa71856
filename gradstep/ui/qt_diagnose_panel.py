"""The Diagnose view: where NaN/Inf starts, and how gradients flow through the layers.

``QtDiagnosePanel`` observes the window's model: after every run and every backward
pass it computes ``findings.diagnose`` (pure) from the trace, the passes and the latest
gradient statistics, lists the findings (a click shows the node and the line) and
draws the gradient-flow chart (a click on a bar selects the parameter's leaf).
``QtDiagnoseBanner`` says so when a run produced NaN/Inf. ``install_diagnose(window)``
is the whole hook into the main window: a Diagnose menu, a dock, the banner and the
marks on the graph.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.elements import torch_words
from gradstep.autograd.findings import Diagnoser, Diagnosis
from gradstep.autograd.grad_flow import written_when
from gradstep.schema.findings import Finding
from gradstep.ui.qt_diagnose_marks import QtDiagnoseMarks
from gradstep.ui.qt_flow_chart import QtFlowChart
from gradstep.ui.words import tr

ORIGIN_GLYPH, FIRST_SEEN_GLYPH, WARNING_GLYPH = "✖", "?", "⚠"


def finding_text(finding: Finding) -> str:
    """Return a finding as one line for the list (through Qt's translation)."""
    what = "NaN" if finding.kind.startswith("nan") else tr("Infinity")
    where = finding.op or finding.name or finding.node or ""
    if finding.label and finding.label != where:
        where = f"{where} ({finding.label})"
    line = tr(", line {0}").format(finding.line) if finding.line else ""
    if finding.kind in ("nan_forward", "inf_forward"):
        head = tr("{0} starts at {1}{2}") if finding.certain else tr("{0} first seen at {1}{2}")
    elif finding.kind in ("nan_grad", "inf_grad"):
        head = (tr("{0} starts in the gradient of {1}{2}") if finding.certain
                else tr("{0} first seen in the gradient of {1}{2}"))
    else:
        extra = finding.extra
        texts = {"vanishing": tr("gradients vanish in {0}: |grad|/|weight| = {1:.2g}"),
                 "exploding": tr("gradients explode in {0}: |grad|/|weight| = {1:.2g}"),
                 "dead": tr("{0}: {1:.0%} of the gradient is exactly zero (dead units?)")}
        value = extra.get("zero_fraction") if finding.kind == "dead" else extra.get("ratio")
        return f"{WARNING_GLYPH} " + texts[finding.kind].format(finding.label, value or 0.0)
    glyph = ORIGIN_GLYPH if finding.certain else FIRST_SEEN_GLYPH
    text = head.format(what, where, line)
    return f"{glyph} " + (tr("{0}: {1}").format(text, finding.cause) if finding.cause else text)


def finding_tooltip(finding: Finding) -> str:
    """Return the finding's details: what was not seen, how far it was carried."""
    parts = [finding_text(finding)[2:]]
    for item in finding.unseen:
        name = item.get("argument") or tr("slot {0}").format(item["slot"])
        if item["why"] == "not_captured":
            parts.append(tr("The value of its input {0} ({1}) was not captured: run again with "
                             "deep values to look inside.").format(name, item.get("node")))
        else:
            parts.append(tr("Its input {0} does not require grad (data or a constant); "
                             "gradstep does not see its value.").format(name))
    if finding.unseen:
        parts.append(tr("So this is where NaN/Inf is first seen, not proven to start."))
    if finding.carriers:
        parts.append(tr("Carried on by {0} node(s), framed with dashes on the graph.")
                     .format(len(finding.carriers)))
    return "\n".join(parts)


class QtDiagnosePanel(QtWidgets.QWidget):
    """Findings and the gradient-flow chart of the model's run.

    Signals
    -------
    sigDiagnosed(object)   a new Diagnosis was computed
    sigShowNode(str)       the user picked a finding or a bar: show this node
    sigJumpToLine(int)     ... and this snippet line
    sigStatsWanted()       the gradients changed: new statistics are needed
    sigDeepRunWanted()     the user asked to run again recording every torch call's output
    """

    sigDiagnosed = QtCore.Signal(object)
    sigShowNode = QtCore.Signal(str)
    sigJumpToLine = QtCore.Signal(int)
    sigStatsWanted = QtCore.Signal()
    sigDeepRunWanted = QtCore.Signal()

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.stats: dict | None = None
        self.diagnosis = Diagnosis()
        self._diagnoser = Diagnoser()  # a trace's and each pass's findings found once
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        self.findings = QtWidgets.QListWidget()
        self.findings.setWordWrap(True)
        self.findings.itemClicked.connect(self._on_item)
        self.findings.itemActivated.connect(self._on_item)
        self.deep = QtWidgets.QPushButton()
        self.deep.clicked.connect(self.sigDeepRunWanted)
        self.deep.hide()
        self.per_module = QtWidgets.QCheckBox()
        self.per_module.setChecked(True)
        self.per_module.toggled.connect(self.refresh)
        self.chart = QtFlowChart()
        self.chart.sigRowClicked.connect(self._on_bar)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.findings, 2)
        layout.addWidget(self.deep, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        self.flow_title = QtWidgets.QLabel()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.flow_title)
        row.addStretch(1)
        row.addWidget(self.per_module)
        layout.addLayout(row)
        layout.addWidget(self.chart, 3)
        self.legend = QtWidgets.QLabel()
        layout.addWidget(self.legend)
        self._retranslate()
        model.sigTraceChanged.connect(self._on_trace)
        model.sigTimelineChanged.connect(self._on_timeline)
        self.refresh()

    def _retranslate(self) -> None:
        self.deep.setText(self.tr("Run again with deep values"))
        self.deep.setToolTip(self.tr(
            "Some values inside library code were not captured, so a finding may only be where "
            "NaN/Inf was first seen. Deep values record every torch call's output; the Python "
            "mode that takes can change which kernels torch picks, so the run may differ."))
        self.per_module.setText(self.tr("Fold parameters by module"))
        self.flow_title.setText("<b>" + self.tr("Gradient flow, input side first") + "</b>")
        self.legend.setText(QtFlowChart.legend())
        self.legend.setToolTip(self.tr(
            "Bars: |grad| / |weight| per layer, the speed an SGD step changes it at. Vanishing: "
            "below 1e-5 of the fastest layer's; exploding: above 1e3; dead: half or more of "
            "the gradient exactly zero."))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self._retranslate()
            self.refresh()  # the findings' own words (gradstep.i18n) are worded again too
        super().changeEvent(event)

    # -- model events ----------------------------------------------------------------------
    def _on_trace(self) -> None:
        self.stats = None  # a new run: the old gradients are gone
        self.refresh()

    def _on_timeline(self) -> None:
        self.refresh()
        if self.model.timeline is not None:
            self.sigStatsWanted.emit()

    def set_stats(self, stats: dict | None) -> None:
        """Take ``Session.grad_stats``'s answer (an error answer clears the chart)."""
        self.stats = stats if isinstance(stats, dict) and "params" in stats else None
        self.refresh()

    # -- computing and showing ---------------------------------------------------------------
    def refresh(self) -> None:
        """Diagnose the model's run again and show it."""
        timelines = getattr(self.model, "timelines", None) or (
            [self.model.timeline] if self.model.timeline else [])
        with torch_words():  # sqrt(-1.) = nan, as torch prints it and the graph writes it
            self.diagnosis = self._diagnoser.diagnose(self.model.trace, timelines, self.stats,
                                                      fold=self.per_module.isChecked())
        self._fill_list()
        flags = {}
        for finding in self.diagnosis.findings:
            for index, row in enumerate(self.diagnosis.rows):
                if not finding.fails and finding.extra.get("module") == row.name:
                    flags.setdefault(index, finding.kind)
        self.chart.set_rows(self.diagnosis.rows, flags)
        self.sigDiagnosed.emit(self.diagnosis)

    def _fill_list(self) -> None:
        self.findings.clear()
        for index, finding in enumerate(self.diagnosis.findings):
            item = QtWidgets.QListWidgetItem(finding_text(finding))
            item.setData(QtCore.Qt.ItemDataRole.UserRole, index)
            item.setToolTip(finding_tooltip(finding))
            if finding.fails:
                font = item.font()
                font.setBold(finding.certain)
                item.setFont(font)
            self.findings.addItem(item)
        self.summary.setText(self._summary())
        self.deep.setVisible(any(f.fails and not f.certain and
                                 any(u["why"] == "not_captured" for u in f.unseen)
                                 for f in self.diagnosis.findings))

    def _summary(self) -> str:
        if self.model.trace is None:
            if self.model.has_run:
                return self.tr("The last run built no graph: see Errors and Output.")
            return self.tr("Run a snippet to diagnose it.")
        bad = self.diagnosis.nonfinite()
        warnings = len(self.diagnosis.findings) - len(bad)
        if bad:
            first = bad[0]
            text = self.tr("<b>NaN/Inf found.</b> {0}").format(finding_text(first)[2:])
        else:
            text = self.tr("No NaN or infinity in the recorded values and gradients.")
        if warnings:
            text += " " + self.tr("{0} gradient-flow warning(s).").format(warnings)
        if self.stats is None and self.model.timeline is not None:
            text += " " + self.tr("Reading the gradients…")
        written = sum(1 for row in self.diagnosis.rows if row.written_after)
        when = written_when(self.diagnosis.rows)  # an optimizer step: |weight| is not the
        if when == "after":  # pass's (as check)
            text += "<br>" + self.tr(
                "{0} of these layers were written in place after the first recorded backward "
                "call through this graph (an optimizer step?): their |weight| and ratio are of the new weights, "
                "not of those the gradient was computed at.").format(written)
        elif when == "during":
            text += "<br>" + self.tr(
                "{0} of these layers were written in place during a recorded backward call "
                "made after this graph's forward (an optimizer step in a hook?): their |weight| and ratio are of the new "
                "weights, not of those the gradient was computed at.").format(written)
        elif when:
            text += "<br>" + self.tr(
                "{0} of these layers were written in place during a recorded backward call "
                "made after this graph's forward, or after the first such call (an optimizer step?): their |weight| and ratio are of the new weights, "
                "not of those the gradient was computed at.").format(written)
        return text

    def _on_item(self, item: QtWidgets.QListWidgetItem) -> None:
        self.show_finding(item.data(QtCore.Qt.ItemDataRole.UserRole))

    def show_finding(self, index: int) -> None:
        """Show finding ``index``: its node on the graph, its line in the editor."""
        finding = self.diagnosis.findings[index]
        if finding.node:
            self.sigShowNode.emit(finding.node)
        if finding.line:
            self.sigJumpToLine.emit(int(finding.line))

    def _on_bar(self, index: int) -> None:
        row = self.diagnosis.rows[index]
        if row.nodes:
            self.sigShowNode.emit(row.nodes[0])


class QtDiagnoseBanner(QtWidgets.QFrame):
    """A strip that says a run produced NaN/Inf, with a button to the Diagnose view.

    Signals
    -------
    sigDiagnose()   the user asked for the Diagnose view
    sigDismiss()    the user closed the banner
    """

    sigDiagnose = QtCore.Signal()
    sigDismiss = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("diagnose_banner_frame")
        self.setStyleSheet("#diagnose_banner_frame { background: #fdecea; border: 1px solid #d32f2f;"
                           " border-radius: 4px; } QLabel { color: #7f1d1d; }")
        self.text = QtWidgets.QLabel()
        self.text.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.button = QtWidgets.QPushButton(self.tr("Diagnose"))
        self.button.clicked.connect(self.sigDiagnose)
        close = QtWidgets.QToolButton()
        close.setText("×")
        close.setToolTip(self.tr("Hide this message"))
        close.clicked.connect(self.sigDismiss)
        self.close_button = close
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 4, 2)
        layout.addWidget(QtWidgets.QLabel(WARNING_GLYPH))
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self.button.setText(self.tr("Diagnose"))
            self.close_button.setToolTip(self.tr("Hide this message"))
        super().changeEvent(event)

    def say(self, diagnosis: Diagnosis) -> bool:
        """Describe the first NaN/Inf finding; return False when there is none."""
        bad = diagnosis.nonfinite()
        if not bad:
            return False
        self.text.setText(self.tr("This run produced NaN/Inf. {0}").format(finding_text(bad[0])[2:]))
        return True


class QtDiagnose(QtCore.QObject):
    """Everything Diagnose adds to a main window (see ``install_diagnose``)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = QtDiagnosePanel(window.model)
        self.dock = QtWidgets.QDockWidget(window)
        self.dock.setObjectName("dock_diagnose")
        self.dock.setWidget(self.panel)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        docks = getattr(window, "docks", {})
        if "leaves" in docks or "values" in docks:
            window.tabifyDockWidget(docks.get("leaves") or docks["values"], self.dock)
            shown = next((d for d in docks.values() if not d.visibleRegion().isEmpty()), None)
            (shown or docks.get("values") or docks["leaves"]).raise_()  # a new tab stays behind
        docks["diagnose"] = self.dock
        window.restoreDockWidget(self.dock)
        self.banner = QtDiagnoseBanner()
        self.banner_bar = QtWidgets.QToolBar(window)
        self.banner_bar.setObjectName("diagnose_banner")
        self.banner_bar.setMovable(False)
        self.banner_bar.addWidget(self.banner)
        window.addToolBarBreak()
        window.addToolBar(self.banner_bar)
        self.banner_bar.hide()
        self.marks = QtDiagnoseMarks(window.graph_view, self)
        menu = window.menuBar().addMenu("")
        self.menu = menu
        self.action = menu.addAction("")
        self.retranslate()
        self.action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+D"))
        self.action.triggered.connect(lambda _checked=False: self.diagnose())
        menu.addAction(self.dock.toggleViewAction())
        self._connect()

    def retranslate(self) -> None:
        """Word the dock, the banner's bar and the Diagnose menu in the language in use."""
        self.dock.setWindowTitle(self.tr("Diagnose"))
        self.banner_bar.setWindowTitle(self.tr("NaN/Inf banner"))
        self.menu.setTitle(self.tr("&Diagnose"))
        self.action.setText(self.tr("&Diagnose this run"))
        self.marks.retranslate()

    def _connect(self) -> None:
        window, panel = self.window, self.panel
        window.runner.sigResult.connect(self._on_result)
        panel.sigDiagnosed.connect(self._on_diagnosed)
        panel.sigShowNode.connect(self.show_node)
        panel.sigJumpToLine.connect(window.editor.go_to_line)
        panel.sigStatsWanted.connect(self._stats_wanted)
        panel.sigDeepRunWanted.connect(self.run_deep)
        self.banner.sigDiagnose.connect(self.diagnose)
        self.banner.sigDismiss.connect(self.banner_bar.hide)
        self.dock.visibilityChanged.connect(self._on_shown)
        self._on_diagnosed(panel.diagnosis)

    def diagnose(self) -> None:
        """Show the Diagnose view with fresh gradient statistics and the first finding."""
        self.dock.show()
        self.dock.raise_()
        if self.window.model.timeline is not None:
            self.window.runner.request("grad_stats")
        if self.panel.diagnosis.findings:
            self.panel.findings.setCurrentRow(0)
            self.panel.show_finding(0)

    def run_deep(self) -> None:
        """Run the snippet again, recording every torch call's output (the user asked)."""
        window = self.window
        window.say(lambda: self.tr(
            "Running with deep values: a Python mode records every torch call, which can "
            "change the kernels torch picks."))
        window.runner.request("run", source=window.editor.toPlainText(),
                              device=window.device_selector.device(),
                              filename=window.filename or "<snippet>", deep_values=True)

    def show_node(self, node_id: str) -> None:
        window = self.window
        if window.model.graph is None or node_id not in window.model.graph:
            return
        window.model.select(node_id)
        window.graph_view.highlight([node_id])  # ringed: a layer's leaf folded into its
        window.graph_view.center_on_node(node_id)  # module's box rings the box

    def _stats_wanted(self) -> None:
        # only while the view is on screen: a tab behind another asks when it is shown
        # (a request makes the runner busy, and the window skips some requests then)
        if not self.panel.visibleRegion().isEmpty():
            self.window.runner.request("grad_stats")

    def _on_shown(self, shown: bool) -> None:
        if shown and self.panel.stats is None and self.window.model.timeline is not None:
            self.window.runner.request("grad_stats")

    def _on_result(self, method: str, result) -> None:
        if method == "grad_stats":
            self.panel.set_stats(result)

    def _on_diagnosed(self, diagnosis: Diagnosis) -> None:
        self.marks.set_marks(diagnosis.marks)
        self.banner_bar.setVisible(self.banner.say(diagnosis))


def install_diagnose(window) -> QtDiagnose:
    """Add the Diagnose menu, dock, banner and graph marks to a ``QtMainWindow``."""
    return QtDiagnose(window)
