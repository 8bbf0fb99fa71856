"""``python -m gradstep``: the same as the ``gradstep`` command."""

import sys
from pathlib import Path


def _own_modules_first() -> None:
    """Put the folder holding gradstep first on ``sys.path``.

    ``-m`` puts the current folder first, and until ``app`` moves under this
    package a user's own ``app/`` there (a Flask/FastAPI layout) would be
    imported instead of gradstep's. This process never runs user code (the
    kernel does, with its own ``sys.path``), so nothing else changes.
    """
    root = str(Path(__file__).resolve().parents[1])
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)


_own_modules_first()

from app.cli import main  # noqa: E402  (after the path fix above)

raise SystemExit(main())
