"""How a tensor's numbers are written where a learner compares them with what the snippet
printed: as torch prints them (``torch_fixed``: four decimals), else 4 significant digits.
Pure: the autograd core (formulas) and the drawing (boxes, edges) write numbers alike."""

from __future__ import annotations

from gradstep.policies.strict_json import INFINITY, MINUS_INFINITY, NAN

TORCH_WORDS = {NAN: "nan", INFINITY: "inf", MINUS_INFINITY: "-inf"}  # strict JSON -> print


def torch_fixed(numbers) -> bool:
    """Return True when torch prints the floats of ``numbers`` (one tensor's) with four
    decimals (``tensor([0.1440, -0.0828])``, ``tensor(1.1019)``), so they are written
    that way here too, as the snippet's ``print`` shows them: not all whole numbers, and
    the non-zero finite ones between 1e-4 and 1e4 within a factor 1000 (torch's
    scientific-notation rule, with 1e4 for its 1e8 to keep boxes narrow: bigger numbers
    keep 4 significant digits)."""
    low = high = 0.0
    whole = True
    for x in numbers:
        if type(x) is not float or not x or x - x != 0:  # not a float, zero, NaN or ±inf
            continue
        if x < 0:
            x = -x
        if whole and not x.is_integer():
            whole = False
        if not low or x < low:
            low = x
        if x > high:
            high = x
    return not whole and low >= 1e-4 and high < 1e4 and high <= 1000 * low


def fixed_one(x: float) -> bool:
    """``torch_fixed((x,))`` for one float, quicker (a box per node of a big graph)."""
    size = x if x > 0 else -x
    return 1e-4 <= size < 1e4 and not size.is_integer()


def float_text(x: float, fixed: bool) -> str:
    """Return a float of a formula's value as text: four decimals where torch prints its
    tensor with four (``fixed``), a whole number as ``2.0`` (as torch prints it), else 4
    significant digits."""
    if fixed:
        return f"{x:.4f}"
    if x.is_integer() and abs(x) < 1e6:
        return f"{x:.1f}"
    return f"{x:.4g}"
