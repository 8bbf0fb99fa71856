"""Can a window open here? (Pure: the command line and the Python API ask before starting Qt.)"""

from __future__ import annotations

import os
import sys

from gradstep.i18n import N_, _

NO_WINDOW = 2  # the exit status of `gradstep gui` where no window can open
HEADLESS_FIX = N_("run gradstep from a desktop session, or set QT_QPA_PLATFORM=offscreen to "
                  "run without showing a window (trace, backward and export need no display)")


def display_problem(env=os.environ, platform: str = sys.platform) -> str:
    """Return one line saying why no window can open here, or '' when one may."""
    if platform == "darwin" or env.get("QT_QPA_PLATFORM"):
        return ""
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return ""
    return _("gradstep: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are "
             "unset); {fix}", fix=_(HEADLESS_FIX))
