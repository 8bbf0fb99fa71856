"""Coordinates as the SVG writes them (two decimals, no trailing zeros), one or many at once.

``two_decimals`` writes one number; ``many_two_decimals`` writes a whole array of them
with numpy, byte for byte the same: a 100,000-node picture has ~2.25 M numbers, and one
``f"{x:.2f}"`` each took ~1 s of its ~2.5 s.

Each number of ``many_two_decimals`` is a row of a byte matrix, NUL (``\\0``) where a
shorter number has no character; the writer drops every NUL before the file (no text it
writes can hold one: ``svg_rows.escaped`` turns control characters into spaces).

Exactness: Python rounds the exact binary value to two decimals (half to even at exact
ties, e.g. 0.125 -> 0.12, 0.375 -> 0.38: layouts have many such eighths). Here
``|x| * 100`` is taken as a double ``p`` plus its exact rounding error ``e`` (Dekker's
product: ``|x|`` split in two halves of 26 bits, each times 100 exact), so whether the
exact product lies above, below or on a half-integer is decided exactly, ties to even;
the non-finite and the huge (``|x| * 100`` from 2**52) are written by ``two_decimals``.
"""

from __future__ import annotations

import numpy as np

_HUGE = 2.0 ** 52  # |x * 100| from here on: written one by one
_SPLIT = 2.0 ** 27 + 1  # Veltkamp's splitter for 53-bit doubles
_CHUNK = 1 << 16  # numbers at a time: ~15 temporary arrays of 0.5 MB, in the CPU's caches


def two_decimals(x: float) -> str:
    """A coordinate to two decimals, without trailing zeros (``12.5``, ``3``, ``0``)."""
    text = f"{x:.2f}"
    if text[-1] != "0":  # most coordinates: nothing to strip
        return text
    text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-", "-0") else "0"


def many_two_decimals(values) -> np.ndarray:
    """Return an ``(n, width)`` uint8 matrix: row i is ``two_decimals(values[i])`` in ASCII,
    with NUL bytes in between (drop them to read it)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if len(v) <= _CHUNK:
        return _two_decimals(v)
    parts = [_two_decimals(v[start:start + _CHUNK]) for start in range(0, len(v), _CHUNK)]
    out = np.zeros((len(v), max(part.shape[1] for part in parts)), np.uint8)
    for start, part in zip(range(0, len(v), _CHUNK), parts):
        out[start:start + len(part), :part.shape[1]] = part
    return out


def _two_decimals(v: np.ndarray) -> np.ndarray:
    """``many_two_decimals`` of a few numbers (a chunk: its temporary arrays stay small)."""
    with np.errstate(invalid="ignore", over="ignore"):
        size = np.abs(v)
        p = size * 100.0
        ok = p < _HUGE  # False for inf and nan too
        size = np.where(ok, size, 0.0)
        p = np.where(ok, p, 0.0)
    spread = size * _SPLIT
    high = spread - (spread - size)
    error = (high * 100.0 - p) + (size - high) * 100.0  # |x| * 100 == p + error, exactly
    below = np.floor(p)
    half = (p - below) - 0.5  # exact wherever it is near 0
    up = (half > -error) | ((half == -error) & (below % 2 == 1))
    hundredths = below + up
    hundredths = np.where(v < 0, -hundredths, hundredths)
    rest = np.abs(hundredths).astype(np.int64)
    cents = rest % 100
    rest //= 100
    digits = len(str(int(rest.max()))) if len(v) else 1
    # One row per character (contiguous work), turned round at the end: the sign, the
    # whole part (NUL before its first digit), the point and the cents (NUL for zeros).
    out = np.empty((digits + 4, len(v)), np.uint8)
    out[0] = hundredths < 0
    out[0] *= _MINUS
    some = cents != 0
    out[digits + 1] = some
    out[digits + 1] *= _POINT
    out[digits + 2] = _TENS[cents]
    out[digits + 2] *= some
    out[digits + 3] = _ONES[cents]
    out[digits + 3] *= cents % 10 != 0
    for row in range(digits, 0, -2):  # the whole part two digits at a time, units first
        above = rest // 100
        pair = rest - above * 100
        out[row] = _ONES[pair]
        if row < digits:
            out[row] *= rest >= 1
        if row > 1:
            out[row - 1] = _TENS[pair]
            out[row - 1] *= rest >= 10
        rest = above
    out = np.ascontiguousarray(out.T)
    odd = np.flatnonzero(~ok)
    if len(odd):
        texts = [two_decimals(float(v[i])).encode("ascii") for i in odd]
        wide = max(map(len, texts))
        if wide > out.shape[1]:
            out = np.concatenate([out, np.zeros((len(v), wide - out.shape[1]), np.uint8)], axis=1)
        out[odd] = 0
        for i, text in zip(odd.tolist(), texts):
            out[i, :len(text)] = np.frombuffer(text, np.uint8)
    return out


_MINUS, _POINT = ord("-"), ord(".")
_TENS = np.array([ord("0") + i // 10 for i in range(100)], np.uint8)  # of 0..99
_ONES = np.array([ord("0") + i % 10 for i in range(100)], np.uint8)
