"""Files of the window: open, save (as plain Python), recent files, the title, unsaved edits.

Settings (last folder, recent files) live in ``settings.ini`` beside the autosave.
Opening a file never runs it. Opening another file, an example, or quitting asks
first when the text has edits that are not saved to its file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from gradstep.autograd.snippet import SnippetLoadError, load_snippet, replaced_bytes
from gradstep.drawing.formats import unwritten
from gradstep.examples import get_example, load_example
from gradstep.policies.whole_file import replacing
from gradstep.ui.qt_settings import settings
from gradstep.ui.snippet_file import file_bytes, with_imports

MAX_RECENT = 8


class QtFileActions(QtCore.QObject):
    """Open, save and remember files for ``window`` (which has ``editor`` and a status bar).

    Signals
    -------
    sigFileChanged(str)   the file the text belongs to changed ("" for none)
    """

    sigFileChanged = QtCore.Signal(str)

    def __init__(self, window: QtWidgets.QMainWindow, editor, recent_menu: QtWidgets.QMenu):
        super().__init__(window)
        self.window = window
        self.editor = editor
        self.recent_menu = recent_menu
        self.filename = ""
        self._example_id = ""  # the example whose text was loaded last (its title is the window's)
        self._replaced = False  # the file holds bytes the editor shows as U+FFFD (not UTF-8)
        editor.document().modificationChanged.connect(window.setWindowModified)
        self._update_title()
        self.refresh_recent()

    def retranslate(self) -> None:
        """Word the title again (an example's title, or "untitled") in the language in use."""
        if self._example_id:
            from gradstep.examples import get_example

            self.window.setWindowTitle(f"gradstep — {get_example(self._example_id).shown_title()}[*]")
        else:
            self._update_title()

    # -- the title and unsaved edits ----------------------------------------------------------
    def set_filename(self, path: str) -> None:
        self.filename = path
        self._replaced = bool(path) and replaced_bytes(path)
        self._example_id = ""
        self._update_title()
        self.sigFileChanged.emit(path)

    def _update_title(self) -> None:
        name = Path(self.filename).name if self.filename else self.tr("untitled")
        self.window.setWindowTitle(f"gradstep — {name}[*]")  # [*]: Qt shows * for edits

    def mark_saved(self) -> None:
        self.editor.document().setModified(False)

    def keep_or_discard_edits(self, doing: str, *, untitled_too: bool = True) -> bool:
        """Ask what to do with unsaved edits before ``doing`` (e.g. "opening a file");
        return False when the user cancels. Saves when asked to. ``untitled_too=False``
        (quitting) asks only for a file's edits: untitled text is kept by the autosave."""
        if not self.editor.document().isModified() or not self.editor.toPlainText().strip():
            return True
        if not self.filename and not untitled_too:
            return True
        name = Path(self.filename).name if self.filename else self.tr("the untitled snippet")
        box = QtWidgets.QMessageBox(self.window)
        box.setIcon(QtWidgets.QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Unsaved edits"))
        box.setText(self.tr("{0} has edits that are not saved.").format(name))
        box.setInformativeText(self.tr("Save them before {0}?").format(doing))
        box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Save
                               | QtWidgets.QMessageBox.StandardButton.Discard
                               | QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QtWidgets.QMessageBox.StandardButton.Discard

    # -- open ---------------------------------------------------------------------------------
    def open_file(self, path: str) -> bool:
        """Load ``path`` into the editor without running it; return False when unreadable."""
        try:
            text, _name = load_snippet(path, None)
        except SnippetLoadError as exc:
            if exc.error.get("kind") != "empty":  # an empty file opens: the user writes in it
                err = exc.error
                from gradstep.i18n import localized

                err = localized(err)
                QtWidgets.QMessageBox.warning(
                    self.window, self.tr("Cannot open"),
                    f"{err.get('message', path)}\n\n{err.get('explanation', '')}\n\n"
                    + self.tr("How to fix: {0}").format(err.get("fix", "")).strip())
                return False
            text = ""
        self.set_filename(str(Path(path).resolve()))  # first: the autosave records it with the text
        self.editor.setPlainText(text)
        self.editor.set_error(None)
        self._forget_run()
        self.mark_saved()
        self.remember(self.filename)
        self.window.say(lambda: self.tr("Opened {0} (not run: press Ctrl+Enter).").format(path))
        return True

    def open_dialog(self) -> None:
        if not self.keep_or_discard_edits(self.tr("opening another file")):
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, self.tr("Open snippet"), self.last_dir(),
            self.tr("Python (*.py);;All files (*)"))
        if path:
            self.set_last_dir(path)
            self.open_file(path)

    def open_recent(self, path: str) -> None:
        if self.keep_or_discard_edits(self.tr("opening another file")):
            self.open_file(path)

    # -- save -----------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save the text to its file (Save As when it has none); return True when saved.

        The file gets the imports the snippet uses without writing them (``import torch``,
        ``F``, ``nn``: the window provides them), added to the editor too, so it runs as
        plain Python.
        """
        if not self.filename:
            return self.save_as()

        text, added = with_imports(self.editor.toPlainText())
        data = self._file_bytes(text)
        if data is None:
            return False
        if added:
            cursor = self.editor.textCursor()
            cursor.beginEditBlock()  # one undo step
            cursor.select(cursor.SelectionType.Document)
            cursor.insertText(text)
            cursor.endEditBlock()
        try:
            with replacing(self.filename) as into:  # a full disk leaves the old text whole
                into.write_bytes(data)
        except OSError as exc:  # not saved: said, and the edits kept (quitting waits)
            QtWidgets.QMessageBox.warning(self.window, self.tr("Cannot save"),
                                          str(unwritten(self.filename, exc)))
            return False
        self._replaced = False
        self.mark_saved()
        filename = self.filename
        self.window.say(lambda: self.tr("Saved {0}.").format(filename) + (self.tr(
            " (added {0} so it runs as plain Python)").format("; ".join(added)) if added else ""))
        return True

    def save_as(self) -> bool:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, self.tr("Save snippet"), self.last_dir(), self.tr("Python (*.py)"))
        if not path:
            return False
        self.set_last_dir(path)
        same = str(Path(path).resolve()) == self.filename
        self.set_filename(str(Path(path).resolve()))
        self._replaced = self._replaced and same  # another file: no byte of this one is lost
        self.remember(self.filename)
        return self.save()

    def _file_bytes(self, text: str) -> bytes | None:
        """Return the bytes to save ``text`` as, in the encoding its coding line declares;
        None where the person keeps the file as it is: the encoding has no bytes for a
        character, or the file holds bytes that are not UTF-8 (shown as U+FFFD) and saving
        would write U+FFFD in their place (asked first)."""
        name = Path(self.filename).name
        try:
            data = file_bytes(text)
        except UnicodeEncodeError as exc:
            QtWidgets.QMessageBox.warning(
                self.window, self.tr("Cannot save"),
                self.tr("The coding line of {0} declares {1}, which has no bytes for {2}: "
                        "python could not read it back. Change the coding line to utf-8, or "
                        "remove that character.").format(
                    name, exc.encoding, repr(exc.object[exc.start:exc.end])))
            return None
        if not self._replaced:
            return data
        box = QtWidgets.QMessageBox(self.window)
        box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Bytes that are not UTF-8"))
        box.setText(self.tr("{0} holds bytes that are not UTF-8, in comments (python passes "
                            "over them there). The editor shows each as U+FFFD (the replacement "
                            "character), and saving writes U+FFFD in its place.").format(name))
        box.setInformativeText(self.tr("Save anyway, or cancel and keep the file as it is "
                                       "(Save As writes the text to another file)?"))
        box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Save
                               | QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        return data if box.exec() == QtWidgets.QMessageBox.StandardButton.Save else None

    # -- examples and the autosave --------------------------------------------------------------
    def load_example(self, example_id: str) -> None:
        """Put an example's text in the editor (it is not run); asks about unsaved edits."""
        if not self.keep_or_discard_edits(self.tr("opening an example")):
            return
        self.set_filename("")
        self.editor.setPlainText(load_example(example_id))
        self.editor.set_error(None)
        self._forget_run()
        self.mark_saved()
        root_picker = getattr(self.window, "root_picker", None)
        if root_picker is not None:
            root_picker.forget()  # a new snippet: draw what it computes
        self._example_id = example_id
        self.window.setWindowTitle(f"gradstep — {get_example(example_id).shown_title()}[*]")
        self.window.say(lambda: self.tr("Example loaded (not run: press Ctrl+Enter)."))

    def _forget_run(self) -> None:
        """The last run's graph and panels were another text's: they go (not run yet)."""
        control = getattr(self.window, "control", None)
        if control is not None:
            control.forget_run()

    def restore_text(self, autosave) -> None:
        """Put the autosaved text back (not run); edits its file does not have stay marked."""
        saved = autosave.restore()
        if not saved or not saved["text"]:
            return
        self.set_filename(saved["filename"])
        self.editor.setPlainText(saved["text"])
        self.mark_saved()
        if saved["filename"] and _file_text(saved["filename"]) != saved["text"]:
            self.editor.document().setModified(True)
        self.window.say(lambda: self.tr("Restored your last text (not run)."))

    # -- settings ---------------------------------------------------------------------------------
    def last_dir(self) -> str:
        return str(settings().value("last_dir", str(Path.home())))

    def set_last_dir(self, path: str) -> None:
        settings().setValue("last_dir", str(Path(path).parent))

    def recent_files(self) -> list[str]:
        value = settings().value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def remember(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        settings().setValue("recent", [path] + recent[: MAX_RECENT - 1])
        self.refresh_recent()

    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_recent(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))


def _file_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
