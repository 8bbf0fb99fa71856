"""A bounded buffer for what a snippet prints: the first bytes, the last bytes, a count of the rest."""

from __future__ import annotations


class BoundedOutput:
    """Keeps at most ``limit`` bytes of a stream: most from its start, a little from its end.

    A snippet that prints 30 MB costs ``limit`` bytes here, not 30 MB; ``text()``
    says how many bytes were dropped in between.
    """

    def __init__(self, limit: int) -> None:
        self.tail_limit = max(256, limit // 5)
        self.head_limit = max(256, limit - self.tail_limit)
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    @property
    def total(self) -> int:
        """Return how many bytes were written in all."""
        return len(self.head) + len(self.tail) + self.dropped

    def write(self, data: bytes) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        excess = len(self.tail) - self.tail_limit
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def text(self) -> str:
        """Return the kept output as text, with a note where bytes were dropped."""
        head = self.head.decode("utf-8", errors="replace")
        tail = self.tail.decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        note = f"\n... {self.dropped} bytes of output dropped (output is capped; see README 'Limits') ...\n"
        return head + note + tail
