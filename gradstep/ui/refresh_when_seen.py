"""Panels that do no work while nobody can see them."""

from __future__ import annotations


class RefreshWhenSeen:
    """Mixin for a side panel whose dock may be a tab behind another.

    Connect model changes to ``refresh``; implement ``_redraw`` (draw from the
    model). While the window says the panel cannot be seen (``set_seen(False)``,
    from its dock's ``visibilityChanged``), a change only marks it stale, and it
    is drawn once when shown again: stepping costs nothing for a hidden panel.
    """

    _seen = True
    _stale = True

    def set_seen(self, seen: bool) -> None:
        """Say whether the panel can be seen; on becoming seen, draw what changed meanwhile."""
        self._seen = seen
        if seen and self._stale:
            self.refresh()

    def refresh(self, *_args) -> None:
        """Draw from the model now, or when next seen."""
        if not self._seen:
            self._stale = True
            return
        self._stale = False
        self._redraw()

    def _redraw(self) -> None:
        raise NotImplementedError
