"""Export from the window: the graph as shown (folds, layout direction) at the step shown,
with the gradients on the edges, through the same drawing as ``gradstep export``."""

from __future__ import annotations

import re

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TRANSLATE_NOOP

from gradstep.drawing.collapse import collapse_scopes
from gradstep.drawing.export import export_graph
from gradstep.drawing.formats import unwritten
from gradstep.step_drawing import drawing_at
from gradstep.ui.qt_settings import settings

EXPORT_FILTER = QT_TRANSLATE_NOOP("QtExportActions", "PNG image (*.png);;SVG image (*.svg);;"
                                  "PDF (*.pdf);;Graphviz DOT (*.dot);;GraphML (*.graphml);;"
                                  "JSON (*.json)")
ANIMATION_FILTER = QT_TRANSLATE_NOOP("QtExportActions", "GIF (*.gif);;Animated PNG (*.apng);;WebP (*.webp)")
SCALES = (1.0, 2.0, 3.0, 4.0)


def with_chosen_suffix(path: str, chosen_filter: str, filters: str) -> str:
    """Return ``path`` ending in a suffix of ``filters`` ("PNG image (*.png);;..."): a name
    typed without one takes the suffix of the filter chosen in the dialog (else the first)."""
    suffixes = re.findall(r"\*(\.\w+)", filters)
    if path.lower().endswith(tuple(suffixes)):
        return path
    chosen = re.findall(r"\*(\.\w+)", chosen_filter or "")
    return path + (chosen[0] if chosen else suffixes[0])


class QtExportActions(QtCore.QObject):
    """File › Export graph, Export animation, PNG scale, Copy image for ``window`` (model,
    graph_view, files)."""

    def __init__(self, window, menu: QtWidgets.QMenu):
        super().__init__(window)
        self.window = window
        self.act_export = menu.addAction("")
        self.act_export.setShortcut(QtGui.QKeySequence("Ctrl+E"))
        self.act_export.triggered.connect(lambda _c=False: self.export_dialog())
        self.act_animation = menu.addAction("")
        self.act_animation.setShortcut(QtGui.QKeySequence("Ctrl+Shift+E"))
        self.act_animation.triggered.connect(lambda _c=False: self.animation_dialog())
        self.scale_menu = menu.addMenu("")
        group = QtGui.QActionGroup(self)
        chosen = self.scale()
        for scale in SCALES:
            action = self.scale_menu.addAction("")
            action.setData(scale)
            action.setCheckable(True)
            action.setChecked(scale == chosen)
            action.triggered.connect(lambda _c=False, s=scale: settings().setValue("png_scale", s))
            group.addAction(action)
        self.act_copy = menu.addAction("")
        self.retranslate()
        # Copy copies the picture when the graph has the focus; the editor keeps Copy for its text
        self.act_copy.setShortcuts(QtGui.QKeySequence.keyBindings(QtGui.QKeySequence.StandardKey.Copy)
                                   + [QtGui.QKeySequence("Ctrl+Shift+C")])
        self.act_copy.triggered.connect(lambda _c=False: self.copy_image())

    def retranslate(self) -> None:
        """Word the File menu's export entries in the language in use."""
        self.act_export.setText(self.tr("&Export graph…"))
        self.act_animation.setText(self.tr("Export &animation…"))
        self.act_animation.setToolTip(self.tr("The pass being stepped as a GIF, APNG or WebP: "
                                              "one frame per step, the gradients on the edges"))
        self.scale_menu.setTitle(self.tr("PNG &scale"))
        for action in self.scale_menu.actions():
            action.setText(self.tr("{0:g}× (pixels per point)").format(action.data()))
        self.act_copy.setText(self.tr("&Copy image"))

    def scale(self) -> float:
        try:
            return float(settings().value("png_scale", 2.0))
        except (TypeError, ValueError):
            return 2.0

    def export_graph(self, path: str) -> None:
        """Write the graph as shown at the step shown to ``path`` (format from the suffix)."""
        window = self.window
        graph, drawing = drawing_at(window.model.graph, window.model.state())
        view = window.graph_view
        if view.collapsed:  # the folds the window shows; boxes take their members' state
            graph = collapse_scopes(graph, view.collapsed)
        export_graph(graph, path, rankdir=view.rankdir, scale=self.scale(), **drawing)

    def export_dialog(self) -> None:
        window = self.window
        if window.model.graph is None:
            window.say(lambda: self.tr("Nothing to export: run a snippet first."))
            return
        filters = self.tr(EXPORT_FILTER)
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            window, self.tr("Export graph"), window.files.last_dir(), filters)
        if not path:
            return
        path = with_chosen_suffix(path, chosen, filters)  # "graph" + PNG chosen: graph.png
        window.files.set_last_dir(path)
        try:
            self.export_graph(path)
        except Exception as exc:  # a failed export is reported, never fatal
            QtWidgets.QMessageBox.warning(window, self.tr("Export failed"), _failed(path, exc))
            return
        window.say(lambda: self.tr("Exported {0}.").format(path))

    def export_animation(self, path: str) -> dict:
        """Write the pass being stepped, one frame per step, as shown (folds, direction)."""
        from gradstep.drawing.qt_animation import write_animation
        from gradstep.qt_step_frames import StepFrames

        window = self.window
        view = window.graph_view
        frames = StepFrames(window.model.graph, window.model.history, window.model.pass_index,
                            rankdir=view.rankdir, collapsed=set(view.collapsed),
                            scale=min(self.scale(), 2.0))
        return write_animation(frames, path)

    def animation_dialog(self) -> None:
        window = self.window
        if window.model.index() is None or not window.model.step_count:
            window.say(lambda: self.tr("No backward pass to animate: run a snippet that calls "
                                       "backward, or press Backward again."))
            return
        filters = self.tr(ANIMATION_FILTER)
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            window, self.tr("Export animation"), window.files.last_dir(), filters)
        if not path:
            return
        path = with_chosen_suffix(path, chosen, filters)  # WebP chosen: .webp, not .gif
        window.files.set_last_dir(path)
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            written = self.export_animation(path)
        except Exception as exc:  # a failed export is reported, never fatal
            QtWidgets.QMessageBox.warning(window, self.tr("Export failed"), _failed(path, exc))
            return
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        window.say(lambda: self.tr("Exported {0}: {1} frames, {2}×{3} pixels.").format(
            path, written["frames"], written["width"], written["height"]))

    def copy_image(self) -> None:
        QtGui.QGuiApplication.clipboard().setImage(
            self.window.graph_view.render_image(self.scale()))
        self.window.say(lambda: self.tr("Graph image copied to the clipboard."))


def _failed(path: str, exc: Exception) -> str:
    """Return the words of a failed export: an OSError (a read-only folder, a full disk) as
    what to fix in the window's language, not the system's English ``[Errno 13] ...``."""
    if isinstance(exc, OSError):
        exc = unwritten(path, exc)
    return f"{path}\n\n{exc}"
