"""One paint of the window a step: the window's paint held while the step is handed round
its observers, then made once, for all of them (docs/speed.md item 85).

Qt paints a window at once where a graphics scene hands its changed items to its views
(``QGraphicsScene``'s ``_q_processDirtyItems`` sends the window's pending update request
there and then): the graph view's scene in the step (``QtGraphView.flush_updates``), then
each of the Values panel's plots (pyqtgraph scenes) as its layouts settle, in turns of the
event loop. A step on the wide DAG painted the window ~4 times, the Values panel's labels
and plots ~5 times each. Held, the same widgets end where they would have, painted once.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

_UPDATE = QtCore.QEvent.Type.UpdateRequest
_LAYOUT = QtCore.QEvent.Type.LayoutRequest
_CALL = QtCore.QEvent.Type.MetaCall
SETTLE_PASSES = 3  # a layout that moves a plot posts its scene's work and its own layout
HOLD = True  # False: each scene paints the window when it hands its items on (main's way before
# item 85; bench/one_paint_ab.py times both)


class QtOnePaint(QtCore.QObject):
    """Holds ``window``'s paint from ``hold`` to ``release`` (connect ``hold`` to the model's
    step signal before the graph follower, ``release`` after every panel).

    ``release`` first delivers what the observers posted that would change the picture in
    the next turns of the event loop: the layouts asked for (Qt's, and pyqtgraph's, which are
    the same event) and the graphics scenes' queued work (their changed items handed to their
    views), a few passes, as a layout moves a plot and the plot's layout follows; then it
    paints what is dirty, once. A release left out (a slot that raised) is made at the next
    turn of the event loop: the window is never left unpainted."""

    def __init__(self, window: QtWidgets.QWidget):
        super().__init__(window)
        self.window = window
        self._held = False
        self._asked = False  # an update request arrived while held
        self._views: list | None = None  # the window's graphics views, found once (~0.6 ms)
        window.installEventFilter(self)

    def hold(self, *_args) -> None:
        if HOLD and not self._held:
            self._held = True
            QtCore.QTimer.singleShot(0, self, self.release)

    def release(self, *_args) -> None:
        if not self._held:
            return
        if self._views is None:  # (the graph view and the Values panel's plots; a view made
            # later paints in its own turn, as before)
            self._views = self.window.findChildren(QtWidgets.QGraphicsView)
        scenes = [scene for scene in (view.scene() for view in self._views) if scene is not None]
        for _ in range(SETTLE_PASSES):
            QtCore.QCoreApplication.sendPostedEvents(None, _LAYOUT)
            for scene in scenes:
                QtCore.QCoreApplication.sendPostedEvents(scene, _CALL)
        self._held = False
        if self._asked:
            self._asked = False
            QtCore.QCoreApplication.sendEvent(self.window, QtCore.QEvent(_UPDATE))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if self._held and watched is self.window and event.type() == _UPDATE:
            self._asked = True
            return True  # (painted by release)
        return False
