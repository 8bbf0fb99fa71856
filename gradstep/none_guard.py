"""Keep None, True and False alive under PySide6 6.12 on Python 3.11.

PySide6 6.12.0 returns None from every void method without taking a reference
(``label.setText("x")`` lowers ``sys.getrefcount(None)`` by one). Python 3.12+
makes None immortal so nothing happens there, but on 3.11 the count reaches
zero after a few thousand Qt calls and the process aborts with
"none_dealloc: deallocating None" (the same happens to True and False:
"bool_dealloc"). We add a large number of references once; each stolen
reference is then harmless.
"""

from __future__ import annotations

import ctypes
import sys

_EXTRA_REFERENCES = 1 << 40  # ~10^12 void calls before it could matter
_applied = False


def protect_none() -> bool:
    """Raise the reference counts of None, True and False on CPython < 3.12; return True
    when it was applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object
        ctypes.c_ssize_t.from_address(id(obj)).value += _EXTRA_REFERENCES
    _applied = True
    return True
