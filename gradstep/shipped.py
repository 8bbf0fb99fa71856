"""The files gradstep ships (examples, icon, desktop entry), found with ``importlib.resources``.

They live in the ``gradstep`` package (``gradstep/resources/``), so they travel
inside the wheel and are found the same way in an installed copy and in a
source tree. Pure: no Qt, no torch.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PACKAGE = "gradstep"
ICON = "icons/gradstep.svg"
DESKTOP_ENTRY = "gradstep.desktop"


def resource(relative: str = "") -> Traversable:
    """Return the shipped file or folder at ``relative`` below ``gradstep/resources``.

    For a package on disk (any pip install) this is a ``pathlib.Path``.
    """
    folder = files(PACKAGE) / "resources"
    return folder / relative if relative else folder
