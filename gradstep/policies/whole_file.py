"""Write a file whole or not at all: into a temporary file beside it, then ``os.replace``.

A full disk, an error halfway or a crash leaves the old file as it was (or no file), never
a partial or empty one. What a plain ``open(path, "w")`` does is kept otherwise:

- an existing file keeps its permission bits; a new one gets the umask's, as ``open``'s;
- a symbolic link is written through: its target is replaced and the link stays; a link to
  nothing creates its target, as ``open`` does (its folder must exist);
- a file that is not writable is refused (``EACCES``), as ``open`` refuses it, though its
  folder would let it be replaced;
- a writable file in a folder that makes no new files is written in place, as before;
- what is not a regular file (``/dev/null``, a FIFO) is written in place;
- a file with other hard links, or another owner (a file of someone else's in a shared
  folder, ``/tmp``'s sticky bit; any file under ``sudo``), is written in place, as ``open``
  writes it and as editors (vim's ``backupcopy=auto``) do: a replace would leave the other
  names with the old text, give the file a new owner, or be refused by the sticky folder.

An existing file's ACLs and extended attributes are not carried over: the file is a new
one. A crash (not an error) can leave the hidden temporary file
``.NAME.XXXXXXXX.tmp.SUFFIX`` beside the file; an error removes it. The data is not synced
to the disk before the replace (``fsync``: 3-15 ms a file here, each of ``--frames``' PNGs
too; ``bench/whole_file_ab.py``): a process's crash leaves the old file or the new one,
and ext4 flushes a file renamed over another before the rename (``auto_da_alloc``).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replacing", "target_of", "write_error"]

_IN_PLACE_WHEN = (errno.EACCES, errno.EPERM)  # the folder makes no new files


def target_of(path) -> Path:
    """Return the file that writing ``path`` changes: ``path``, or where its links lead."""
    path = Path(path)
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


@contextmanager
def replacing(path) -> Iterator[Path]:
    """Yield the path to write the whole file ``path`` to: a new temporary file beside it
    (``path`` itself where it must be written in place). When the block ends, the file
    replaces ``path``'s (its link's target); after an error it is removed and the old file
    left as it was. An OSError about the temporary file names ``path``'s file instead."""
    target = target_of(path)
    temp = _temporary(target)
    if temp is None:
        yield target
        return
    try:
        yield temp
        os.replace(temp, target)
    except BaseException as exc:
        _remove(temp)
        if isinstance(exc, OSError) and exc.filename in (str(temp), temp):
            raise _named(exc, target) from exc
        raise


def write_error(path) -> OSError | None:
    """Return the OSError that writing ``path`` through ``replacing`` raises before it writes
    anything (no folder, no permission, a folder by that name), or None; nothing is left
    behind either way."""
    target = target_of(path)
    try:
        temp = _temporary(target)
    except OSError as exc:
        return exc
    if temp is None:  # written in place: can it be opened?
        try:
            with open(target, "ab"):
                pass
        except OSError as exc:
            return exc
    else:
        _remove(temp)
    return None


def _temporary(target: Path) -> Path | None:
    """Return a new empty file beside ``target`` with the mode ``target``'s would have, or
    None where ``target`` is written in place; raise the OSError, naming ``target``, that
    says why neither can be written."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:  # a loop of links, a file where a folder should be
        raise _named(exc, target) from exc
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    if old is not None and _in_place(old):
        return None
    if old is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
    temp = target.with_name(f".{_short(target.stem)}.{secrets.token_hex(4)}.tmp{target.suffix}")
    try:
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask's bits
    except OSError as exc:
        if old is not None and exc.errno in _IN_PLACE_WHEN:
            return None
        raise _named(exc, target) from exc
    try:
        if old is not None:
            os.chmod(handle, stat.S_IMODE(old.st_mode))
    except BaseException:
        os.close(handle)
        _remove(temp)
        raise
    os.close(handle)
    return temp


def _in_place(old: os.stat_result) -> bool:
    """Whether the existing file ``old`` is written in place: not a regular file, one with
    other hard links, or one owned by another user than the one writing (``open`` keeps
    each as it is; a replace would not)."""
    euid = getattr(os, "geteuid", None)  # none on Windows: no owners to keep there
    return (not stat.S_ISREG(old.st_mode) or old.st_nlink > 1
            or (euid is not None and old.st_uid != euid()))


def _short(stem: str, limit: int = 150) -> str:
    """Return ``stem`` cut to at most ``limit`` bytes (a name is at most 255 bytes: a long
    name's temporary file, 20 bytes longer, would be refused where the name is not)."""
    while len(os.fsencode(stem)) > limit:
        stem = stem[:-1]
    return stem


def _named(exc: OSError, target: Path) -> OSError:
    """Return ``exc`` as the same kind of OSError about ``target``."""
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, str(target))


def _remove(temp: Path) -> None:
    try:
        os.unlink(temp)
    except OSError:
        pass
