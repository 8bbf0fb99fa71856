"""many_two_decimals: numpy's numbers byte for byte as ``f"{x:.2f}"`` (via two_decimals)."""

import math
import random
import struct

import numpy as np

from gradstep.drawing.svg_numbers import many_two_decimals, two_decimals


def plain(x: float) -> str:
    """The oracle: two decimals, trailing zeros and point stripped, minus zero as 0."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-", "-0") else "0"


def read(matrix) -> list[str]:
    return [bytes(row).replace(b"\0", b"").decode("ascii") for row in matrix]


def tricky() -> list[float]:
    rng = random.Random(7)
    values = [0.0, -0.0, 3.0, -3.0, 12.5, 12.50000001, 0.005, 0.015, -0.004, -0.005, 1e-9,
              -1e-9, 99.995, 100.0, 1e16, -2.5e7, 9514174.58, 5e-324, -5e-324, 1e300, -1e300,
              math.inf, -math.inf, math.nan, 2.0 ** 52, 2.0 ** 47 + 0.5, 1e13 + 0.125]
    values += [rng.uniform(-1e6, 1e6) for _ in range(20000)]
    values += [rng.uniform(-1, 1) for _ in range(20000)]
    values += [rng.uniform(-1e12, 1e12) for _ in range(5000)]
    values += [round(rng.uniform(-500, 500), 2) for _ in range(20000)]  # many end in 0
    values += [rng.randint(-4000, 4000) / 8 for _ in range(5000)]  # exact ties: 0.125, 0.375
    values += [rng.randint(-10 ** 7, 10 ** 7) / 200 for _ in range(20000)]  # x.xx5 as near as binary gets
    for tie in (0.125, 0.375, 0.625, 0.875, 2.675, 1.005, -1.005, 1234567.895):
        bits = struct.unpack("<q", struct.pack("<d", tie))[0]
        values += [struct.unpack("<d", struct.pack("<q", bits + d))[0] for d in range(-3, 4)]
    values += [rng.uniform(-1e7, 1e7) + rng.randint(0, 99) / 100 for _ in range(20000)]
    return values


def test_many_numbers_read_as_one_at_a_time():
    values = tricky()
    assert read(many_two_decimals(values)) == [plain(x) for x in values]
    assert [two_decimals(x) for x in values] == [plain(x) for x in values]


def test_arithmetic_in_numpy_gives_pythons_floats():
    # The writer computes coordinates in numpy: the same IEEE operations as Python's.
    rng = random.Random(3)
    xs = [rng.uniform(-1e5, 1e5) for _ in range(5000)]
    a = np.array(xs)
    assert ((a + 14.0 + a + 139.00000000000006) / 2).tolist() == [(x + 14.0 + x + 139.00000000000006) / 2 for x in xs]
    assert (a + 3.5000000000000004).tolist() == [x + 3.5000000000000004 for x in xs]


def test_no_numbers_and_small_arrays():
    assert many_two_decimals([]).shape[0] == 0
    assert read(many_two_decimals([0.5])) == ["0.5"]
    assert read(many_two_decimals(np.array([[1.0, -2.25]]))) == ["1", "-2.25"]
