"""How much of what a snippet prints gradstep keeps: one rule for every layer.

The rule: of a limit, keep the first 80 % and the last 20 % (the start says what the
snippet did first, the end how it finished) and write a note in between saying how much
was dropped. A snippet that prints 30 MB costs the limit, not 30 MB.

Who applies it, with which limit:

- the kernel's client (``kernel.client``) to the bytes a kernel process prints, while
  it drains them: ``CappedBytes``, ``GRADSTEP_OUTPUT_LIMIT`` (``kernel.limits``, 100 KiB);
- an in-process ``Session`` (``autograd.runner``) to what the snippet writes to
  ``sys.stdout``/``sys.stderr``: ``CappedText``, ``IN_PROCESS_LIMIT`` characters;
- the window's Output panel (``ui.qt_output_panel``) to the text it shows: ``cap_text``,
  with a limit on lines too (a text widget slows down on very many lines).
"""

from __future__ import annotations

import io

HEAD_SHARE = 0.8
IN_PROCESS_LIMIT = 1_000_000  # characters an in-process run keeps


def head_and_tail(limit: int) -> tuple[int, int]:
    """Return how many of ``limit`` units the start and the end keep (80 % and 20 %)."""
    head = int(limit * HEAD_SHARE)
    return head, max(0, limit - head)


def dropped_note(count: int, unit: str) -> str:
    """Return the note written where ``count`` bytes (or characters, lines) were dropped, in
    English (``gradstep.i18n.output_note.worded_note`` words it in the person's language:
    callers that may translate pass it as ``note``)."""
    return f"\n... {count} {unit} of output dropped (output is capped; see README 'Limits') ...\n"


class _Capped:
    """Keeps at most ``limit`` units of a stream written piece by piece: the first
    ``head`` units whole, and the last ``tail`` units (trimmed now and then, so writing
    stays linear however small the pieces)."""

    unit = "bytes"
    empty: str | bytes = b""

    def __init__(self, limit: int, note=dropped_note) -> None:
        self.note = note  # note(count, unit) -> the text written where output was dropped
        self.head_limit, self.tail_limit = head_and_tail(limit)
        self._head: list = []
        self._head_size = 0
        self._tail: list = []
        self._tail_size = 0
        self.dropped = 0

    @property
    def total(self) -> int:
        """Return how many units were written in all."""
        return self._head_size + self._tail_size + self.dropped

    def _add(self, data) -> None:
        room = self.head_limit - self._head_size
        if room > 0:
            kept = data[:room]
            self._head.append(kept)
            self._head_size += len(kept)
            data = data[room:]
        if not data:
            return
        self._tail.append(data)
        self._tail_size += len(data)
        if self._tail_size > 2 * self.tail_limit + 65536:
            self._trim()

    def _trim(self) -> None:
        joined = self.empty.join(self._tail)
        excess = max(0, len(joined) - self.tail_limit)
        self.dropped += excess
        self._tail = [joined[excess:]]
        self._tail_size = len(joined) - excess

    def kept(self):
        """Return ``(head, tail)``: what was kept of the start and of the end."""
        self._trim()
        return self.empty.join(self._head), self._tail[0]

    def text(self) -> str:
        """Return the kept output as text, with the note where some was dropped."""
        head, tail = self.kept()
        if isinstance(head, bytes):
            head = head.decode("utf-8", errors="replace")
            tail = tail.decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        return head + self.note(self.dropped, self.unit) + tail


class CappedBytes(_Capped):
    """What a process prints, as bytes read from its pipe (``write(data)``; ``text()``)."""

    unit = "bytes"
    empty = b""

    def write(self, data: bytes) -> None:
        self._add(bytes(data))


class CappedText(_Capped, io.TextIOBase):
    """A text stream for ``sys.stdout``/``sys.stderr`` that keeps the capped text
    (``getvalue()``)."""

    unit = "characters"
    empty = ""

    def __init__(self, limit: int = IN_PROCESS_LIMIT, note=dropped_note) -> None:
        _Capped.__init__(self, limit, note)
        io.TextIOBase.__init__(self)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._add(text)
        return len(text)

    def getvalue(self) -> str:
        return self.text()


def cap_text(text: str, limit: int, *, max_lines: int | None = None, note=dropped_note) -> str:
    """Return ``text`` capped by the rule to ``limit`` characters and, when given,
    ``max_lines`` lines (the first 80 % and the last 20 % of each); ``note(count, unit)``
    writes what was dropped."""
    head, tail = head_and_tail(limit)
    start, end = head, len(text) - tail  # what lies between is dropped
    if max_lines is not None:
        head_lines, tail_lines = head_and_tail(max_lines)
        start = min(start, _after_lines(text, head_lines))
        end = max(end, _before_last_lines(text, tail_lines))
    if start >= end:
        return text
    return text[:start] + note(end - start, "characters") + text[end:]


def _after_lines(text: str, count: int) -> int:
    """Return the index just after the first ``count`` lines of ``text``."""
    at = 0
    for _ in range(count):
        found = text.find("\n", at)
        if found < 0:
            return len(text)
        at = found + 1
    return at


def _before_last_lines(text: str, count: int) -> int:
    """Return the index where the last ``count`` lines of ``text`` start."""
    at = len(text)
    for _ in range(count):
        found = text.rfind("\n", 0, at - 1 if at > 0 else 0)
        if found < 0:
            return 0
        at = found + 1
    return at
