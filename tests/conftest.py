import os
import sys
from pathlib import Path

# Qt aborts the whole run when there is no display; draw offscreen instead.
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The suite reads gradstep's English words; a test that wants another language says so
# (gradstep.i18n reads LANGUAGE first, as gettext does).
os.environ["LANGUAGE"] = "en"

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# PySide6 6.12 on Python 3.11 drops a reference to None on every void Qt call and
# aborts after a few thousand ("none_dealloc"); see gradstep/none_guard.py
from gradstep.none_guard import protect_none  # noqa: E402

protect_none()
