"""What ``torch.autograd.detect_anomaly`` reports on a snippet: the backward node it names
and the snippet line of the forward call that made that node (torch's own words, parsed).

The snippet is run in this process, in a fresh namespace holding ``torch``, ``nn`` and
``F``, compiled as ``<snippet>`` so torch's forward traceback names its lines; warnings
are recorded, not raised.
"""

from __future__ import annotations

import re
import warnings
from typing import NamedTuple

import torch

_NAMED = re.compile(r"Function '(\w+)' returned nan values in its (\d+)th output")
_LINE = re.compile(r'File "<snippet>", line (\d+)')


class AnomalyReport(NamedTuple):
    """``node``: the node class torch names (None: it raised nothing); ``line``: the last
    snippet line of the forward traceback it printed; ``message``: its error's first line."""

    node: str | None
    line: int | None
    message: str | None


def detect_anomaly_report(source: str) -> AnomalyReport:
    """Return what detect_anomaly says about ``source`` (which calls backward itself)."""
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "__name__": "__main__"}
    message = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.autograd.detect_anomaly():
                exec(compile(source, "<snippet>", "exec"), namespace)
        except RuntimeError as exc:
            message = str(exc).splitlines()[0]
    if message is None:
        return AnomalyReport(None, None, None)
    named = _NAMED.search(message)
    lines = [int(n) for w in caught for n in _LINE.findall(str(w.message))
             if "Error detected in" in str(w.message)]
    return AnomalyReport(named.group(1) if named else None, lines[-1] if lines else None, message)
