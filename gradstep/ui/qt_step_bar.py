"""The step toolbar: back, forward, to end, reset, play at a speed, and the backward options."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from gradstep.ui.pass_names import mode_words, pass_note
from gradstep.ui.qt_icons import glyph_icon
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.words import tr

SPEEDS = {1: 1000, 2: 500, 5: 200, 20: 50, 60: 16}  # steps per second -> ms between steps
SHORTCUTS = {
    "back": "Alt+Left", "forward": "Alt+Right", "end": "Alt+End", "reset": "Alt+Home",
    "play": "Alt+P", "again": "Alt+B", "zero": "Alt+Z",
}


class QtFittedNote(QtWidgets.QLabel):
    """A one-line label that takes the room its toolbar leaves it, its text ending in "…"
    where it is wider (the whole then in its tooltip): on a step bar at 1280x800 a pass's
    no-steps reason pushed the whole note, mode words and all, behind the » edge."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._whole = ""
        self._least = ""  # what it always shows whole where the bar has room for it
        self._tip = ""
        self._general = ""  # what the label is: its tooltip where the note is whole, tipless
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                           QtWidgets.QSizePolicy.Policy.Preferred)

    def set_note(self, text: str, least: str = "", tip: str = "") -> None:
        """Show ``text``, cut at its end to the room there is, never below ``least``'s width;
        its tooltip ``tip``, or the whole text where it is cut."""
        self._whole, self._least, self._tip = text, least, tip
        self.updateGeometry()
        self._fit()

    def note(self) -> str:
        return self._whole

    def set_general_tip(self, tip: str) -> None:
        """Say what the label is in its tooltip wherever its note is whole and has no tip
        of its own (a resize or a new note must not leave it without one)."""
        self._general = tip
        self._fit()

    def _room(self, text: str) -> int:
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right() + 2

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(self._room(self._whole), super().sizeHint().height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(self._room(self._least), super().minimumSizeHint().height())

    def _fit(self) -> None:
        margins = self.contentsMargins()
        room = self.width() - margins.left() - margins.right() - 2
        text = self.fontMetrics().elidedText(self._whole, QtCore.Qt.TextElideMode.ElideRight,
                                             max(room, 0))
        self.setText(text)
        self.setToolTip((self._tip or self._general) if text == self._whole
                        else self._whole.strip())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.FontChange:
            self.updateGeometry()
            self._fit()


class QtStepBar(QtWidgets.QToolBar):
    """Drives the model's step; asks the window for new passes.

    Signals
    -------
    sigBackwardAgain()       run one more backward pass
    sigZeroGrads()           zero the leaves' .grad
    sigOptionsChanged()      mode or retain_graph changed (the window re-runs)
    """

    sigBackwardAgain = QtCore.Signal()
    sigZeroGrads = QtCore.Signal()
    sigOptionsChanged = QtCore.Signal()

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.setObjectName("step_toolbar")
        self.model = model
        self._glyphs: list = []  # (glyph name, action): redrawn when the palette changes
        self._actions: list = []  # (action, QT_TR_NOOP text, shortcut key): set per language
        icon = QtWidgets.QStyle.StandardPixmap
        self.act_reset = self._action(QT_TR_NOOP("Reset"), "first", "reset", model.reset_steps)
        self.act_back = self._action(QT_TR_NOOP("Step back"), "back", "back", model.step_back)
        self.act_forward = self._action(QT_TR_NOOP("Step"), "forward", "forward",
                                        model.step_forward)
        self.act_end = self._action(QT_TR_NOOP("Run to end"), "last", "end", model.run_to_end)
        self.act_play = self._action(QT_TR_NOOP("Play"), "play", "play", self.toggle_play)
        self.act_play.setCheckable(True)
        self.speed = QtWidgets.QComboBox()
        for interval in SPEEDS.values():
            self.speed.addItem("", interval)
        self.speed.setCurrentIndex(1)
        # as wide as its words in the language and text size now in use: a crowded bar
        # (zoomed text, a long pass) squeezes the pass list, not "每秒 2 步" to "每秒 2"
        self.speed.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.speed.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed,
                                 QtWidgets.QSizePolicy.Policy.Fixed)
        self.addWidget(self.speed)
        self.position = QtWidgets.QLabel()  # its size fixed by _fit_position
        self._position_key = None  # (words, step count, font) the label was fitted to
        self.addWidget(self.position)
        self.passes = QtWidgets.QComboBox()
        self.passes.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.passes.setMinimumContentsLength(50)
        self._passes_action = self.addWidget(self.passes)
        self.pass_info = QtFittedNote()  # the pass's mode, and a note cut to the bar's room
        self.addWidget(self.pass_info)
        # the options and actions for gradstep's own passes: the window puts them on its run bar
        self.again_label = QtWidgets.QLabel()
        self.mode = QtWidgets.QComboBox()
        self.mode.addItem("backward()", "backward")
        self.mode.addItem("autograd.grad", "grad")
        self.retain = QtWidgets.QCheckBox("retain_graph")
        self.act_again = self._action(QT_TR_NOOP("Backward again"), icon.SP_BrowserReload,
                                      "again", self.sigBackwardAgain.emit, add=False)
        self.act_zero = self._action(QT_TR_NOOP("Zero grads"), icon.SP_DialogResetButton, "zero",
                                     self.sigZeroGrads.emit, add=False)
        self._retranslate()
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.speed.currentIndexChanged.connect(self._on_speed)
        self.mode.currentIndexChanged.connect(lambda _i: self.sigOptionsChanged.emit())
        self.retain.toggled.connect(lambda _b: self.sigOptionsChanged.emit())
        model.sigStepChanged.connect(self._on_step)
        model.sigTimelineChanged.connect(self._on_step)
        model.sigTimelineChanged.connect(self._fill_passes)
        self.passes.activated.connect(self._on_pass_chosen)
        self._on_step()

    def add_again_group(self, bar: QtWidgets.QToolBar) -> None:
        """Put the options and actions of gradstep's own passes on ``bar`` (the run bar: the
        step bar is about the pass being stepped, whatever made it)."""
        for widget in (self.again_label, self.mode, self.retain):
            bar.addWidget(widget)
        for act in (self.act_again, self.act_zero):
            bar.addAction(act)
            bar.widgetForAction(act).setToolButtonStyle(
                QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def _action(self, text, pixmap, key, slot, add: bool = True) -> QtGui.QAction:
        """Add an action (``text``: a ``QT_TR_NOOP`` text); ``pixmap`` is a glyph name
        (gradstep.ui.qt_icons) or a standard pixmap."""
        if isinstance(pixmap, str):
            icon = glyph_icon(pixmap, self.palette())
        else:
            icon = self.style().standardIcon(pixmap)
        action = QtGui.QAction(icon, "", self)
        if isinstance(pixmap, str):
            self._glyphs.append((pixmap, action))
        self._actions.append((action, text, key))
        action.setShortcut(QtGui.QKeySequence(SHORTCUTS[key]))
        action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        if add:
            self.addAction(action)
        return action

    def _retranslate(self) -> None:
        """Set the bar's words in the language in use."""
        self.setWindowTitle(self.tr("Step through backward"))
        for action, text, key in self._actions:
            action.setText(tr(text))
            action.setToolTip(f"{tr(text)} ({SHORTCUTS[key]})")
        for index, per_second in enumerate(SPEEDS):
            self.speed.setItemText(index, (self.tr("{0} step/s") if per_second == 1
                                           else self.tr("{0} steps/s")).format(per_second))
        self.speed.setToolTip(self.tr("Play speed"))
        self.passes.setToolTip(self.tr("Which backward pass to step through: the snippet's own "
                                       "calls (their line is highlighted), then the passes "
                                       "gradstep ran"))
        self.pass_info.set_general_tip(self.tr("What the pass being stepped does, as its code says"))
        self.again_label.setText(self.tr(" Backward again: "))
        self.mode.setToolTip(self.tr("How gradstep runs its own passes from the root (Backward "
                                     "again); the snippet's own calls do what their code says"))
        self.retain.setToolTip(self.tr("Keep the saved tensors after gradstep's own passes "
                                       "(Backward again), so backward can run again"))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            for name, action in self._glyphs:
                action.setIcon(glyph_icon(name, self.palette()))
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self._retranslate()
            self._fill_passes()
            self._on_step()
        if event.type() == QtCore.QEvent.Type.FontChange:  # View › Zoom: the label's new
            QtCore.QTimer.singleShot(0, self, self._on_step)  # font, once it has reached it
        super().changeEvent(event)

    def backward_mode(self) -> str:
        return self.mode.currentData()

    def retain_graph(self) -> bool:
        return self.retain.isChecked()

    def toggle_play(self) -> None:
        """Start or stop playing; playing from the end starts over."""
        if self._timer.isActive():
            self._stop_play()
            return
        if self.model.at_end():
            self.model.reset_steps()
        self.act_play.setChecked(True)
        self._timer.start(self.speed.currentData())

    def _stop_play(self) -> None:
        self._timer.stop()
        self.act_play.setChecked(False)

    def _tick(self) -> None:
        if self.model.at_end():
            self._stop_play()
        else:
            self.model.step_forward()

    def _on_speed(self, _index: int) -> None:
        if self._timer.isActive():
            self._timer.setInterval(self.speed.currentData())

    def _fill_passes(self) -> None:
        """List the model's passes and show the one being stepped, and what it does."""
        self.passes.blockSignals(True)
        self.passes.clear()
        for i, record in enumerate(self.model.passes):
            failed = self.tr(" (failed)") if record.failed else ""
            self.passes.addItem(f"{i + 1}. {record.title}{failed}")
            self.passes.setItemData(i, record.code or record.title, QtCore.Qt.ItemDataRole.ToolTipRole)
        for call in self.model.other_calls:  # shown, not steppable: say why
            self.passes.addItem(self.tr("line {0}: another graph, not drawn").format(call.get("line")))
            item = self.passes.model().item(self.passes.count() - 1)
            item.setEnabled(False)
            item.setToolTip(self.tr("{0}\ndifferentiates a graph other than the one drawn (a "
                                    "tensor computed again later, or another root; the root "
                                    "box lists it where a top-level name or path still holds "
                                    "it)").format(call.get("code") or ""))
        # none drawn: the closed list says where the snippet's passes went, not nothing
        others = len(self.model.other_calls) if not self.model.passes else 0
        self.passes.setPlaceholderText(self.tr("{0} backward call(s) of the snippet's, on graphs "
                                               "not drawn").format(others) if others else "")
        self.passes.setCurrentIndex(self.model.timeline_index())
        record = self.model.current_pass()
        self.passes.setToolTip(record.code or record.title if record else "")
        self._passes_action.setVisible(bool(self.model.passes or self.model.other_calls))
        self.passes.blockSignals(False)
        note = pass_note(self.model.timeline)
        mode = f" {mode_words(self.model.timeline)} " if self.model.timeline else ""
        # at the least its API (a 1024 px window: " backward() …"), the rest in its tooltip
        self.pass_info.set_note(mode + (f"· {note} " if note else ""),
                                least=mode.split("·")[0] + "…" if mode else "", tip=note)

    def _fit_position(self, words: tuple[str, ...], n: int) -> None:
        """Fix the step label's size to its widest text in this pass, language and font.

        A label whose size can change asks the window to lay itself out again whenever
        its text changes: at every step, which repainted the toolbars, the splitter and
        the dock tabs (~1 ms of a step). Fixed, its new text repaints only itself.
        """
        metrics = self.position.fontMetrics()
        key = (words, n, self.position.font().key())
        if key == self._position_key:
            return
        self._position_key = key
        digit = max("0123456789", key=metrics.horizontalAdvance)
        widest = max((text.format(*[digit * len(str(n))] * 3) for text in words),
                     key=metrics.horizontalAdvance)  # the pass's texts: one width through it
        width = max(metrics.horizontalAdvance(widest), metrics.horizontalAdvance(" 0000 / 0000 steps done "))
        # the text's own height (a fallback font for Chinese can be taller), not sizeHint:
        # a label's hint is at least its fixed size, which would never let it shrink
        flags = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        height = max(metrics.height(),
                     metrics.boundingRect(QtCore.QRect(0, 0, 100_000, 1_000), flags, widest).height())
        margins = self.position.contentsMargins()
        self.position.setFixedSize(width + 4 + margins.left() + margins.right(),
                                   height + margins.top() + margins.bottom())

    def _on_pass_chosen(self, index: int) -> None:
        if 0 <= index < len(self.model.timelines):
            self.model.choose_timeline(index)

    def _on_step(self, *_args) -> None:
        k, n = self.model.step, self.model.step_count
        # steps done, as the Values panel numbers steps from 1 (``▶ runs at step 1`` at the
        # start, ``ran at step 3`` after 3 / 3) and the exports do (``After step 3 of 3``)
        words = self.tr(" {0} / {1} steps done ")
        # a step that raised did not finish: at the end of a pass whose step 2 of 2 raised,
        # 1 of 2 is done (torch's error is shown from there on)
        raised_words = self.tr(" {0} / {1} steps done, step {2} raised ")
        index = self.model.index()
        raised = index.raised_step(k) if index is not None else None
        failing = index is not None and index.error_step is not None
        self._fit_position((words, raised_words) if failing else (words,), n)
        self.position.setText(words.format(k, n) if raised is None else
                              raised_words.format(index.steps_done(k), n, raised))
        self.act_back.setEnabled(k > 0)
        self.act_reset.setEnabled(k > 0)
        self.act_forward.setEnabled(k < n)
        self.act_end.setEnabled(k < n)
        self.act_play.setEnabled(n > 0)
