"""The file formats gradstep draws to, by extension, the margin around a picture, and the
sizes a picture can be written at (``shown_size``; ``ExportError`` says why not).

Kept apart from the writers so that the command line and the Python API can check an
output name without importing networkx, numpy or Qt.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from gradstep.i18n import lazy, render
from gradstep.policies.whole_file import write_error

PICTURE_FORMATS = (".png", ".svg", ".pdf")
FILE_FORMATS = (".dot", ".gv", ".graphml", ".json")  # graph files
TEXT_FORMATS = (".svg", *FILE_FORMATS)  # written without Qt (``drawing.files``)
MARGIN = 16.0  # around a picture's drawing, in scene units (SVG, PNG, PDF)


class ExportError(ValueError):
    """The output path or the options cannot be used; the message says how to fix it.

    ``message`` is a ``gradstep.i18n.lazy`` message (kept as ``.message``, worded again
    where it is shown: the command line's error in the person's language) or plain text;
    ``str()`` is it worded in the language now set."""

    def __init__(self, message):
        self.message = message
        super().__init__(render(message))


def shown_size(width: float, height: float, size: float) -> tuple[float, float]:
    """Return a picture's ``width`` and ``height`` shown ``size`` times (an SVG's, a PDF's
    page: ``--scale``); raise ExportError where they cannot be written, not finite (``inf``
    in the SVG) or under a hundredth (``0``: nothing shown)."""
    shown = (width * size, height * size)
    if not all(0.005 <= v < float("inf") for v in shown):
        raise ExportError(lazy("--scale {scale}: the picture would be {width} by {height}; use "
                               "a scale such as 2", scale=f"{size:g}", width=f"{shown[0]:.3g}",
                               height=f"{shown[1]:.3g}"))
    return shown


_NO_FOLDER = (errno.ENOENT, errno.ENOTDIR)
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
_FULL = (errno.ENOSPC, errno.EDQUOT)


def unwritten(path, exc: OSError | None = None) -> ExportError:
    """Return the ExportError saying why ``path`` could not be written, from ``exc`` (the
    OSError the write raised) or, where a writer only said it failed (Qt's), from trying to
    make the file (``whole_file.write_error``): the folder missing or not writable, a folder
    by that name, the disk full, else the system's own reason. The probe leaves nothing
    behind."""
    if exc is None:
        exc = write_error(path)
    path = Path(getattr(exc, "filename", None) or path)  # a link's target: the file written
    folder = str(path.parent)
    code = getattr(exc, "errno", None)
    blocking = file_in_the_way(path.parent) if code in _NO_FOLDER else None
    if blocking is not None:
        return ExportError(lazy("could not write {path}: {file} is a file, not a folder; write "
                                "into a folder", path=str(path), file=str(blocking)))
    if code in _NO_FOLDER and not os.path.isdir(folder):
        return ExportError(lazy("could not write {path}: the folder {folder} does not exist; "
                                "create it first", path=str(path), folder=folder))
    if (code in (errno.EACCES, errno.EPERM) and os.path.isfile(path)
            and os.access(folder, os.W_OK)):  # the file is read-only, not its folder
        return ExportError(lazy("could not write {path}: the file is not writable (read-only, "
                                "or no permission); make it writable or name another file",
                                path=str(path)))
    if code in _NOT_WRITABLE or code in _NO_FOLDER:  # /proc: a folder that makes no files
        return ExportError(lazy("could not write {path}: the folder {folder} is not writable "
                                "(no permission, or read-only); write into another folder",
                                path=str(path), folder=folder))
    if code == errno.EISDIR:
        return ExportError(lazy("could not write {path}: it is a folder; name a file in it "
                                "(e.g. {example})", path=str(path),
                                example=str(path / f"graph{path.suffix or '.svg'}")))
    if code in _FULL:
        return ExportError(lazy("could not write {path}: the disk is full; free some space or "
                                "write into another folder", path=str(path)))
    reason = exc.strerror if exc is not None and exc.strerror else None
    if reason:
        return ExportError(lazy("could not write {path}: {reason}", path=str(path),
                                reason=reason))
    return ExportError(lazy("could not write {path}: is the folder writable?", path=str(path)))


def file_in_the_way(folder: Path) -> Path | None:
    """Return the nearest of ``folder`` and the folders above it that exists, where it is not
    a folder (``-o snippet.py/graph.json``), else None."""
    for above in (folder, *folder.parents):
        if os.path.lexists(above):
            return None if os.path.isdir(above) else above
    return None


def check_writable(path) -> None:
    """Raise ``unwritten``'s ExportError where ``path`` cannot be opened for writing (before
    a picture is drawn: Qt's writers only say they failed, and a PDF's said nothing)."""
    exc = write_error(path)
    if exc is not None:
        raise unwritten(path, exc)
