"""The name ``python FILE`` gives a script's code: what its frames, warnings and
tracebacks show (``co_filename``), and its ``__file__``.

Python makes a relative ``FILE`` absolute by joining it to the current folder as typed
(``..`` kept: ``python ../s.py`` in ``/a/b`` is ``/a/b/../s.py``); only ``sys.argv[0]``
keeps the name as typed. The kernel compiles the snippet under this name, and whoever
looks for the snippet's frames (in a traceback, a faulthandler dump) looks for it.
"""

from __future__ import annotations

import os


def script_path(filename: str) -> str:
    """Return the name of ``filename``'s code; a ``<...>`` name (no file) unchanged."""
    if filename.startswith("<") or os.path.isabs(filename):
        return filename
    return os.path.join(os.getcwd(), filename)
