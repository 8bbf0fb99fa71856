"""What a script printed, made comparable: the traceback split off, addresses blanked.

``python CASE`` ends a failing run with Python's traceback; gradstep reports the
exception instead of printing one. ``split_traceback(text)`` returns the text
before the traceback (chained tracebacks included) and the exception's type and
message from its last lines. ``normalize(text)`` blanks object addresses
(``<SumBackward0 object at 0x7f...>``), which differ between any two runs.
"""

from __future__ import annotations

import re

HEADER = "Traceback (most recent call last):\n"
CHAIN_SEPARATORS = (
    "\nDuring handling of the above exception, another exception occurred:\n\n",
    "\nThe above exception was the direct cause of the following exception:\n\n",
)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def normalize(text: str) -> str:
    """Return ``text`` with object addresses blanked."""
    return _ADDRESS.sub(" at 0x…", text)


def split_traceback(text: str) -> tuple[str, dict | None]:
    """Return ``(text before the final traceback, {"type", "message"} or None)``.

    The final traceback is the last ``Traceback (most recent call last):`` block
    that runs to the end of the text, together with the tracebacks chained in
    front of it. Its exception line is the first line after the frames (lines
    indented by two or more spaces); everything after it is the message.
    """
    start = _last_header(text, len(text))
    if start < 0:
        return text, None
    exception = _exception_of(text[start + len(HEADER):])
    while True:
        before = text[:start]
        separator = next((s for s in CHAIN_SEPARATORS if before.endswith(s)), None)
        if separator is None:
            break
        previous = _last_header(text, start - len(separator))
        if previous < 0:
            break
        start = previous
    return text[:start], exception


def _last_header(text: str, end: int) -> int:
    """Return the index of the last traceback header before ``end`` that starts a line."""
    index = text.rfind(HEADER, 0, end)
    while index > 0 and text[index - 1] != "\n":
        index = text.rfind(HEADER, 0, index)
    return index


def _exception_of(block: str) -> dict | None:
    lines = block.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("  ") or not line:
            continue
        rest = "\n".join([line, *lines[i + 1:]]).rstrip("\n")
        kind, _, message = rest.partition(": ")
        if ":" not in line:  # "KeyboardInterrupt" alone, no message
            kind, message = rest, ""
        return {"type": kind.strip(), "message": message}
    return None
