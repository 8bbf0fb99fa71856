"""The window's language: Qt's translators, View › Language, and texts that follow a switch.

The language is ``gradstep.i18n.language()``: the choice made in View › Language
(kept in the settings as ``language``; empty or missing: follow the system locale),
else the locale environment. ``apply_language`` installs gradstep's own ``.qm``
(``gradstep/resources/translations``) and Qt's (``qtbase_<code>.qm``: the buttons of
Qt's own dialogs) and sets the same language for the pure catalogue (errors,
examples, findings). Installing a translator makes Qt send ``LanguageChange`` to
every widget; widgets keep their static texts in a ``LiveTexts`` and set them again
then, and redraw their dynamic ones. The snippet, the graph and the step stay.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui
from PySide6.QtCore import QT_TR_NOOP

from gradstep import i18n
from gradstep.ui.qt_settings import settings
from gradstep.ui.words import tr as translate

SETTING = "language"
_installed: list[QtCore.QTranslator] = []




class LiveTexts:
    """Texts set through a setter from a ``QT_TR_NOOP`` source, set again on a switch.

    ``texts.set(label.setText, QT_TR_NOOP("Values"))``; ``args`` fill ``{0}``, ``{1}``...
    """

    def __init__(self) -> None:
        self._items: list[tuple] = []

    def set(self, setter, source: str, *args) -> str:
        self._items.append((setter, source, args))
        text = translate(source).format(*args) if args else translate(source)
        setter(text)
        return text

    def retranslate(self) -> None:
        alive = []
        for setter, source, args in self._items:
            try:
                setter(translate(source).format(*args) if args else translate(source))
            except RuntimeError:  # its widget was deleted (a menu rebuilt): forget it
                continue
            alive.append((setter, source, args))
        self._items = alive


def saved_choice() -> str | None:
    """Return the language chosen in View › Language (None: follow the system)."""
    value = settings().value(SETTING, "")
    return value if isinstance(value, str) and value in i18n.LANGUAGES else None


def remember_choice(code: str | None) -> None:
    settings().setValue(SETTING, code or "")


def apply_language(code: str | None) -> str:
    """Use language ``code`` (None: the system's) in the pure catalogue and in Qt; return
    the code now in use. Widgets hear of it through ``LanguageChange``."""
    from gradstep.shipped import resource

    i18n.set_language(code)
    used = i18n.language()
    app = QtCore.QCoreApplication.instance()
    if app is None:
        return used
    removed = bool(_installed)
    for old in _installed:
        app.removeTranslator(old)  # each removal sends LanguageChange
    _installed.clear()
    if used != i18n.ENGLISH:
        ours = QtCore.QTranslator(app)
        if ours.load(f"gradstep_{used}.qm", str(resource("translations"))):
            _installed.append(ours)
        qt_own = QtCore.QTranslator(app)
        qt_folder = QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.TranslationsPath)
        if qt_own.load(f"qtbase_{used}.qm", qt_folder):
            _installed.append(qt_own)
        for translator in _installed:
            app.installTranslator(translator)
    elif not removed:  # English, nothing installed or removed: widgets must still hear of it
        QtCore.QCoreApplication.sendEvent(app, QtCore.QEvent(QtCore.QEvent.Type.LanguageChange))
    QtCore.QLocale.setDefault(QtCore.QLocale(used if used != i18n.ENGLISH else "en_US"))
    return used


def build_language_menu(window, view_menu) -> None:
    """Add View › Language: System, then each language under its own name (checkable)."""
    menu = view_menu.addMenu("")
    window.texts.set(menu.setTitle, QT_TR_NOOP("&Language"))
    group = QtGui.QActionGroup(menu)
    chosen = saved_choice()
    entries = [(None, "")] + [(code, name) for code, name in i18n.LANGUAGES.items()]
    for code, name in entries:
        action = menu.addAction(name)
        if code is None:
            window.texts.set(action.setText, QT_TR_NOOP("System ({0})"),
                             i18n.LANGUAGES[i18n.system_language()])
        action.setCheckable(True)
        action.setChecked(code == chosen)
        action.setData(code or "")
        group.addAction(action)
        action.triggered.connect(lambda _c=False, c=code: window.set_language(c))
    window.language_menu = menu
