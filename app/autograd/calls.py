"""Record the backward calls a snippet makes itself (placeholder: records nothing yet;
the backward work replaces it with the real recorder, see docs/internals.md)."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def capture_backward_calls(filename: str = "<snippet>"):
    """Yield the list that collects one record per backward call of the snippet."""
    calls: list[dict] = []
    yield calls
