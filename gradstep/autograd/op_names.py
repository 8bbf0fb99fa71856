"""The op a node class is named after: ``MulBackward0`` -> ``mul``, ``Log1PBackward0`` ->
``log1p`` (pure: no torch).

torch names a node class by ``str.title()`` of each ``_`` part of its op (``log1p`` ->
``Log1P``, ``max_pool2d_with_indices`` -> ``MaxPool2DWithIndices``): a capital right after
a digit is title()'s, not the start of a word, so it joins the word before it; ``Loss`` is
the one word torch's ops start after a digit (``smooth_l1_loss`` -> ``SmoothL1Loss``)."""

from __future__ import annotations

import re

_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")
_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[0-9])(?=Loss)")


def op_name(name: str) -> str:
    """Return the op of a node class name, in snake case: ``MseLossBackward0`` -> ``mse_loss``,
    ``MaxPool2DWithIndicesBackward0`` -> ``max_pool2d_with_indices`` (a custom Function
    ``BadBackward`` -> ``bad``)."""
    base = _BACKWARD_SUFFIX.sub("", name) or name
    return _WORD_START.sub("_", base).lower()
