"""Merge the node values the oracle's watching mechanisms saw, and cross-check them.

Two watched runs give node values (``{node id: {output_nr: summary}}``): the
trace-function run (``oracle_observe``, with its saved-tensor reads) and the
``TorchFunctionMode`` run (``oracle_record``). Each one is used only when its
run equals the plain one (``oracle.py``). A value from either counts; where both
have one they must agree (``same_value``: shape, dtype, NaN/Inf counts exactly;
statistics and small tensors' data to 1e-6 relative), else the node is a
*disagreement*: an oracle bug, reported by the conformance tests and kept out of
the merged values (neither source can be trusted for that node).
"""

from __future__ import annotations

import math

RELATIVE = 1e-6
_EXACT = ("shape", "dtype", "nan", "inf")
_STATS = ("min", "max", "mean", "std")
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def merge(sources: dict) -> tuple[dict, dict, list]:
    """Merge ``{source name: {node id: {output_nr: summary}}}``.

    Return ``(values, origin, disagreements)``: the merged values, ``{node id:
    {output_nr: [source names]}}`` (which sources saw each value) and one sentence
    per node output where two sources disagree.
    """
    values: dict = {}
    origin: dict = {}
    disagreements: list = []
    dropped: set = set()
    for name, seen in sources.items():
        for node_id, outputs in seen.items():
            for output_nr, value in outputs.items():
                key = (node_id, output_nr)
                if key in dropped:
                    continue
                known = values.get(node_id, {}).get(output_nr)
                if known is None:
                    values.setdefault(node_id, {})[output_nr] = value
                    origin.setdefault(node_id, {})[output_nr] = [name]
                    continue
                difference = value_difference(known, value)
                if difference:
                    first = origin[node_id][output_nr][0]
                    disagreements.append(f"{node_id} output {output_nr}: {first} and {name} "
                                         f"disagree ({difference})")
                    dropped.add(key)
                    del values[node_id][output_nr]
                    del origin[node_id][output_nr]
                else:
                    origin[node_id][output_nr].append(name)
    return values, origin, disagreements


def same_value(a: dict, b: dict) -> bool:
    return not value_difference(a, b)


def value_difference(a: dict, b: dict) -> str:
    """Return how two summaries differ ("" when they agree to ``RELATIVE``)."""
    for key in _EXACT:
        if a.get(key) != b.get(key):
            return f"{key} {a.get(key)} vs {b.get(key)}"
    for key in _STATS:
        if not _close(a.get(key), b.get(key)):
            return f"{key} {a.get(key)!r} vs {b.get(key)!r}"
    if ("data" in a) != ("data" in b):
        return "data known to one only"
    if "data" in a and not _same_data(a["data"], b["data"]):
        return "data differs"
    return ""


def _same_data(a, b) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_same_data(x, y) for x, y in zip(a, b)))
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, int) and isinstance(b, int):
        return a == b and type(a) is type(b)
    return _close(a, b)


def _close(a, b) -> bool:
    a = _NONFINITE.get(a, a) if isinstance(a, str) else a
    b = _NONFINITE.get(b, b) if isinstance(b, str) else b
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= RELATIVE * max(abs(a), abs(b))
