"""Where the window keeps its settings (layout, last folder, recent files).

In the user's config folder, ``$XDG_CONFIG_HOME/gradstep/settings.ini`` (normally
``~/.config/gradstep/settings.ini``), the place desktop programs keep settings;
the autosaved text stays in the data folder (``qt_autosave.state_dir``).
Older gradstep versions kept ``settings.ini`` beside the autosave: it is moved
once, the first time the window opens. ``$GRADSTEP_STATE_DIR`` puts both in one
folder (tests, a portable copy).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PySide6 import QtCore

from gradstep.ui.qt_autosave import STATE_ENV, state_dir

APP_FOLDER = "gradstep"
SETTINGS_FILE = "settings.ini"


def config_dir() -> Path:
    """Return the folder for gradstep's settings ($GRADSTEP_STATE_DIR, else the config folder).

    The generic config location plus ``gradstep`` rather than AppConfigLocation,
    which would add the organisation name too (``~/.config/gradstep/gradstep``)
    and change with whatever names the QApplication was given.
    """
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    base = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / APP_FOLDER


def settings_path() -> Path:
    """Return the settings file's path."""
    return config_dir() / SETTINGS_FILE


def settings() -> QtCore.QSettings:
    """Return the window's settings, an INI file at ``settings_path()``."""
    return QtCore.QSettings(str(settings_path()), QtCore.QSettings.Format.IniFormat)


def migrate_old_settings() -> Path | None:
    """Move settings an older gradstep kept in the data folder to the config folder.

    Returns the old file's path when it was moved, else None (nothing to move,
    the new file exists already, or the move failed: the window then starts
    with default settings and the old file stays where it was).
    """
    new, old = settings_path(), state_dir() / SETTINGS_FILE
    if new.exists() or not old.is_file() or old.resolve() == new.resolve():
        return None
    try:
        new.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(old), str(new))
    except OSError:
        return None
    return old
