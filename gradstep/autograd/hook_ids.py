"""gradstep's hook handles take their ids from a range of their own.

torch numbers every hook handle from one counter (``RemovableHandle.next_id``), the
snippet's and gradstep's alike: gradstep's two module hooks and its step hooks (two per
node of each recorded pass) moved it on, so a snippet's ``handle.id`` and the keys of
``module._forward_hooks`` read ``2`` and ``15`` where python prints ``0`` and ``1``.
Handles made inside ``own_ids()`` are numbered from far above any id a program reaches
(each id still used once), and the counter is as it was afterwards. An id is a key in one
hook dict; torch never orders hooks by it (dicts keep the order they were added in).
"""

from __future__ import annotations

import threading

from torch.utils.hooks import RemovableHandle

_FIRST = 1 << 62  # gradstep's ids; a program's own stay far below


class _Counter:
    next_id = _FIRST
    depth = 0  # blocks open (on the thread holding the lock): only the outermost switches
    # one thread at a time: two threads' passes would each save the other's range as the
    # program's counter (reentrant: a finalizer run inside a block may record a pass)
    lock = threading.RLock()


class own_ids:
    """Within the block, new hook handles take gradstep's ids (a class: it runs per pass)."""

    __slots__ = ("saved",)

    def __enter__(self):
        _Counter.lock.acquire()
        _Counter.depth += 1
        self.saved = getattr(RemovableHandle, "next_id", None) if _Counter.depth == 1 else None
        if self.saved is not None:
            RemovableHandle.next_id = _Counter.next_id
        return self

    def __exit__(self, *exc_info):
        try:
            if self.saved is not None:
                _Counter.next_id = RemovableHandle.next_id
                RemovableHandle.next_id = self.saved
        finally:
            _Counter.depth -= 1
            _Counter.lock.release()
