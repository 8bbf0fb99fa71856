"""Coordinates as the SVG writes them (two decimals, no trailing zeros), one or many at once.

``two_decimals`` writes one number; ``many_two_decimals`` writes a whole array of them
with numpy, byte for byte the same: a 100,000-node picture has ~2.25 M numbers, and one
``f"{x:.2f}"`` each took ~1 s of its ~2.5 s.

Each number of ``many_two_decimals`` is a row of a byte matrix, NUL (``\\0``) where a
shorter number has no character; the writer drops every NUL before the file (no text it
writes can hold one: ``svg_rows.escaped`` turns control characters into spaces).

Exactness: Python rounds the exact binary value to two decimals (half to even at exact
ties, e.g. 0.125 -> 0.12). ``x * 100`` in floating point is off by at most half an ulp,
so where it lies clearly on one side of a half-integer, rounding it gives Python's
digits; the few numbers within that error of a half-integer (exact ties among them),
the non-finite and the huge ones are written by ``two_decimals`` itself.
"""

from __future__ import annotations

import numpy as np

_HUGE = 2.0 ** 50  # |x * 100| from here on: written one by one
_SLACK = 2.0 ** -50  # how near a half-integer counts as a tie, relative to |x * 100|
_NEAR = 2.0 ** -40  # and absolutely (p - floor(p) can round for small negative p)


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
    with np.errstate(invalid="ignore", over="ignore"):
        p = v * 100.0
        size = np.abs(p)
        below = np.floor(p)
        frac = p - below
        ok = (size < _HUGE) & (np.abs(frac - 0.5) > size * _SLACK + _NEAR)
    hundredths = np.where(ok, below + (frac > 0.5), 0.0)
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
