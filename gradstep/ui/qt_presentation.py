"""The graph alone on the whole screen: View › Full screen graph (F11) and View ›
Presentation mode (Shift+F5, as "present from here" in slide programs; F5 runs).

Both hide the editor, the panels, the toolbars, the menu and the status bar and show the
window full screen with the graph fitted to it; Esc (or the same key again) brings
everything back as it was. Presentation mode also steps with the keys a presenter's
clicker sends — → ↓ Space Page Down forward, ← ↑ Backspace Page Up back, Home to the
start, End to the end — and writes under the graph, in large text, which step it is,
the node about to run and its formula (the caption of ``gradstep export -o pass.gif``).
The caption takes at most ``CAPTION_SHARE`` of the screen's height: a longer one (torch's
whole message after a step that raised, ~half a 1024x768 screen at 150%) is cut after its
last whole word that fits, with "…" and a line that says how to see the rest; Enter or a
click on the caption shows it whole, and again brings the short one back (so does the next
step).
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from gradstep.ui.qt_mark_font import with_marks

CAPTION_SCALE = 1.8  # the caption's text, times the window's font
CAPTION_SHARE = 0.3  # of the window's height, the most the caption takes until asked for more
WHOLE_SHARE = 0.8  # ... and asked (Enter, a click): the graph keeps a strip above it
PRESENT_MAX_SCALE = 4.0  # a small graph fills the screen in a presentation
FORWARD_KEYS = ("Right", "Down", "Space", "PgDown")
BACK_KEYS = ("Left", "Up", "Backspace", "PgUp")


class QtPresentation(QtCore.QObject):
    """Full screen graph and presentation mode for ``window`` (a QtMainWindow).

    Signals
    -------
    sigModeChanged(str)   "" (normal), "fullscreen" or "presentation"
    """

    sigModeChanged = QtCore.Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.mode = ""
        self._saved: dict = {}
        self.act_fullscreen = self._action(QT_TR_NOOP("&Full screen graph"), ["F11"],
                                           lambda: self.toggle("fullscreen"), checkable=True)
        self.act_present = self._action(QT_TR_NOOP("&Presentation mode"), ["Shift+F5"],
                                        lambda: self.toggle("presentation"), checkable=True)
        window.texts.set(self.act_present.setToolTip, QT_TR_NOOP(
            "The graph on the whole screen; → or Space steps forward, ← back, Esc leaves"))
        self.act_leave = self._action(QT_TR_NOOP("Leave full screen"), ["Esc"], self.leave)
        model = window.model
        self.step_actions = [
            self._action(QT_TR_NOOP("Next step"), FORWARD_KEYS, model.step_forward),
            self._action(QT_TR_NOOP("Previous step"), BACK_KEYS, model.step_back),
            self._action(QT_TR_NOOP("First step"), ["Home"], model.reset_steps),
            self._action(QT_TR_NOOP("Last step"), ["End"], model.run_to_end),
            self._action(QT_TR_NOOP("The caption whole or short"), ["Return", "Enter"],
                         self.toggle_whole_message),
        ]
        self._enable_keys()
        self.caption = QtWidgets.QLabel(window)
        self.caption.setObjectName("presentation_caption")
        self.caption.setWordWrap(True)
        self.caption.setAutoFillBackground(True)
        self.caption.setMargin(12)
        self.caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.caption.installEventFilter(self)  # a click shows it whole, or short again
        self.caption.hide()
        self._lines: list[str] = []  # the caption's plain lines, in the language shown
        self._whole = False  # shown whole though taller than CAPTION_SHARE (Enter, a click)
        self._cut = False  # the caption shown leaves part of its lines out
        for signal in (model.sigStepChanged, model.sigTimelineChanged, model.sigTraceChanged):
            signal.connect(self._on_step)

    def _action(self, text: str, keys, slot, checkable: bool = False) -> QtGui.QAction:
        """Return an action on the window itself: its keys work while the menus are hidden.
        ``text`` is a ``QT_TR_NOOP`` text: it follows View › Language."""
        action = QtGui.QAction(self.window)
        self.window.texts.set(action.setText, text)
        action.setShortcuts([QtGui.QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        return action

    def _enable_keys(self) -> None:
        """Plain keys (arrows, Space, Esc) are the editor's except while the graph is alone."""
        self.act_leave.setEnabled(bool(self.mode))
        for action in self.step_actions:
            action.setEnabled(self.mode == "presentation")

    # -- modes ---------------------------------------------------------------------------------
    def toggle(self, mode: str) -> None:
        """Enter ``mode`` ("fullscreen" or "presentation"), or leave it when it is on."""
        if self.mode == mode:
            self.leave()
        else:
            self.enter(mode)

    def enter(self, mode: str) -> None:
        """Show the graph alone, full screen (``mode``: "fullscreen" or "presentation")."""
        window = self.window
        if self.mode:
            self.leave()
        self._saved = {"state": window.saveState(), "geometry": window.saveGeometry(),
                       "window_state": window.windowState(),
                       "transform": window.graph_view.transform(),
                       "refit": window.graph_view.refit_on_resize,  # put back with the transform
                       "hidden": [w for w in self._chrome() if w.isVisible()]}
        for widget in self._saved["hidden"]:
            widget.hide()
        self.mode = mode
        self.act_fullscreen.setChecked(mode == "fullscreen")
        self.act_present.setChecked(mode == "presentation")
        self._enable_keys()
        # only while the graph is alone: a Python filter on every event of the window makes a
        # garbage collection on the GUI thread likely while a session runs on its worker thread
        window.installEventFilter(self)
        window.showFullScreen()
        window.graph_view.setFocus()
        self._update_caption()
        QtCore.QTimer.singleShot(0, self._fit)  # once the window has its full-screen size
        self.sigModeChanged.emit(mode)

    def leave(self) -> None:
        """Bring the editor, panels, toolbars and menus back as they were."""
        if not self.mode:
            return
        window, saved = self.window, self._saved
        self.mode = ""
        window.removeEventFilter(self)
        self.caption.hide()
        self.act_fullscreen.setChecked(False)
        self.act_present.setChecked(False)
        self._enable_keys()
        window.graph_view.setViewportMargins(0, 0, 0, 0)
        states = QtCore.Qt.WindowState
        if saved["window_state"] & states.WindowFullScreen:
            pass  # it was full screen before: it stays so
        elif saved["window_state"] & states.WindowMaximized:
            window.showMaximized()
        else:
            window.showNormal()
            window.restoreGeometry(saved["geometry"])
        for widget in saved["hidden"]:
            widget.show()
        window.restoreState(saved["state"])
        window.graph_view.setTransform(saved["transform"])
        window.graph_view.refit_on_resize = saved["refit"]  # not the presentation's fit
        self.sigModeChanged.emit("")

    def _chrome(self) -> list[QtWidgets.QWidget]:
        """Return everything but the graph: editor, docks, toolbars, menu bar, status bar."""
        window = self.window  # named, not found: see QtFontZoom.own_font_widgets
        widgets: list[QtWidgets.QWidget] = [window.editor, window.menuBar(), window.statusBar(),
                                            window.run_bar, window.step_bar]
        widgets += list(window.docks.values())
        banner = getattr(getattr(window, "diagnose_view", None), "banner_bar", None)
        return widgets + ([banner] if banner is not None else [])

    def _fit(self) -> None:
        if self.mode:
            self._place_caption()
            self.window.graph_view.fit_to_window(
                PRESENT_MAX_SCALE if self.mode == "presentation" else 1.5)

    # -- the caption -----------------------------------------------------------------------------
    def caption_text(self) -> list[str]:
        """Return the caption's lines: the step, the node about to run, its formula."""
        from gradstep.drawing.step_caption import caption_lines

        model = self.window.model
        index = model.index()
        if model.graph is None:
            return [self.tr("Run a snippet (leave with Esc, then Ctrl+Enter)."), ""]
        if index is None:  # (a pass with no step is one: the caption says why, as the export's)
            return [self.tr("No backward pass to step through yet."), ""]
        return caption_lines(model.graph, index, model.step)

    def retranslate(self) -> None:
        """Word the caption again in the language now in use (View › Language)."""
        self._update_caption()

    def held_back(self) -> bool:
        """Return whether the caption shown leaves part of its text out (Enter shows it)."""
        return self.mode == "presentation" and self._cut

    def toggle_whole_message(self) -> None:
        """Show the caption whole (torch's whole message), or short again."""
        if self.mode == "presentation" and (self._cut or self._whole):
            self._whole = not self._whole
            self._place_caption()

    def _on_step(self, *_args) -> None:
        self._whole = False  # another step's caption: short again
        self._update_caption()

    def _update_caption(self, *_args) -> None:
        if self.mode != "presentation":
            return
        self._lines = [line for line in self.caption_text() if line]
        font = QtGui.QFont(self.window.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * CAPTION_SCALE)
        self.caption.setFont(font)
        palette = self.caption.palette()
        palette.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor(255, 255, 255, 235))
        palette.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor("#1a1a1a"))
        self.caption.setPalette(palette)
        self._place_caption()
        self.caption.show()
        self.caption.raise_()

    def _caption_html(self, lines: list[str], hint: str = "") -> str:
        """Return the caption's rich text: ``lines`` (the first in bold), then ``hint``."""
        # (the formulas of a node's inputs stand three spaces apart, as in the GIF's caption:
        # rich text would fold them into one, "…dims ∂L/∂γ = …" read as one formula)
        escaped = [html.escape(line).replace("   ", "&nbsp;&nbsp; ") for line in lines]
        rows = [f"<b>{line}</b>" for line in escaped[:1]] + escaped[1:]
        if hint:
            rows.append(f"<small><i>{html.escape(hint)}</i></small>")
        return with_marks("<br>".join(rows), self.caption.font())  # x̂ whole (qt_mark_font)

    def _hint(self, whole: bool) -> str:
        """Return the line under a caption that is cut (or shown whole though long)."""
        if whole:
            return self.tr("Enter or a click on this caption shows it short again")
        return self.tr("Enter or a click on this caption shows the rest")

    def _short_lines(self, width: int, room: int) -> list[str]:
        """Return the caption's lines (taller than ``room`` px whole) cut after the most words
        with which it is at most ``room`` px high at ``width`` (the first word at least), "…"
        after the last."""
        label = self.caption
        words = [line.split(" ") for line in self._lines]
        hint = self._hint(whole=False)

        def cut(count: int) -> list[str]:
            kept: list[str] = []
            for line in words:
                if count <= 0:
                    break
                kept.append(" ".join(line[:count]))
                count -= len(line)
            kept[-1] = kept[-1].rstrip(" ,;:") + "…"
            return kept

        low, high = 1, sum(len(line) for line in words) - 1  # words kept: low fits (or is 1)
        while low < high:
            middle = (low + high + 1) // 2
            label.setText(self._caption_html(cut(middle), hint))
            if label.heightForWidth(width) <= room:
                low = middle
            else:
                high = middle - 1
        return cut(low)

    def _place_caption(self) -> None:
        if self.mode != "presentation":
            return
        window, label = self.window, self.caption
        width, room = window.width(), int(window.height() * CAPTION_SHARE)
        label.setText(self._caption_html(self._lines))
        long = label.heightForWidth(width) > room  # cut, but where asked whole (no cut sought)
        self._cut = long and not self._whole
        if long:
            label.setText(self._caption_html(
                self._lines if self._whole else self._short_lines(width, room),
                self._hint(self._whole)))
        label.setCursor(QtCore.Qt.CursorShape.PointingHandCursor if long
                        else QtCore.Qt.CursorShape.ArrowCursor)
        height = min(label.heightForWidth(width), int(window.height() * WHOLE_SHARE))
        label.setGeometry(0, window.height() - height, width, height)
        window.graph_view.setViewportMargins(0, 0, 0, height)  # the graph stays above it

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QtCore.QEvent.Type.Resize and self.mode:
            QtCore.QTimer.singleShot(0, self._fit)
        elif (watched is self.caption and event.type() == QtCore.QEvent.Type.MouseButtonRelease
              and event.button() == QtCore.Qt.MouseButton.LeftButton):
            self.toggle_whole_message()
            return True
        return False
